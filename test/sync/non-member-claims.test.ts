/**
 * What a peer no member here claims (its hello's feed rows, its status heads) is kept apart from the members' claim
 * budget, bounded per peer, and makes it no pull source of made-up feeds; once the ACL admits it, what it showed is
 * learnt and pulled at once. (Review I, defect 2: ten identities that knew only the genesis, as every invite token
 * carries, filled the budget of all peers with made-up feeds, each within its own share so nobody was charged; an
 * honest member's hello that came next was not kept, and its feeds were never pulled in that session. A non-member's
 * hello of 40,000 rows also drew 383 wants to it.) Review M2: a non-member is asked for seq 0 of its own feed, its join.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage, encodeMessage, FEEDS_PER_MESSAGE_MAX } from '../../src/codec/index.ts'
import type { Entry, FeedRow } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica
const entriesOf = (r: SpaceReplica): number => r.vector().reduce((n, row) => n + row.count, 0)

test('non-members filling the claim budget of all peers do not stop a node from pulling an honest member', () => {
  const o = seededKey('nmc1', 'owner')
  const b = seededKey('nmc1', 'b')
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'nmc1', T0)
  origin.append(o, { t: 'acl.grant', member: b.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  for (let i = 0; i < 20; i++) origin.append(o, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 10 + i)
  const storeB = new MemoryStore()
  SpaceReplica.adopt(storeB, [origin.genesis.bytes, origin.genesis.sig])

  const wire = new Wire(T0 + 10_000)
  const O = wire.add(o, store)
  const B = wire.add(b, storeB)
  const genesis: [Uint8Array, Uint8Array] = [origin.genesis.bytes, origin.genesis.sig]
  const head = new Uint8Array(32).fill(3)
  const strangers = Array.from({ length: 10 }, (_, s) => authorKeyOf(seededKey('nmc1', `stranger${s}`).publicKey))
  let misbehaviour = 0
  let wantsToStrangers = 0
  strangers.forEach((x, s) => {
    assert.ok(B.engine.connect(x, wire.nowMs))
    const row = (i: number): FeedRow => {
      const a = new Uint8Array(32).fill(0x40 + s)
      new DataView(a.buffer).setUint32(0, i)
      return { author: a, epoch: 1, count: 1, head, frozen: false }
    }
    // 50,000 made-up feeds each (CLAIMS_PER_PEER_MAX), in two hellos: ten of them held the budget of all peers.
    for (const [from, n] of [[0, FEEDS_PER_MESSAGE_MAX], [FEEDS_PER_MESSAGE_MAX, 50_000 - FEEDS_PER_MESSAGE_MAX]]) {
      const feeds = Array.from({ length: n as number }, (_, i) => row((from as number) + i))
      B.engine.receive(x, encodeMessage({ m: 'hello', spaces: [{ genesis, feeds, statuses: [] }] }), wire.nowMs)
    }
    wantsToStrangers += B.engine.drain().filter(out => out.type === 'want').length
    misbehaviour += B.engine.events().filter(e => e.type === 'misbehaviour').length
  })
  assert.equal(misbehaviour, 0, 'nobody charged: an honest member whose grant we lack may show as much')
  assert.equal(wantsToStrangers, 0, 'a made-up feed of a non-member draws no want')
  assert.ok(B.engine.holdings().claims <= 10 * 2_048, `the strangers hold ${B.engine.holdings().claims} claims`)

  wire.connect(O, B) // O's hello: its own feed, which B lacks
  assert.equal(entriesOf(replicaOf(B)), entriesOf(origin), 'B holds every entry of the honest member')
})

/**
 * O's space, where O granted B (reader) and W (writer) and `write` adds more; W holds it all (O's store), B holds O's
 * feed up to its own grant only: W is no member in B's ACL. Connected on a fresh wire.
 */
function grantBehind (seed: string, write: (origin: SpaceReplica, o: KeyPair, w: KeyPair) => void):
{ origin: SpaceReplica, wire: Wire, W: Peer, B: Peer } {
  const [o, b, w] = ['owner', 'b', 'w'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  const from = { epoch: 0, seq: 0 }
  const grantB = origin.append(o, { t: 'acl.grant', member: b.publicKey, role: 'reader', from }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from }, T0 + 2)
  write(origin, o, w)
  const storeB = new MemoryStore()
  SpaceReplica.adopt(storeB, [origin.genesis.bytes, origin.genesis.sig])
  SpaceReplica.open(storeB, origin.key).ingestRun([[grantB.bytes, grantB.sig]], 'test', T0 + 3)
  const wire = new Wire(T0 + 10_000)
  const W = wire.add(w, store)
  const B = wire.add(b, storeB)
  assert.equal(replicaOf(B).acl.currentRole(W.name), null)
  wire.connect(W, B)
  assert.equal(replicaOf(B).acl.currentRole(W.name), 'writer', 'W\'s grant, pulled from W')
  return { origin, wire, W, B }
}

test('a member whose grant we lack is pulled from: what our ACL covers first, then, admitted, its own feed', () => {
  const { origin, B } = grantBehind('nmc2', (origin, _, w) => {
    for (let i = 0; i < 5; i++) origin.append(w, { t: 'kv.put', key: `w${i}`, value: i }, T0 + 10 + i)
  })
  assert.equal(entriesOf(replicaOf(B)), entriesOf(origin), 'and W\'s own feed, without W writing again')
  assert.equal(B.events.filter(e => e.type === 'misbehaviour').length, 0)
})

test('a node that lacks a member\'s redeemed join admits it from the member itself (its issuer away)', () => {
  const [o, c, j, inv] = ['owner', 'c', 'j', 'inv'].map(n => seededKey('nmc5', n)) as
    [KeyPair, KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'nmc5', T0)
  const grantC = origin.append(o, { t: 'acl.grant', member: c.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } },
    T0 + 1)
  const invite: Entry = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses: 1,
    expiresMs: T0 + 1e9 }, T0 + 2)
  const wire = new Wire(T0 + 10)
  const fresh = (k: KeyPair): Peer => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return wire.add(k, s)
  }
  const O = wire.add(o, store)
  const J = fresh(j)
  replicaOf(J).join(j, invite.id, inv, wire.nowMs)
  wire.connect(J, O)
  assert.equal(replicaOf(O).localRole(J.name), 'writer', 'O redeemed J\'s join')
  J.engine.append(replicaOf(J).key, { t: 'kv.put', key: 'j', value: 1 }, wire.nowMs)
  wire.flush()
  // O goes away; J no longer presents its join (redeemed). C holds O's feed up to its own grant: J is no member there.
  O.engine.disconnect(J.name, wire.nowMs)
  J.engine.disconnect(O.name, wire.nowMs)
  const C = fresh(c)
  replicaOf(C).ingestRun([[grantC.bytes, grantC.sig]], 'test', wire.nowMs)
  wire.connect(C, J)
  assert.equal(replicaOf(C).acl.currentRole(J.name), 'writer', 'O\'s redemption and J\'s join, both pulled of J')
  assert.equal(replicaOf(C).kvGet('j')?.value, 1, 'and what J wrote')
  assert.equal(replicaOf(C).viewHash(), replicaOf(J).viewHash())
})

test('a non-member is asked for seq 0 of its own feeds (it may be its join), one entry; never of made-up ones', () => {
  const [o, b, x] = ['owner', 'b', 'x'].map(n => seededKey('nmc6', n)) as [KeyPair, KeyPair, KeyPair]
  const origin = SpaceReplica.create(new MemoryStore(), o, 'nmc6', T0)
  const storeB = new MemoryStore()
  SpaceReplica.adopt(storeB, [origin.genesis.bytes, origin.genesis.sig])
  const wire = new Wire(T0 + 10)
  const B = wire.add(b, storeB)
  const xName = authorKeyOf(x.publicKey)
  assert.ok(B.engine.connect(xName, wire.nowMs))
  B.engine.drain()
  const head = new Uint8Array(32).fill(3)
  const feeds: FeedRow[] = [
    { author: x.publicKey, epoch: 7, count: 40, head, frozen: false },
    { author: new Uint8Array(32).fill(9), epoch: 0, count: 40, head, frozen: false }
  ]
  const genesis: [Uint8Array, Uint8Array] = [origin.genesis.bytes, origin.genesis.sig]
  B.engine.receive(xName, encodeMessage({ m: 'hello', spaces: [{ genesis, feeds, statuses: [] }] }), wire.nowMs)
  const wants = B.engine.drain().filter(m => m.type === 'want').map(m => decodeMessage(m.bytes))
  const ranges = wants.flatMap(m => m.m === 'want' ? m.ranges : [])
  assert.deepEqual(ranges.map(r => [authorKeyOf(r.author), r.epoch, r.from, r.to]), [[xName, 7, 0, 1]])
})

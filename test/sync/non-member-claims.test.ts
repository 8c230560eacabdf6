/**
 * Peers that are members of none of our spaces fill at most STRANGER_CLAIMS_MAX of the claim budget of all peers
 * (claims.ts), so the rest is left to members. (Review I, defect 2: ten identities that knew only the genesis, as
 * every invite token carries, filled the budget of all peers with made-up feeds, each within its own share so nobody
 * was charged; an honest member's hello that came next was not kept, and its feeds were never pulled in that
 * session.) A peer no member here stays a pull source: it may be a member whose grant we lack (second case; keeping
 * non-members' claims apart, an earlier fix, left such nodes unconverged: reviews M and N).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, FEEDS_PER_MESSAGE_MAX } from '../../src/codec/index.ts'
import { STRANGER_CLAIMS_MAX } from '../../src/sync/claims.ts'
import type { FeedRow } from '../../src/codec/index.ts'
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
    B.engine.drain()
    misbehaviour += B.engine.events().filter(e => e.type === 'misbehaviour').length
  })
  assert.equal(misbehaviour, 0, 'nobody charged: an honest member whose grant we lack may show as much')
  assert.ok(B.engine.holdings().claims <= STRANGER_CLAIMS_MAX, `the strangers hold ${B.engine.holdings().claims} claims`)

  wire.connect(O, B) // O's hello: its own feed, which B lacks
  assert.equal(entriesOf(replicaOf(B)), entriesOf(origin), 'B holds every entry of the honest member')
})

test('a member whose grant we lack is pulled from: what our ACL covers first, then, admitted, its own feed', () => {
  const [o, b, w] = ['owner', 'b', 'w'].map(n => seededKey('nmc2', n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'nmc2', T0)
  const from = { epoch: 0, seq: 0 }
  const grantB = origin.append(o, { t: 'acl.grant', member: b.publicKey, role: 'reader', from }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from }, T0 + 2)
  for (let i = 0; i < 5; i++) origin.append(w, { t: 'kv.put', key: `w${i}`, value: i }, T0 + 10 + i)
  // B holds the owner's feed up to its own grant: W is no member in its ACL.
  const storeB = new MemoryStore()
  SpaceReplica.adopt(storeB, [origin.genesis.bytes, origin.genesis.sig])
  SpaceReplica.open(storeB, origin.key).ingestRun([[grantB.bytes, grantB.sig]], 'test', T0 + 3)

  const wire = new Wire(T0 + 10_000)
  const W = wire.add(w, store) // W holds it all (the origin's store)
  const B = wire.add(b, storeB)
  assert.equal(replicaOf(B).acl.currentRole(W.name), null)
  wire.connect(W, B)
  assert.equal(replicaOf(B).acl.currentRole(W.name), 'writer', 'W\'s grant, pulled from W')
  assert.equal(entriesOf(replicaOf(B)), entriesOf(origin), 'and W\'s own feed, without W writing again')
  assert.equal(B.events.filter(e => e.type === 'misbehaviour').length, 0)
})

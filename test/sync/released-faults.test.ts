/**
 * Entries a peer sent that had to wait (a join whose invite was not held
 * yet, a clock ahead of ours, a feed no grant covered yet) and turn out
 * invalid once let through are charged to the peer that sent them, as they
 * would have been had they needed no wait; never to the peer, or the local
 * write, whose entries let them through; a run let out that does not link
 * to what was stored since is probed of its sender, which proves the fork.
 * (Noticed in a review: the reject and the divergence of anything let out of
 * pending were dropped, so a forged join or a clock regression cost its
 * sender nothing once it had been made to wait, and two branches of a feed
 * could stay unproven.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

function adopted (origin: SpaceReplica): MemoryStore {
  const s = new MemoryStore()
  SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
  return s
}

/** Who `p` charged, with the reasons. */
function charged (p: Peer): { peer: string, reason: string }[] {
  return p.events.flatMap(e => e.type === 'misbehaviour' ? [{ peer: e.peer, reason: e.reason }] : [])
}

/** An owner and a writer A it granted, not connected yet (A holds the genesis only). */
function ownerAndMember (seed: string): { wire: Wire, O: Peer, A: Peer, origin: SpaceReplica, keys: Record<string, KeyPair> } {
  const keys = Object.fromEntries(['owner', 'a', 'j', 'inv', 'forger'].map(n => [n, seededKey(seed, n)])) as Record<string, KeyPair>
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, keys.owner as KeyPair, seed, T0)
  origin.append(keys.owner as KeyPair, { t: 'acl.grant', member: (keys.a as KeyPair).publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  const wire = new Wire(T0 + 10)
  return { wire, O: wire.add(keys.owner as KeyPair, store), A: wire.add(keys.a as KeyPair, adopted(origin)), origin, keys }
}

describe('entries let out of pending, found invalid', () => {
  test('a join with a forged proof, held by a member for want of its invite, is charged to the joiner, not to the issuer whose invite let it through', () => {
    const { wire, O, A, origin, keys } = ownerAndMember('rf1')
    // The invite is made after A's copy of the owner's feed: A has never seen it.
    const invite = O.engine.append(replicaOf(O).key, { t: 'invite', key: (keys.inv as KeyPair).publicKey, role: 'reader', uses: 1, expiresMs: T0 + 1e9 }, wire.nowMs)
    // The joiner names the invite but countersigns its join with a key of its own, not the invite's.
    const J = wire.add(keys.j as KeyPair, adopted(origin))
    replicaOf(J).join(keys.j as KeyPair, invite.id, keys.forger as KeyPair, T0 + 5)
    wire.connect(J, A)
    assert.deepEqual(charged(A), [], 'A cannot judge the proof yet: it holds the join pending')
    wire.connect(A, O)
    wire.flush()
    const ownerFeed = (p: Peer): unknown => replicaOf(p).vector().find(r => r.author.every((b, i) => b === O.keyPair.publicKey[i]))
    assert.deepEqual(ownerFeed(A), ownerFeed(O), 'A holds the owner\'s feed, the invite with it')
    assert.equal(replicaOf(A).acl.currentRole(J.name), null)
    const byA = charged(A)
    assert.deepEqual(byA.map(c => c.peer), [J.name], 'the joiner is charged, once, and nobody else')
    assert.match(byA[0]?.reason ?? '', /bad-join-proof.*held pending/)
    assert.deepEqual(charged(O), [], 'nor does the issuer charge anyone')
  })

  test('a clock regression in a run held for a clock ahead of ours is charged to its sender when the retry lets it through', () => {
    const { wire, O, A, origin, keys } = ownerAndMember('rf2')
    const m = seededKey('rf2', 'm')
    O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    wire.connect(O, A)
    const M = wire.add(m, adopted(origin))
    wire.connect(O, M)
    wire.connect(M, A)
    // M's own feed: a first entry a minute ahead of everyone's clock, then one whose clock goes back. Sent at once,
    // both wait at A for the clock; let through later, the second is refused.
    const epoch = replicaOf(M).nextPosition(M.name, wire.nowMs).epoch
    const ahead = wire.nowMs + 120_000 // the skew allowed is a minute
    const first = signEntry(m, { space: origin.id, author: m.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: ahead, counter: 0 }, body: { t: 'kv.put', key: 'x', value: 1 } })
    const back = signEntry(m, { space: origin.id, author: m.publicKey, epoch, seq: 1, prev: first.id, clock: { wallMs: ahead - 1, counter: 0 }, body: { t: 'kv.put', key: 'x', value: 2 } })
    wire.inject(M, A, encodeMessage({ m: 'entries', space: origin.id, run: [[first.bytes, first.sig], [back.bytes, back.sig]] }), 'entries')
    assert.equal(replicaOf(A).pendingCount, 2, 'both wait for the clock')
    assert.deepEqual(charged(A), [])
    wire.advance(130_000)
    assert.equal(replicaOf(A).kvGet('x')?.value, 1, 'the first is stored once the clock caught up')
    const byA = charged(A)
    assert.deepEqual(byA.map(c => c.peer), [M.name], 'the sender is charged, and nobody else')
    assert.match(byA[0]?.reason ?? '', /clock-regression.*held pending/)
  })

  test('a run of a feed no grant covered, let through by a local grant and found invalid, is charged to its sender', () => {
    const { wire, O, A, origin, keys } = ownerAndMember('rf3')
    const [m, w] = ['m', 'w'].map(n => seededKey('rf3', n)) as [KeyPair, KeyPair]
    O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: (keys.a as KeyPair).publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, wire.nowMs + 1)
    wire.connect(O, A)
    const M = wire.add(m, adopted(origin))
    wire.connect(O, M)
    wire.connect(M, A)
    wire.nowMs += 10
    // W is granted nowhere yet: member M relays two entries of W's feed, the second with a clock going back.
    const clock = (wallMs: number): { wallMs: number, counter: number } => ({ wallMs, counter: 0 })
    const w0 = signEntry(w, { space: origin.id, author: w.publicKey, epoch: 0, seq: 0, prev: null, clock: clock(wire.nowMs), body: { t: 'kv.put', key: 'w', value: 1 } })
    const w1 = signEntry(w, { space: origin.id, author: w.publicKey, epoch: 0, seq: 1, prev: w0.id, clock: clock(wire.nowMs - 5), body: { t: 'kv.put', key: 'w', value: 2 } })
    wire.inject(M, A, encodeMessage({ m: 'entries', space: origin.id, run: [[w0.bytes, w0.sig], [w1.bytes, w1.sig]] }), 'entries')
    assert.equal(replicaOf(A).pendingCount, 2, 'both wait for a grant of W')
    assert.deepEqual(charged(A), [])
    // A, an admin, grants W: the grant lets the run through.
    A.engine.append(replicaOf(A).key, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs + 1)
    wire.flush()
    assert.equal(replicaOf(A).kvGet('w')?.value, 1)
    const byA = charged(A)
    assert.deepEqual(byA.map(c => c.peer), [M.name], 'the member that relayed it is charged, and nobody else')
    assert.match(byA[0]?.reason ?? '', /clock-regression.*held pending/)
  })
})

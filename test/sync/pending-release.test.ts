/**
 * What the pending queue lets out, against a forked writer and a sender
 * banned mid-run (found by a hostile review): entries of two runs of one peer
 * are never stored as one chain unless they link; held entries a longer run
 * passed are compared with it, and prove the fork; and what a run stored
 * before its sender was banned for the rest of it is still announced, and
 * what it let out still judged.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, toHex } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { adopted, branches, charged, forkable, replicaOf, runOf, triangle } from './forked-writer.ts'
import type { Forkable, Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/**
 * Writer W's feed forked at 1 (`forkable('…', ['a', 'm'])`): M holds the y branch y1..y3 and has pushed A y2 and y3,
 * which wait there for seq 1. The x branch x1..x4 is the caller's.
 */
function yHeldAtA (seed: string): { f: Forkable, xs: Signed[], wire: Wire, O: Peer, A: Peer, M: Peer } {
  const f = forkable(seed, ['a', 'm'])
  const [o, , a, m] = f.keys
  const { xs, ys } = branches(f.e0, f.next, 4)
  const t = triangle(f.origin, f.store, [o, a, m] as KeyPair[])
  replicaOf(t.M).ingestRun(ys.slice(1, 4).map(e => [e.bytes, e.sig]), 'setup', t.wire.nowMs)
  t.wire.inject(t.M, t.A, runOf(f.origin.id, ys.slice(2, 4)), 'entries')
  assert.equal(replicaOf(t.A).pendingCount, 2)
  return { f, xs, ...t }
}

describe('what the pending queue lets out', () => {
  test('two runs of one peer from two branches of a forked feed are not stored as one chain; the node that holds the feed is never charged for it', () => {
    const { origin, store, keys, e0, next } = forkable('pr1', ['a', 'b'])
    const [o, w, a, b] = keys as [KeyPair, KeyPair, KeyPair, KeyPair]
    const e1 = next(1, e0.id, 'e1')
    const e2 = next(2, e1.id, 'e2')
    const f2 = next(2, e1.id, 'f2')
    const f3 = next(3, f2.id, 'f3')
    const wire = new Wire(T0 + 10)
    const O = wire.add(o, store)
    const A = wire.add(a, adopted(origin))
    const W = wire.add(w, adopted(origin))
    wire.connect(O, A)
    wire.connect(W, A)
    // The forked writer pushes the end of each branch, then the entry both need.
    wire.inject(W, A, runOf(origin.id, [e2]), 'entries')
    wire.inject(W, A, runOf(origin.id, [f3]), 'entries')
    assert.equal(replicaOf(A).pendingCount, 2)
    wire.inject(W, A, runOf(origin.id, [e1]), 'entries')
    const wk = authorKeyOf(w.publicKey)
    assert.equal(replicaOf(A).feedRow(wk, e0.epoch)?.count, 3, 'e0 e1 e2, not f3 after them')
    assert.equal(replicaOf(A).entryIdAt(wk, e0.epoch, 2), toHex(e2.id))
    // A node that pulls W's feed from A gets a chain that links, and has nothing to charge A with.
    const B = wire.add(b, adopted(origin))
    wire.connect(A, B)
    wire.advance(30_000)
    assert.equal(replicaOf(B).feedRow(wk, e0.epoch)?.count, 3)
    assert.deepEqual(charged(B), [], 'nobody charged by B')
    assert.equal(B.engine.isConnected(A.name), true)
  })

  test('a run let out that does not link to what was stored since is probed of its sender, which proves the fork; nobody is charged', () => {
    // M pushed A the end of W's other branch, which waits there for seq 1.
    const { f, xs, wire, A, O, M } = yHeldAtA('pr5')
    // The owner pushes seq 1 of the first branch: it lets M's run out of pending, which does not link to it.
    wire.inject(O, A, runOf(f.origin.id, xs.slice(1, 2)), 'entries')
    assert.equal(replicaOf(A).forkProofs().length, 1, 'A proved the fork from M')
    assert.deepEqual([O, M].map(p => replicaOf(p).forkProofs().length), [1, 1], 'and told its neighbours')
    assert.deepEqual(charged(A), [], 'nobody is charged for a fork')
  })

  test('held entries a longer run passed are compared with it: they prove the fork, however long that run', () => {
    for (const ownerRun of [1, 2, 4]) {
      const { f, xs, wire, A, O, M } = yHeldAtA('pr2')
      // M hears of the other branch from nobody: only A can prove the fork.
      wire.holding.add(`${A.name}>${M.name}:have`)
      wire.holding.add(`${O.name}>${M.name}:have`)
      wire.inject(O, A, runOf(f.origin.id, xs.slice(1, 1 + ownerRun)), 'entries')
      wire.advance(5_000)
      assert.equal(replicaOf(A).forkProofs().length, 1, `A proved the fork (the owner's run of ${ownerRun})`)
      assert.equal(replicaOf(A).pendingCount, 0)
      assert.deepEqual(charged(A), [], 'nobody is charged for a fork')
    }
  })

  test('a run whose last entry bans its sender: what it stored is still announced, and what it let out still judged', () => {
    const [o, a, p, b, j, inv, forger] = ['owner', 'a', 'p', 'b', 'j', 'inv', 'forger'].map(n => seededKey('pr3', n)) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair, KeyPair, KeyPair]
    const store = new MemoryStore()
    const origin = SpaceReplica.create(store, o, 'pr3', T0)
    for (const [i, k] of [a, p, b].entries()) origin.append(o, { t: 'acl.grant', member: k.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 1 + i)
    const wire = new Wire(T0 + 10)
    const O = wire.add(o, store)
    const A = wire.add(a, adopted(origin))
    const B = wire.add(b, adopted(origin))
    const P = wire.add(p, adopted(origin))
    wire.connect(O, A)
    wire.connect(A, B)
    wire.connect(A, P)
    // Admin P's feed: an invite, a write, then a write whose clock goes back.
    const epoch = replicaOf(P).nextPosition(P.name, wire.nowMs).epoch
    const sign = (seq: number, prev: Uint8Array | null, wallMs: number, body: Parameters<typeof signEntry>[1]['body']): Signed =>
      signEntry(p, { space: origin.id, author: p.publicKey, epoch, seq, prev, clock: { wallMs, counter: 0 }, body })
    const p0 = sign(0, null, wire.nowMs, { t: 'invite', key: inv.publicKey, role: 'reader', uses: 1, expiresMs: T0 + 1e9 })
    const p1 = sign(1, p0.id, wire.nowMs + 1, { t: 'kv.put', key: 'x', value: 1 })
    const p2 = sign(2, p1.id, wire.nowMs - 5, { t: 'kv.put', key: 'x', value: 2 })
    // J presents a join naming P's invite, countersigned by the wrong key: A holds it for the invite.
    const J = wire.add(j, adopted(origin))
    replicaOf(J).join(j, p0.id, forger, T0 + 5)
    wire.connect(J, A)
    assert.equal(replicaOf(A).pendingCount, 1)
    // P has misbehaved before: 95 points, one charge short of a ban.
    for (let i = 0; i < 3; i++) wire.inject(P, A, Uint8Array.of(0xff, 0xff), 'garbage')
    const forged = new Uint8Array(p0.sig)
    forged[0] = (forged[0] as number) ^ 1
    wire.inject(P, A, encodeMessage({ m: 'entries', space: origin.id, run: [[p0.bytes, forged]] }), 'entries')
    assert.equal(A.engine.isConnected(P.name), true)
    wire.inject(P, A, runOf(origin.id, [p0, p1, p2]), 'entries')
    assert.equal(A.engine.isConnected(P.name), false, 'the clock regression banned P')
    const pk = authorKeyOf(p.publicKey)
    assert.equal(replicaOf(A).feedRow(pk, epoch)?.count, 2, 'A stored p0 and p1')
    assert.ok(A.events.some(e => e.type === 'stored' && e.entries.some(x => toHex(x.id) === toHex(p1.id))), 'told as stored')
    wire.advance(5_000)
    assert.equal(replicaOf(B).feedRow(pk, epoch)?.count, 2, 'and announced: B holds them')
    assert.ok(charged(A).some(c => c.peer === J.name && /bad-join-proof/.test(c.reason)), 'J\'s forged join, let out by p0, is charged to J')
  })
})

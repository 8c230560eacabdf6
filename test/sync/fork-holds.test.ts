/**
 * A writer walking its own fork down: every lower proof within the counts retracts one more entry, so each is relayed
 * everywhere and lowers every node's proof, and each lowering rebuilds every view (space/fork-holds.ts says why the
 * lowerings of a feed are held and coalesced).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { Body } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { FORK_HOLD_MS, FORK_HOLD_QUIET_MS, HELD_PER_AUTHOR_MAX, signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, forkedAt, forkerAtA, replicaOf, settle } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'
import type { Forkable, Signed } from './forked-writer.ts'

/** W's feed x0..x(count-1), and a second entry W signs at `seq` beside x(seq), on the same prev. */
function walkable (f: Forkable, count: number): { xs: Signed[], alt: (seq: number) => Signed } {
  const xs: Signed[] = [f.e0]
  for (let i = 1; i < count; i++) xs.push(f.next(i, (xs[i - 1] as Signed).id, `x${i}`))
  const w = f.keys[1] as KeyPair
  const alt = (seq: number): Signed => signEntry(w, {
    space: f.origin.id, author: w.publicKey, epoch: f.e0.epoch, seq, prev: (xs[seq - 1] as Signed).id,
    clock: { wallMs: T0 + 5 + seq, counter: 1 }, body: { t: 'kv.put', key: 'k', value: `alt${seq}` }
  })
  return { xs, alt }
}

type Pair = [[Uint8Array, Uint8Array], [Uint8Array, Uint8Array]]
const proofOf = (a: Signed, b: Signed): Pair => [[a.bytes, a.sig], [b.bytes, b.sig]]

/** Counts, from now on, the commits of `peer`'s store that replace every view: its rebuilds. */
function countRebuilds (peer: Peer): { count: number } {
  const counter = { count: 0 }
  const commit = peer.store.commit.bind(peer.store)
  peer.store.commit = batch => {
    if (batch.replaceViews === true) counter.count++
    commit(batch)
  }
  return counter
}

/** The honest nodes' rebuilds while `walk` runs, then until all is quiet; asserted at most 8 each (the hold's bound). */
function rebuildsOver (wire: Wire, honest: readonly Peer[], walk: () => void): number[] {
  const counters = honest.map(countRebuilds)
  walk()
  settle(wire, 40)
  const rebuilds = counters.map(c => c.count)
  // Held 1, 2, 4, 8, 16, 32 s after each commit: 7 commits in the 50 s of a walk, and the lowest after it.
  assert.ok(rebuilds.every(r => r <= 8), `rebuilds per node: ${rebuilds.join(', ')}`)
  assert.deepEqual(honest.map(charged), honest.map(() => []))
  return rebuilds
}

describe('a writer walking its fork down', () => {
  test('one step every half second inside every count: each node rebuilds a handful of times, not once a step', () => {
    const STEPS = 100
    const f = forkable('fh1', ['a', 'm', 'p'])
    const { xs, alt } = walkable(f, STEPS + 1)
    f.origin.ingestRun(xs.slice(1).map(e => [e.bytes, e.sig]), 'W', T0 + 10)
    const { wire, A, O, M, P, W } = forkerAtA(f)
    settle(wire, 10)
    const honest = [O, A, M, P]
    const wk = authorKeyOf((f.keys[1] as KeyPair).publicKey)
    assert.deepEqual(honest.map(n => replicaOf(n).feedRow(wk, f.e0.epoch)?.count), [101, 101, 101, 101])
    rebuildsOver(wire, honest, () => {
      for (let seq = STEPS; seq >= 1; seq--) {
        const [x, y] = [xs[seq], alt(seq)] as [Signed, Signed]
        wire.inject(W, A, encodeMessage({ m: 'fork', space: f.origin.id, a: [x.bytes, x.sig], b: [y.bytes, y.sig] }), 'fork')
        wire.advance(500)
      }
    })
    assert.deepEqual(honest.map(n => replicaOf(n).forkProofs().map(x => x.seq)), [[1], [1], [1], [1]])
    assert.deepEqual(new Set(honest.map(n => replicaOf(n).kvGet('k')?.value)), new Set(['e0']))
    assert.equal(new Set(honest.map(n => replicaOf(n).viewHash())).size, 1, 'every node has the same views')
  })

  test('one epoch after another, downwards, a fork at seq 0 of each: the same bound', () => {
    // A fork cut retracts the epochs after it, so each lower epoch is still granted: each proof is the first of its
    // feed, and a hold per feed let each through at once (found by a hostile review: a rebuild per step and node).
    const STEPS = 100
    const f = forkable('fh4', ['a', 'm', 'p'])
    const w = f.keys[1] as KeyPair
    const { wire, A, O, M, P, W } = forkerAtA(f)
    settle(wire, 10)
    const honest = [O, A, M, P]
    const at0 = (epoch: number, v: string): Signed => signEntry(w, {
      space: f.origin.id, author: w.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: T0 + 50, counter: 0 },
      body: { t: 'kv.put', key: 'z', value: v }
    })
    const top = f.e0.epoch + 1_000
    rebuildsOver(wire, honest, () => {
      for (let k = 0; k < STEPS; k++) {
        const [x, y] = [at0(top - k, 'x'), at0(top - k, 'y')]
        wire.inject(W, A, encodeMessage({ m: 'fork', space: f.origin.id, a: [x.bytes, x.sig], b: [y.bytes, y.sig] }), 'fork')
        wire.advance(500)
      }
    })
    assert.deepEqual(honest.map(n => replicaOf(n).forkProofs().length), [STEPS, STEPS, STEPS, STEPS])
    assert.equal(new Set(honest.map(n => replicaOf(n).viewHash())).size, 1, 'every node has the same views')
    assert.deepEqual(new Set(honest.map(n => replicaOf(n).kvGet('k')?.value)), new Set(['e0']))
  })
})

describe('two nodes frozen at one proof, each on its own branch below it', () => {
  // A holds W's x branch, M the y branch, forked at 5; each took W's proof at 20. Before, neither looked below it (a
  // duplicate proof refined nothing, a frozen feed is probed no more), so each kept its branch of 5..19 for good. A
  // restart while a lower proof one of them found was held leaves the same state (the proof lived in memory only).
  for (const restart of [false, true]) {
    test(restart ? 'a restart while the lower proof was held: proven again' : 'they prove it lower when they link', () => {
      const f = forkable(restart ? 'fh3r' : 'fh3', ['a', 'm'])
      const [o, w, a, m] = f.keys as KeyPair[]
      const { xs, ys } = forkedAt(f, 5, 20)
      const wire = new Wire(T0 + 10)
      const ok = authorKeyOf((o as KeyPair).publicKey)
      const node = (k: KeyPair, branch: Signed[], forked: boolean): Peer => {
        const N = wire.add(k, adopted(f.origin))
        const r = replicaOf(N)
        for (const row of f.origin.vector()) {
          if (authorKeyOf(row.author) === ok) r.ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
        }
        r.ingestRun(branch.map(e => [e.bytes, e.sig]), 'W', wire.nowMs)
        if (forked) assert.ok(r.ingestFork(...proofOf(xs[20] as Signed, ys[20] as Signed), wire.nowMs).fork !== undefined)
        return N
      }
      let A = node(a as KeyPair, xs, !restart)
      const M = node(m as KeyPair, ys, true)
      wire.connect(A, M)
      if (restart) {
        // A took the proof at 20 from M, proved 5 with M's answer and holds it; it stops before the hold ends.
        assert.deepEqual([replicaOf(A).forkProofs().map(p => p.seq), replicaOf(A).nextForkDue()], [[20], wire.nowMs + FORK_HOLD_MS])
        wire.advance(FORK_HOLD_MS / 2)
        M.engine.disconnect(A.name, wire.nowMs)
        A = wire.add(a as KeyPair, A.store)
        wire.connect(A, M)
      }
      settle(wire, 10)
      assert.deepEqual([A, M].map(n => replicaOf(n).forkProofs().map(p => p.seq)), [[5], [5]])
      assert.deepEqual([A, M].map(n => replicaOf(n).kvGet('k')?.value), ['c4', 'c4'])
      assert.deepEqual([A, M].map(charged), [[], []])
      const wk = authorKeyOf((w as KeyPair).publicKey)
      assert.deepEqual([A, M].map(n => replicaOf(n).feedRow(wk, f.e0.epoch)?.count), [5, 5])
    })
  }
})

describe('a feed\'s hold (replica)', () => {
  test('the first proof commits at once; lower ones wait, the lowest commits when the hold ends, which then doubles', () => {
    const f = forkable('fh2', [])
    const { xs, alt } = walkable(f, 20)
    const r = SpaceReplica.open(adopted(f.origin), f.origin.key)
    const t = T0 + 100
    for (const row of f.origin.vector()) {
      r.ingestRun(f.origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'O', t)
    }
    r.ingestRun(xs.slice(1).map(e => [e.bytes, e.sig]), 'W', t)
    const fork = (seq: number, now: number) => r.ingestFork(...proofOf(xs[seq] as Signed, alt(seq)), now)
    assert.equal(fork(18, t).fork?.seq, 18)
    assert.equal(fork(15, t + 10).forkHeld?.seq, 15)
    assert.equal(fork(12, t + 20).forkHeld?.seq, 12)
    assert.equal(fork(14, t + 30).duplicates, 1, 'above the held proof: a duplicate')
    assert.equal(r.nextForkDue(), t + FORK_HOLD_MS)
    assert.deepEqual(r.commitHeldForks(t + FORK_HOLD_MS - 1), [])
    assert.deepEqual(r.forkProofs().map(x => x.seq), [18])
    assert.deepEqual(r.commitHeldForks(t + FORK_HOLD_MS).map(x => x.fork?.seq), [12])
    assert.equal(r.nextForkDue(), null)
    assert.equal(r.kvGet('k')?.value, 'x11')
    // The next hold lasts twice as long.
    const t2 = t + FORK_HOLD_MS
    assert.equal(fork(10, t2 + 1_500).forkHeld?.seq, 10)
    assert.deepEqual(r.commitHeldForks(t2 + 2 * FORK_HOLD_MS).map(x => x.fork?.seq), [10])
    // Past the hold, a lower proof commits at once, and the next hold is twice as long again.
    const t3 = t2 + 2 * FORK_HOLD_MS
    assert.equal(fork(8, t3 + 4 * FORK_HOLD_MS).fork?.seq, 8)
    const t4 = t3 + 4 * FORK_HOLD_MS
    assert.equal(fork(7, t4 + 10).forkHeld?.seq, 7)
    assert.equal(r.nextForkDue(), t4 + 8 * FORK_HOLD_MS)
    assert.deepEqual(r.commitHeldForks(t4 + 8 * FORK_HOLD_MS).map(x => x.fork?.seq), [7])
    // Left alone for ten of the longest holds past its hold, the author starts over at the first.
    const t5 = t4 + 8 * FORK_HOLD_MS + 16 * FORK_HOLD_MS + FORK_HOLD_QUIET_MS
    assert.equal(fork(6, t5).fork?.seq, 6)
    assert.equal(fork(4, t5 + 10).forkHeld?.seq, 4)
    assert.equal(r.nextForkDue(), t5 + FORK_HOLD_MS)
  })

  test('a member\'s proof in a later epoch than its first forked one cuts nothing, kept or not', () => {
    // Admin W forks at seq 0 of epochs 100, 10 and 50; 50's first entry revokes M. X takes 10 and 50 within W's hold
    // and commits both; Y takes them after it, commits 10 and finds 50 ungranted (10's cut retracts epoch 50). The
    // revoke at 50's fork position (a revoke there counts on either branch) took M's role on X only (fourth review).
    const [o, w, m] = ['owner', 'w', 'm'].map(n => seededKey('fh5', n)) as [KeyPair, KeyPair, KeyPair]
    const origin = SpaceReplica.create(new MemoryStore(), o, 'fh5', T0)
    origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 1)
    origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
    const byM = origin.append(m, { t: 'kv.put', key: 'm', value: 'by-m' }, T0 + 3)
    const at0 = (epoch: number, body: Body): Signed => signEntry(w, {
      space: origin.id, author: w.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: T0 + 50, counter: 0 }, body
    })
    const kv = (v: string): Body => ({ t: 'kv.put', key: 'z', value: v })
    const revokeM: Body = { t: 'acl.revoke', member: m.publicKey, at: { epoch: byM.epoch, seq: 0 }, keep: [] }
    const [p100, p10, p50] = [[100, kv('a')], [10, kv('a')], [50, revokeM]].map(([epoch, body]) =>
      proofOf(at0(epoch as number, body as Body), at0(epoch as number, kv('b'))))
    const t = T0 + 100
    const [X, Y] = [0, 1].map(() => {
      const r = SpaceReplica.open(adopted(origin), origin.key)
      for (const row of origin.vector()) r.ingestRun(origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'O', t)
      assert.equal(r.ingestFork(...(p100 as Pair), t).fork?.epoch, 100)
      return r
    }) as [SpaceReplica, SpaceReplica]
    assert.equal(X.ingestFork(...(p10 as Pair), t + 500).forkHeld?.epoch, 10)
    assert.equal(X.ingestFork(...(p50 as Pair), t + 500).forkHeld?.epoch, 50)
    assert.equal(X.commitHeldForks(t + FORK_HOLD_MS).length, 1)
    assert.equal(Y.ingestFork(...(p10 as Pair), t + FORK_HOLD_MS).fork?.epoch, 10)
    assert.equal(Y.ingestFork(...(p50 as Pair), t + FORK_HOLD_MS).reject?.reason, 'ungranted-fork')
    const mk = authorKeyOf(m.publicKey)
    assert.deepEqual([X, Y].map(r => [r.acl.currentRole(mk), r.kvGet('m')?.value]), [['writer', 'by-m'], ['writer', 'by-m']])
    assert.equal(X.viewHash(), Y.viewHash())
  })

  test('an author\'s proofs held at once are bounded: the lowest epochs are kept', () => {
    // Within a hold a member could send a first proof at seq 0 of one epoch after another, each kept in memory.
    const f = forkable('fh6', [])
    const w = f.keys[1] as KeyPair
    const r = SpaceReplica.open(adopted(f.origin), f.origin.key)
    const t = T0 + 100
    for (const row of f.origin.vector()) r.ingestRun(f.origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'O', t)
    const at0 = (epoch: number, v: string): Signed => signEntry(w, {
      space: f.origin.id, author: w.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: T0 + 50, counter: 0 },
      body: { t: 'kv.put', key: 'z', value: v }
    })
    const fork = (epoch: number, now: number) => r.ingestFork(...proofOf(at0(epoch, 'x'), at0(epoch, 'y')), now)
    const top = f.e0.epoch + 10_000
    assert.equal(fork(top, t).fork?.epoch, top)
    const count = HELD_PER_AUTHOR_MAX + 100
    // Arriving from the highest epoch down, then a higher one again: each lower one displaces the highest held.
    for (let k = 1; k <= count; k++) assert.ok(fork(top - k, t + 10).forkHeld !== undefined)
    assert.equal(fork(top - 1, t + 10).duplicates, 1, 'the highest, displaced: not kept again')
    const [committed] = r.commitHeldForks(t + FORK_HOLD_MS)
    const epochs = [committed?.fork, ...(committed?.releasedForks ?? [])].map(p => top - (p?.epoch ?? 0))
    assert.equal(epochs.length, HELD_PER_AUTHOR_MAX)
    assert.deepEqual([Math.min(...epochs), Math.max(...epochs)], [count - HELD_PER_AUTHOR_MAX + 1, count])
  })
})

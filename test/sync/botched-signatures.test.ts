/**
 * An author that signs some of its entries with signatures that do not
 * verify, inside runs a later signature covers (a node checks one signature
 * per run, so it holds and relays such entries as they came): nothing it
 * does this way gets an honest node charged, and no two nodes pull from
 * each other without end. (Found by hostile reviews.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { SpaceReplica } from '../../src/space/index.ts'
import type { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, forkedAt, garbled, replicaOf, runOf, settle, triangle } from './forked-writer.ts'
import type { Forkable, Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/**
 * W's feed forked at 30 (c1..c29 shared, then x30..x80 and y30..y80), on a wire: the owner O, N1 holding the x
 * branch with the signatures of x30 and the `botched - 1` after it botched by W (inside the run x80's signature
 * covers), N2 the y branch, N3 the x branch whole. Nobody linked yet.
 */
function botchedAt30 (seed: string, botched = 1): { f: Forkable, wire: Wire, O: Peer, N1: Peer, N2: Peer, N3: Peer } {
  const f = forkable(seed, ['n1', 'n2', 'n3'])
  const [o, , n1, n2, n3] = f.keys as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair]
  const { xs, ys } = forkedAt(f, 30, 80)
  const wire = new Wire(T0 + 10)
  const node = (k: KeyPair, run: Signed[], botch = 0): Peer => holding(f, wire, k, run, 30, botch)
  return { f, wire, O: wire.add(o, f.store), N1: node(n1, xs, botched), N2: node(n2, ys), N3: node(n3, xs) }
}

/** A node on `wire` holding the owner's feed and `run` of W's, with `botch` signatures from seq `from` on botched. */
function holding (f: Forkable, wire: Wire, k: KeyPair, run: readonly Signed[], from = 0, botch = 0): Peer {
  const p = wire.add(k, adopted(f.origin))
  const r = replicaOf(p)
  const ok = authorKeyOf((f.keys[0] as KeyPair).publicKey)
  for (const row of f.origin.vector()) {
    if (authorKeyOf(row.author) === ok) r.ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
  }
  const sent = run.map((e, i) => [e.bytes, i >= from && i < from + botch ? garbled(e.sig) : e.sig] as const)
  assert.equal(r.ingestRun(sent, 'W', wire.nowMs).stored.length, run.length)
  return p
}

/** W's feed with a third branch z, the x branch's up to `zFrom`, then its own up to 80 (`forkedAt(f, 30, 80)`). */
function threeBranches (f: Forkable, zFrom: number): { xs: Signed[], ys: Signed[], zs: Signed[] } {
  const { xs, ys } = forkedAt(f, 30, 80)
  const zs = xs.slice(0, zFrom)
  for (let i = zFrom; i <= 80; i++) zs.push(f.next(i, (zs[i - 1] as Signed).id, `z${i}`))
  return { xs, ys, zs }
}

describe('signatures an author botched', () => {
  test('a fork whose entry there carries a signature the author botched: nobody charged, and no pull without end', () => {
    // The forked writer signs y1 with garbage and y2 properly: y2's signature covers y1's bytes, so the run is
    // authentic, and an honest node stores and relays it as it came (it checks one signature per run). No proof of
    // the fork can be made of y1. A node holding x1 only pulled y2 from M again and again (both ends charged each
    // other for flooding, up to a ban); one holding x1 and x2 charged M for y1's signature at each probe.
    for (const xsHeld of [1, 2]) {
      const { origin, store, keys: [o, , a, m], e0, next } = forkable('pr4', ['a', 'm'])
      const x1 = next(1, e0.id, 'x1')
      const x2 = next(2, x1.id, 'x2')
      const y1 = next(1, e0.id, 'y1')
      const botched = garbled(y1.sig)
      const y2 = next(2, y1.id, 'y2')
      const { wire, A, O, M } = triangle(origin, store, [o, a, m] as KeyPair[])
      // A gets the x branch and M the y branch, each unheard of by the other until they link again.
      wire.holding.add(`${A.name}>${M.name}:have`)
      wire.holding.add(`${O.name}>${M.name}:have`)
      wire.inject(O, A, runOf(origin.id, [x1, x2].slice(0, xsHeld)), 'entries')
      assert.equal(replicaOf(M).ingestRun([[y1.bytes, botched], [y2.bytes, y2.sig]], 'W', wire.nowMs).stored.length, 2, 'M, honest, holds the y branch')
      wire.holding.clear()
      M.engine.disconnect(A.name, wire.nowMs)
      A.engine.disconnect(M.name, wire.nowMs)
      wire.connect(M, A)
      wire.advance(30_000)
      assert.deepEqual([charged(A), charged(M)], [[], []], `nobody charged (A holding ${xsHeld} of the x branch)`)
      assert.ok(wire.count('entries', A, M) < 10, `M sent A ${wire.count('entries', A, M)} runs`)
    }
  })

  test('a valid copy of an entry held with a botched signature replaces it: the row is verified with the valid one', () => {
    // Marked verified with the botched signature kept, the node served runs ending at it, and every node pulling from
    // it charged it a bad signature, up to a ban (a hostile relay's doing: R below).
    const { origin, store, keys: [o, w, a, r, c], e0, next } = forkable('bs2', ['a', 'r', 'c'])
    const es: Signed[] = [e0]
    for (let i = 1; i <= 1100; i++) es.push(next(i, (es[i - 1] as Signed).id, `v${i}`))
    const wire = new Wire(T0 + 5000)
    const O = wire.add(o as KeyPair, store)
    const A = wire.add(a as KeyPair, adopted(origin))
    const R = wire.add(r as KeyPair, adopted(origin))
    wire.connect(O, A)
    O.engine.disconnect(A.name, wire.nowMs)
    A.engine.disconnect(O.name, wire.nowMs)
    wire.muted.add(`${A.name}>${R.name}`)
    wire.connect(R, A)
    // R pushes W's entries 1..1100 in two runs, every signature garbled but each run's last (which covers them all).
    for (const [from, to] of [[1, 1001], [1001, 1101]] as const) {
      const run = es.slice(from, to).map((e, i, all) => [e.bytes, i === all.length - 1 ? e.sig : garbled(e.sig)] as const)
      wire.inject(R, A, encodeMessage({ m: 'entries', space: origin.id, run }), 'entries')
    }
    const wk = authorKeyOf((w as KeyPair).publicKey)
    assert.equal(replicaOf(A).feedRow(wk, e0.epoch)?.count, 1101)
    // Then entry 1023 alone, with its real signature: a duplicate, whose own signature verifies.
    wire.inject(R, A, runOf(origin.id, [es[1023] as Signed]), 'entries')
    const row = A.store.entryAt(replicaOf(A).key, wk, e0.epoch, 1023)
    assert.deepEqual([row?.verified, row?.sig], [true, (es[1023] as Signed).sig], 'A holds it with the valid signature')
    // C, honest, catches up from A alone: it gets the whole feed and charges nobody.
    const C = wire.add(c as KeyPair, adopted(origin))
    wire.connect(A, C)
    for (let i = 0; i < 10; i++) wire.advance(16_000)
    assert.deepEqual(charged(C), [])
    assert.equal(replicaOf(C).feedRow(wk, e0.epoch)?.count, 1101)
  })

  test('a branch too long for one run, which diverges at its first: the rest of the answer does not make its holder a source again', () => {
    // Each later plan of the feed (an ACL change plans them all) pulled the whole window from M again.
    const { origin, store, keys: [o, , a, m], e0, next } = forkable('bs3', ['a', 'm'])
    const x1 = next(1, e0.id, 'x1')
    const ys: Signed[] = [e0]
    for (let i = 1; i <= 2100; i++) ys.push(next(i, (ys[i - 1] as Signed).id, `y${i}`))
    const { wire, A, O, M } = triangle(origin, store, [o, a, m] as KeyPair[])
    wire.holding.add(`${A.name}>${M.name}:have`)
    wire.holding.add(`${O.name}>${M.name}:have`)
    replicaOf(A).ingestRun([[x1.bytes, x1.sig]], 'W', wire.nowMs)
    const yRun = ys.slice(1).map((e, i) => [e.bytes, i === 0 ? garbled(e.sig) : e.sig] as const)
    assert.equal(replicaOf(M).ingestRun(yRun, 'W', wire.nowMs).stored.length, 2100)
    wire.holding.clear()
    M.engine.disconnect(A.name, wire.nowMs)
    A.engine.disconnect(M.name, wire.nowMs)
    const before = wire.count('entries', A, M)
    wire.connect(M, A)
    wire.advance(30_000)
    for (let i = 0; i < 5; i++) {
      O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: seededKey('bs3', `z${i}`).publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, wire.nowMs)
      wire.advance(1_000)
    }
    assert.ok(wire.count('entries', A, M) - before < 10, `M sent A ${wire.count('entries', A, M) - before} runs`)
    assert.deepEqual([charged(A), charged(M)], [[], []])
  })

  test('botched on both branches where they first differ: the fork is proven further on, where both entries are signed', () => {
    // The writer equivocates at seq 1 with botched signatures on both sides, then signs seq 2 on each: no proof can
    // be made at 1, and the first look stopped there; x2 and y2 prove the fork, and freeze the feed.
    const { origin, store, keys: [o, w, a, m], e0, next } = forkable('bs4', ['a', 'm'])
    const x1 = next(1, e0.id, 'x1')
    const x2 = next(2, x1.id, 'x2')
    const y1 = next(1, e0.id, 'y1')
    const y2 = next(2, y1.id, 'y2')
    const { wire, A, O, M } = triangle(origin, store, [o, a, m] as KeyPair[])
    wire.holding.add(`${A.name}>${M.name}:have`)
    wire.holding.add(`${O.name}>${M.name}:have`)
    wire.inject(O, A, encodeMessage({ m: 'entries', space: origin.id, run: [[x1.bytes, garbled(x1.sig)], [x2.bytes, x2.sig]] }), 'entries')
    replicaOf(M).ingestRun([[y1.bytes, garbled(y1.sig)], [y2.bytes, y2.sig]], 'W', wire.nowMs)
    wire.holding.clear()
    M.engine.disconnect(A.name, wire.nowMs)
    A.engine.disconnect(M.name, wire.nowMs)
    wire.connect(M, A)
    wire.advance(30_000)
    assert.deepEqual([A, M, O].map(p => replicaOf(p).forkProofs().map(f => f.seq)), [[2], [2], [2]], 'every node holds the proof at seq 2')
    const wk = authorKeyOf((w as KeyPair).publicKey)
    assert.deepEqual([A, M].map(p => replicaOf(p).feedRow(wk, e0.epoch)?.frozen), [true, true])
    assert.deepEqual([charged(A), charged(M), charged(O)], [[], [], []])
  })

  test('a node whose one source holds a botched entry at the fork still gets the feed up to it', () => {
    // N1 holds the x branch with x30 botched (inside a run x80's signature covers); O is linked to N1 alone. Asked
    // for [1, 31) once N1 froze at 31, N1 served nothing (the range ended at x30, the one entry it checked): O
    // never held c1..c29, which every other node holds. Line O - N1 - N2 - N3.
    const { f, wire, O, N1, N2, N3 } = botchedAt30('bs5')
    const w = f.keys[1] as KeyPair
    wire.connect(N1, N2)
    settle(wire, 10)
    wire.connect(O, N1)
    settle(wire, 10)
    wire.connect(N2, N3)
    settle(wire, 40)
    const wk = authorKeyOf((w as KeyPair).publicKey)
    const peers = [O, N1, N2, N3]
    assert.deepEqual(peers.map(p => replicaOf(p).kvGet('k')?.value), ['c29', 'c29', 'c29', 'c29'])
    assert.deepEqual(peers.map(p => replicaOf(p).feedRow(wk, f.e0.epoch)?.count), [30, 30, 30, 30])
    assert.deepEqual(peers.map(charged), [[], [], [], []])
  })

  for (const [order, botched] of [['N1', 1], ['N3', 1], ['N1', 20]] as const) {
    test(`a hub holding a botched copy at the first difference gets a valid one and proves it there (${order} first, ` +
      `${botched} botched)`, () => {
      // Star O - {N1, N2, N3}: N1 holds the x branch with x30 botched (inside a run x80's signature covers), N3 the
      // x branch whole, N2 the y branch; the first difference, 30, is provable (x30 and y30 each signed). O catching
      // up from N1 first could prove the fork only at 31 (its x30 proves nothing), and N2's and N3's refinements
      // asked O, which has no valid x30: every node froze at 31, N2 keeping y30 and the others x30, for good.
      // With 20 botched (x30..x49), the ask for a copy of x30 was taken by a refinement's probe listed for the same
      // range, and nothing was sent (a review's probe): the walk stopped at 44.
      const { wire, O, N1, N2, N3 } = botchedAt30(`bs6${order}${botched}`, botched)
      const links = order === 'N1' ? [N1, N2, N3] : [N3, N2, N1]
      wire.connect(O, links[0] as Peer)
      settle(wire, 10)
      wire.connect(O, links[1] as Peer)
      wire.connect(O, links[2] as Peer)
      settle(wire, 40)
      const peers = [O, N1, N2, N3]
      assert.deepEqual(peers.map(p => replicaOf(p).forkProofs().map(x => x.seq)), [[30], [30], [30], [30]])
      assert.deepEqual(peers.map(p => replicaOf(p).kvGet('k')?.value), ['c29', 'c29', 'c29', 'c29'])
      assert.deepEqual(peers.map(charged), [[], [], [], []])
    })
  }
  test('three branches apart at one position, each node between two valid ones holding the third botched there', () => {
    // Line X - M - Y: X holds x30 and Y y30, each signed; M holds z30, botched. No link can prove the fork at 30 by
    // its two ends' entries (M's proves nothing), so every node froze at 31 and kept its own branch's entry at 30 in
    // view, for good (a review's storm probe). M, asking for copies of z30, gets x30 and y30: they prove it.
    const f = forkable('bs7', ['x', 'm', 'y'])
    const [, , x, m, y] = f.keys as KeyPair[]
    const { xs, ys, zs } = threeBranches(f, 30)
    const wire = new Wire(T0 + 10)
    const X = holding(f, wire, x as KeyPair, xs)
    const M = holding(f, wire, m as KeyPair, zs, 30, 1)
    const Y = holding(f, wire, y as KeyPair, ys)
    wire.connect(X, M)
    wire.connect(M, Y)
    settle(wire, 40)
    const peers = [X, M, Y]
    assert.deepEqual(peers.map(p => replicaOf(p).forkProofs().map(q => q.seq)), [[30], [30], [30]])
    assert.deepEqual(peers.map(p => replicaOf(p).kvGet('k')?.value), ['c29', 'c29', 'c29'])
    assert.deepEqual(peers.map(charged), [[], [], []])
  })

  test('a valid copy of a botched entry from a peer linked later proves the fork with a branch seen before', () => {
    // Line Y - M - X, X linked last: Y holds y up to 30 (signed), M the z branch (x's up to 39, its own from 40) with
    // x30 botched, X the x branch. M sees y30 where its x30 proves nothing; the fork is proven at 40 (z against x),
    // where M's entry just below is signed, so nobody looked lower: Y kept y30 and the others x39 in view, for good.
    // M remembers y30 and asks X for a copy of x30 at its hello; the valid x30 and y30 prove the fork at 30.
    const f = forkable('bs8', ['y', 'm', 'x'])
    const [, , y, m, x] = f.keys as KeyPair[]
    const { xs, ys, zs } = threeBranches(f, 40)
    const wire = new Wire(T0 + 10)
    const Y = holding(f, wire, y as KeyPair, ys.slice(0, 31))
    const M = holding(f, wire, m as KeyPair, zs, 30, 1)
    const X = holding(f, wire, x as KeyPair, xs)
    wire.connect(Y, M)
    settle(wire, 20)
    wire.connect(M, X)
    settle(wire, 40)
    const peers = [Y, M, X]
    assert.deepEqual(peers.map(p => replicaOf(p).forkProofs().map(q => q.seq)), [[30], [30], [30]])
    assert.deepEqual(peers.map(p => replicaOf(p).kvGet('k')?.value), ['c29', 'c29', 'c29'])
    assert.deepEqual(peers.map(charged), [[], [], []])
  })
})

/**
 * A fork proven above its first divergence (deeper than one probe reaches,
 * or where the entries there carry botched signatures) is walked down, and
 * every node ends with the same lowest proof (decision 7), whatever proof it
 * froze at first. The walk charges nobody, and an unprovable divergence
 * costs one look per link. (Found by a hostile review; each test fails
 * without its fix.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, toHex } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { FORK_HOLD_MS, SpaceReplica } from '../../src/space/index.ts'
import type { MemoryStore } from '../../src/store/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { adopted, branches, charged, forkable, forkedAt, forkerAtA, garbled, relink, replicaOf, settle, triangle } from './forked-writer.ts'
import type { Forkable, Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const proofSeqs = (peers: readonly Peer[]): number[][] => peers.map(p => replicaOf(p).forkProofs().map(f => f.seq))
const signed = (entries: readonly Signed[], botched: readonly number[] = []): SignedBytes[] =>
  entries.map((e, i) => [e.bytes, botched.includes(i) ? garbled(e.sig) : e.sig])

/**
 * O, A and M linked: A holds `xRun` of W's x branch (pushed by O), M `yRun` of its y branch (stored as it came),
 * each unheard of by the other until A and M link again.
 */
function apart (f: Forkable, xRun: SignedBytes[], yRun: SignedBytes[]): { wire: Wire, O: Peer, A: Peer, M: Peer } {
  const [o, , a, m] = f.keys
  const t = triangle(f.origin, f.store, [o, a, m] as KeyPair[])
  t.wire.holding.add(`${t.A.name}>${t.M.name}:have`)
  t.wire.holding.add(`${t.O.name}>${t.M.name}:have`)
  t.wire.inject(t.O, t.A, encodeMessage({ m: 'entries', space: f.origin.id, run: xRun }), 'entries')
  replicaOf(t.M).ingestRun(yRun, 'W', t.wire.nowMs)
  t.wire.holding.clear()
  relink(t.wire, t.M, t.A)
  return t
}

/** W's feed forked at 41: c1..c40 shared, then x41..x140 and y41..y140. */
const forkedAt41 = (f: Forkable): { xs: Signed[], ys: Signed[] } => forkedAt(f, 41, 140)

/** A node of `key` holding the owner's feed (the ACL) and `entries` of W's. */
function withOwnerFeed (f: Forkable, wire: Wire, key: KeyPair, entries: Signed[]): Peer {
  const N = wire.add(key, adopted(f.origin))
  const ok = authorKeyOf((f.keys[0] as KeyPair).publicKey)
  for (const row of f.origin.vector()) {
    if (authorKeyOf(row.author) === ok) replicaOf(N).ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
  }
  replicaOf(N).ingestRun(signed(entries), 'W', wire.nowMs)
  return N
}

/** A node of `key`: the owner's feed, W's first ten entries, and a proof at 100 sent it before it caught up. */
function behindAt100 (f: Forkable, wire: Wire, key: KeyPair, xs: Signed[], ys: Signed[]): Peer {
  const N = withOwnerFeed(f, wire, key, xs.slice(0, 11))
  const [x, y] = [xs[100], ys[100]] as [Signed, Signed]
  assert.ok(replicaOf(N).ingestFork([x.bytes, x.sig], [y.bytes, y.sig], wire.nowMs).fork !== undefined)
  return N
}

describe('a fork walked down to its first divergence', () => {
  test('deeper than one probe: the lowest proof reaches the node that froze at the first', () => {
    const f = forkable('fw1', ['a', 'm'])
    const { xs, ys } = branches(f.e0, f.next, 100)
    const { wire, A, O, M } = apart(f, signed(xs.slice(1)), signed(ys.slice(1)))
    settle(wire, 10)
    relink(wire, A, O)
    relink(wire, O, M)
    settle(wire, 10)
    assert.deepEqual(proofSeqs([A, O, M]), [[1], [1], [1]])
    assert.deepEqual([A, O, M].map(charged), [[], [], []])
  })

  test('botched at the first difference: the walked-down proof reaches every node, fresh links or not', () => {
    const f = forkable('fw2', ['a', 'm', 'n'])
    const { xs, ys } = branches(f.e0, f.next, 5)
    const { wire, A, O, M } = apart(f, signed(xs.slice(1)), signed(ys.slice(1), [0]))
    settle(wire)
    for (const [p, q] of [[A, M], [A, O], [O, M]] as const) relink(wire, p, q)
    settle(wire)
    const seqs = proofSeqs([A, O, M])
    assert.deepEqual(seqs[1], seqs[0], 'O holds the proof A holds')
    assert.deepEqual(seqs[2], seqs[0], 'M too')
    // A node that holds x1..x4 and links to O only takes nothing past the fork.
    const N = wire.add(f.keys[4] as KeyPair, adopted(f.origin))
    replicaOf(N).ingestRun(signed(xs.slice(0, 5)), 'W', wire.nowMs)
    wire.connect(O, N)
    settle(wire)
    const wk = authorKeyOf((f.keys[1] as KeyPair).publicKey)
    const counts = [A, O, M, N].map(p => replicaOf(p).feedRow(wk, f.e0.epoch)?.count)
    assert.deepEqual(counts, counts.map(() => seqs[0]?.[0]), 'every node frozen at the same seq')
  })

  test('a proof at the first divergence two honest linked nodes can make is made, though one of them froze higher', () => {
    const f = forkable('fw3', ['a', 'm', 'n'])
    const { xs, ys } = branches(f.e0, f.next, 5)
    // A relay gave M the y branch with y1's signature garbled (the author signed it properly).
    const { wire, A } = apart(f, signed(xs.slice(1)), signed(ys.slice(1), [0]))
    settle(wire)
    // N, honest, holds the y branch with every signature as its author made it, and links to A.
    const N = wire.add(f.keys[4] as KeyPair, adopted(f.origin))
    replicaOf(N).ingestRun(signed(ys.slice(0, 6)), 'W', wire.nowMs)
    wire.connect(A, N)
    settle(wire)
    const wk = authorKeyOf((f.keys[1] as KeyPair).publicKey)
    assert.equal(replicaOf(A).entryIdAt(wk, f.e0.epoch, 1), toHex((xs[1] as Signed).id))
    assert.deepEqual(proofSeqs([A, N]), [[1], [1]], 'A and N prove the fork at its first divergence')
  })

  test('a probe\'s answer in several runs charges its sender nothing, all the way down', () => {
    const f = forkable('fw4', ['a', 'm'])
    const c1 = f.next(1, f.e0.id, 'c1')
    const c2 = f.next(2, c1.id, 'c2')
    const xs: Signed[] = [f.e0, c1, c2]
    const ys: Signed[] = [f.e0, c1, c2]
    for (let i = 3; i <= 60; i++) {
      xs.push(f.next(i, (xs[i - 1] as Signed).id, `x${i}`))
      ys.push(f.next(i, (ys[i - 1] as Signed).id, `y${i}`))
    }
    const [o, , a, m] = f.keys
    const { wire, A, O, M } = triangle(f.origin, f.store, [o, a, m] as KeyPair[])
    for (const link of [`${A.name}>${M.name}`, `${O.name}>${M.name}`, `${M.name}>${A.name}`]) wire.holding.add(`${link}:have`)
    wire.inject(O, A, encodeMessage({ m: 'entries', space: f.origin.id, run: signed(xs.slice(1)) }), 'entries')
    // M holds c1 verified (a run of its own), so it ends a run there when it serves; y3's signature botched.
    replicaOf(M).ingestRun(signed([c1]), 'W', wire.nowMs)
    replicaOf(M).ingestRun(signed(ys.slice(2), [1]), 'W', wire.nowMs)
    wire.holding.clear()
    relink(wire, M, A)
    settle(wire, 10)
    assert.deepEqual(charged(A), [], 'A charges honest M nothing')
  })

  test('a node frozen higher that gets the other branch past the fork proves below it', () => {
    const f = forkable('fw5', ['a'])
    const { xs, ys } = branches(f.e0, f.next, 9)
    const store = adopted(f.origin)
    const r = SpaceReplica.open(store, f.origin.key)
    for (const row of f.origin.vector()) {
      r.ingestRun(f.origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'O', T0 + 100)
    }
    assert.equal(r.ingestRun(signed(xs.slice(1)), 'O', T0 + 100).stored.length, 9)
    r.ingestFork([(xs[5] as Signed).bytes, (xs[5] as Signed).sig], [(ys[5] as Signed).bytes, (ys[5] as Signed).sig], T0 + 100)
    assert.equal(r.ingestRun(signed(ys.slice(1), [0]), 'M', T0 + 100).forkHeld?.seq, 4)
    r.commitHeldForks(T0 + 100 + FORK_HOLD_MS)
    assert.deepEqual(r.forkProofs().map(p => p.seq), [4], 'x4 and y4 prove it lower')
  })
})

describe('fork proofs between links', () => {
  test('a node that froze higher while behind is sent the lower proof: its frozen row says a fork, not where', () => {
    const f = forkable('fw7', ['a', 'm', 'n'])
    const w = f.keys[1] as KeyPair
    const { xs, ys } = forkedAt41(f)
    const { wire, A, O, M } = apart(f, signed(xs.slice(1)), signed(ys.slice(1)))
    settle(wire, 10)
    assert.deepEqual(proofSeqs([A, O, M]), [[41], [41], [41]])
    const N = behindAt100(f, wire, f.keys[4] as KeyPair, xs, ys)
    // Linked to a node that holds the feed up to the fork, N is sent the proof at once.
    wire.connect(A, N)
    settle(wire, 10)
    assert.deepEqual(proofSeqs([N]), [[41]], 'N holds the proof everyone holds')
    const wk = authorKeyOf((w as KeyPair).publicKey)
    assert.equal(replicaOf(N).feedRow(wk, f.e0.epoch)?.count, 41)
  })

  test('a node frozen higher, linked to one that holds the lower proof but not the feed, is sent it once it holds more', () => {
    const f = forkable('fw7b', ['n', 'p'])
    const [, w, n, p] = f.keys as KeyPair[]
    const { xs, ys } = forkedAt41(f)
    const wire = new Wire(T0 + 10)
    const wk = authorKeyOf((w as KeyPair).publicKey)
    // P holds the proof at 41 (relayed to it), but not W's feed.
    const P = withOwnerFeed(f, wire, p as KeyPair, [f.e0])
    const [x, y] = [xs[41], ys[41]] as [Signed, Signed]
    assert.ok(replicaOf(P).ingestFork([x.bytes, x.sig], [y.bytes, y.sig], wire.nowMs).fork !== undefined)
    assert.deepEqual([proofSeqs([P])[0], replicaOf(P).resumeAt(wk, f.e0.epoch)], [[41], 1])
    const N = behindAt100(f, wire, n as KeyPair, xs, ys)
    wire.connect(P, N)
    const W = wire.add(w as KeyPair, adopted(f.origin))
    wire.connect(W, N)
    settle(wire, 10)
    // The forker pushes N its x branch past 41 (a member's push of new entries is stored, never charged): N announces
    // it, and P, which holds a proof within what N now holds, sends it.
    wire.inject(W, N, encodeMessage({ m: 'entries', space: f.origin.id, run: signed(xs.slice(11, 100)) }), 'entries')
    settle(wire, 4)
    assert.deepEqual(proofSeqs([N]), [[41]])
    assert.equal(replicaOf(N).kvGet('k')?.value, 'c40', 'N\'s view retracts x41 and after, as everyone\'s')
  })

  test('a proof held back from a peer reaches it once it catches up from us past it', () => {
    // O - N1 - N2 - N3: N1 holds W's first ten entries and a proof at 100; N2 and N3 prove the fork at 41. N1 holds
    // the proof at 41 back from O (neither holds W's feed that far), then pulls to 41, and O pulls from N1: O, whose
    // source N1 is, announces nothing of it to N1.
    const f = forkable('fw10', ['n1', 'n2', 'n3'])
    const [o, , n1, n2, n3] = f.keys as KeyPair[]
    const { xs, ys } = forkedAt41(f)
    const wire = new Wire(T0 + 10)
    const O = wire.add(o as KeyPair, f.store)
    const N1 = behindAt100(f, wire, n1 as KeyPair, xs, ys)
    const N2 = withOwnerFeed(f, wire, n2 as KeyPair, xs)
    const N3 = withOwnerFeed(f, wire, n3 as KeyPair, ys)
    wire.connect(N2, N3)
    settle(wire, 10)
    wire.connect(O, N1)
    settle(wire, 10)
    wire.connect(N1, N2)
    settle(wire)
    assert.deepEqual(proofSeqs([O, N1, N2, N3]), [[41], [41], [41], [41]])
  })

  test('a writer signing proof after proof past every count: only the node it sends them to takes each', () => {
    const f = forkable('fw8', ['a', 'm', 'p'])
    const { wire, A, O, M, P, W } = forkerAtA(f)
    settle(wire, 4)
    const sign = (seq: number, v: string): Signed => f.next(seq, f.e0.id, v)
    for (let k = 0; k < 50; k++) {
      const [x, y] = [sign(1_000_000 - k, 'x'), sign(1_000_000 - k, 'y')]
      wire.inject(W, A, encodeMessage({ m: 'fork', space: f.origin.id, a: [x.bytes, x.sig], b: [y.bytes, y.sig] }), 'fork')
    }
    settle(wire, 4)
    const rebuilds = [A, O, M, P].map(n => n.events.filter(e => e.type === 'fork').length)
    // A took the first at once and held the lower ones while the feed's hold lasted: it took the lowest then.
    assert.deepEqual(rebuilds, [2, 1, 1, 1], 'the others took the first proof, and no later one: none retracts anything')
    assert.deepEqual(proofSeqs([A, O]), [[1_000_000 - 49], [1_000_000]])
    assert.deepEqual([A, O, M, P].map(charged), [[], [], [], []])
  })

  test('a proof whose two entries leave one entry hides no lower fork from a node holding a third branch', () => {
    // x and z share x1..x10 and part at 11; y parts from both at 1. B (x) and C (z) prove the fork at 11; A (y)
    // takes that proof and, its own entry at 10 being another, asks further down.
    const f = forkable('fw9', ['a', 'b', 'c'])
    const [, , a, b, c] = f.keys as KeyPair[]
    const xs: Signed[] = [f.e0]
    const ys: Signed[] = [f.e0]
    const zs: Signed[] = [f.e0]
    for (let i = 1; i <= 20; i++) {
      xs.push(f.next(i, (xs[i - 1] as Signed).id, `x${i}`))
      ys.push(f.next(i, (ys[i - 1] as Signed).id, `y${i}`))
      zs.push(i < 11 ? xs[i] as Signed : f.next(i, (zs[i - 1] as Signed).id, `z${i}`))
    }
    const wire = new Wire(T0 + 10)
    const holding = (k: KeyPair, branch: Signed[]): Peer => withOwnerFeed(f, wire, k, branch)
    const [A, B, C] = [holding(a as KeyPair, ys), holding(b as KeyPair, xs), holding(c as KeyPair, zs)]
    wire.connect(B, C)
    settle(wire, 10)
    wire.connect(A, B)
    wire.connect(A, C)
    settle(wire)
    assert.deepEqual(proofSeqs([A, B, C]), [[1], [1], [1]])
    const views = [A, B, C].map(p => replicaOf(p).kvGet('k')?.value)
    assert.deepEqual(views, [views[0], views[0], views[0]], 'every node with the same views')
  })
})

describe('what a frozen feed costs', () => {
  test('storing entries of a frozen feed reads the fork proofs only to send one, once a link', () => {
    // Each stored batch of a feed frozen here looks again whether a held-back proof is owed; it read every proof of
    // the space for each session each time (with 100 proofs of 120 KB: ~70 ms an entry pushed).
    const f = forkable('fw11', ['n0', 'n1', 'n2', 'n3'])
    const [, w, ...ns] = f.keys as KeyPair[]
    const epoch = f.e0.epoch
    const wire = new Wire(T0 + 10)
    const A = withOwnerFeed(f, wire, ns[0] as KeyPair, [f.e0])
    const peers = ns.slice(1).map(k => wire.add(k, adopted(f.origin)))
    for (const p of peers) wire.connect(A, p)
    const { xs, ys } = branches(f.e0, f.next, 60)
    const [x, y] = [xs[50], ys[50]] as [Signed, Signed]
    assert.ok(replicaOf(A).ingestFork([x.bytes, x.sig], [y.bytes, y.sig], wire.nowMs).fork !== undefined)
    let reads = 0
    const forks = A.store.forks.bind(A.store)
    A.store.forks = space => { reads++; return forks(space) }
    for (let seq = 1; seq < 50; seq++) wire.inject(peers[0] as Peer, A, encodeMessage({ m: 'entries', space: f.origin.id, run: signed([xs[seq] as Signed]) }), 'entries')
    assert.equal(replicaOf(A).feedRow(authorKeyOf((w as KeyPair).publicKey), epoch)?.count, 50)
    assert.ok(reads <= peers.length, `${reads} reads of the proofs for 49 entries stored`)
  })
})

describe('an unprovable divergence', () => {
  test('costs one look per link however long its holder goes on writing', () => {
    const f = forkable('fw6', ['a', 'm'])
    const { ys } = branches(f.e0, f.next, 200)
    const x1 = f.next(1, f.e0.id, 'x1')
    // A holds x1 only, M y1 (botched) and y2: nothing can prove the fork between them.
    const { wire, A, O, M } = apart(f, signed([x1]), signed(ys.slice(1, 3), [0]))
    settle(wire, 10)
    const runsIn = (): number => wire.sent.filter(s => s.type === 'entries' && s.from === M.name && s.to === A.name).length
    const before = runsIn()
    // The forker goes on writing its y branch, one entry at a time, each reaching M.
    for (let k = 3; k <= 200; k++) {
      wire.inject(O, M, encodeMessage({ m: 'entries', space: f.origin.id, run: signed([ys[k] as Signed]) }), 'entries')
      wire.advance(100)
    }
    settle(wire, 4)
    assert.ok(runsIn() - before < 10, `M sent A ${runsIn() - before} runs for 198 entries A can never take`)
    assert.deepEqual([charged(A), charged(M)], [[], []])
  })
})

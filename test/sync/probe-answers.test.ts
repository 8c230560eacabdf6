/**
 * A fork probe and a pull of the same feed, asked of the same peer at once: each answer is taken as asked for, in
 * whichever order they come. (Found by the storm probe of a hostile review: an honest server charged a replay.) Each
 * send of a probe is an answer owed, matched in the order sent with the pulls' (review K: a probe asked again, or
 * answered in two runs over an open pull, had an honest answer charged as a replay).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
import { REQUEST_TIMEOUT_MS } from '../../src/sync/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, forkedAt, replicaOf, settle } from './forked-writer.ts'
import type { Forkable, Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const pair = (e: Signed): [Uint8Array, Uint8Array] => [e.bytes, e.sig]

interface World { f: Forkable, xs: Signed[], ys: Signed[], wire: Wire, O: Peer, M: Peer, wk: AuthorKey }

/** O (the owner) and M, a member holding O's feed, not linked yet; W's feed forked at `common` (values `pad`ded). */
function twoPeers (seed: string, common: number, top: number, nowMs: number, pad = ''): World {
  const f = forkable(seed, ['m'])
  const [o, w, m] = f.keys as KeyPair[]
  const { xs, ys } = forkedAt(f, common, top, pad)
  const wire = new Wire(nowMs)
  const O = wire.add(o as KeyPair, f.store)
  const M = wire.add(m as KeyPair, adopted(f.origin))
  const ok = authorKeyOf((o as KeyPair).publicKey)
  for (const row of f.origin.vector()) {
    if (authorKeyOf(row.author) !== ok) continue
    replicaOf(M).ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
  }
  return { f, xs, ys, wire, O, M, wk: authorKeyOf((w as KeyPair).publicKey) }
}

/**
 * O and M hold W's feed to 14 and a proof at 107. M then stores x15..x40 in runs ending at each of `cuts` (where it
 * verified them, so where its answers' runs end) and a lower proof at 41, and tells O in the order a relay does: the
 * proof, then its new head. O probes M below 41 ([0, 41): the proof's entries differ in their prev) and pulls
 * [15, 41) of it; M's answers are held until O has asked both (on a real link they cross on the wire).
 */
function probeOverPull (seed: string, cuts: readonly number[], pad = ''): World {
  const peers = twoPeers(seed, 30, 110, T0 + 10, pad)
  const { f, xs, ys, wire, O, M, wk } = peers
  for (const p of [O, M]) {
    const r = replicaOf(p)
    r.ingestRun(xs.slice(0, 15).map(pair), 'W', wire.nowMs)
    assert.ok(r.ingestFork(pair(xs[107] as Signed), pair(ys[107] as Signed), wire.nowMs).fork !== undefined)
  }
  wire.connect(O, M)
  settle(wire, 10)
  assert.deepEqual(charged(O), [])
  const rm = replicaOf(M)
  let at = 15
  for (const cut of cuts) {
    assert.equal(rm.ingestRun(xs.slice(at, cut).map(pair), 'N', wire.nowMs).stored.length, cut - at)
    at = cut
  }
  assert.ok(rm.ingestFork(pair(xs[41] as Signed), pair(ys[41] as Signed), wire.nowMs).fork !== undefined)
  const space = f.origin.id
  wire.holding.add(`${M.name}>${O.name}:entries`)
  wire.inject(M, O, encodeMessage({ m: 'fork', space, a: pair(xs[41] as Signed), b: pair(ys[41] as Signed) }), 'fork')
  const heads = rm.vector().filter(r => authorKeyOf(r.author) === wk)
  wire.inject(M, O, encodeMessage({ m: 'have', space, heads }), 'have')
  assert.ok(wire.count('want', M, O) >= 2, 'O probed M and pulled from it')
  return peers
}

test('a probe\'s answer that takes an open pull of the same feed to its end: the pull\'s own answer is no replay', () => {
  // M's answer to the probe stores 15..40 and ends the pull; the pull's own answer, which came next, was charged to M
  // as entries nobody asked for.
  const { f, wire, O, wk } = probeOverPull('pa1', [41])
  wire.release()
  settle(wire, 10)
  assert.equal(replicaOf(O).feedRow(wk, f.e0.epoch)?.count, 41, 'O holds the feed up to the proof')
  assert.deepEqual(charged(O), [])
})

test('a `none` to a probe ends the probe only, not a pull of the same feed from the same peer', () => {
  // M holds W's feed to 40 and a proof at 111 it got before the rest of the feed; O holds the feed to 14. O pulls
  // [15, 41) of M and, taking M's proof, probes M below it ([47, 111)), which M answers `none` before its entries
  // come. That `none` closed the pull, which was asked of M again, and the second answer was charged as a replay.
  const { xs, ys, wire, O, M } = twoPeers('pa2', 30, 120, T0 + 10)
  const rm = replicaOf(M)
  replicaOf(O).ingestRun(xs.slice(1, 15).map(pair), 'W', wire.nowMs)
  rm.ingestRun(xs.slice(0, 41).map(pair), 'W', wire.nowMs)
  assert.ok(rm.ingestFork(pair(xs[111] as Signed), pair(ys[111] as Signed), wire.nowMs).fork !== undefined)
  wire.holding.add(`${M.name}>${O.name}:entries`)
  wire.connect(O, M)
  assert.ok(wire.count('none', O, M) > 0, 'M answered the probe none')
  wire.release()
  settle(wire, 10)
  assert.deepEqual(charged(O), [])
  assert.equal(wire.count('want', M, O), 2, 'one pull, one probe')
})

test('a fork probe asked again (its first answer slow): the honest answer to each send is no replay', () => {
  // O and M hold W's feed forked at 10, both to 20 (same count, different heads): at hello O probes M. M's answers
  // come after the probe's deadline, so O asks it again; M answers both. The first answer proves the fork (the feed
  // is frozen), so the second is all duplicates: it was charged to M as a replay, up to 4 times a probe.
  const { f, xs, ys, wire, O, M, wk } = twoPeers('k-probe2', 10, 20, T0 + 200_000)
  replicaOf(O).ingestRun(xs.slice(1, 21).map(pair), 'W', wire.nowMs)
  replicaOf(M).ingestRun(ys.slice(0, 21).map(pair), 'W', wire.nowMs)
  assert.equal(replicaOf(O).feedRow(wk, f.e0.epoch)?.count, 21)
  assert.equal(replicaOf(M).feedRow(wk, f.e0.epoch)?.count, 21)
  wire.holding.add(`${M.name}>${O.name}:entries`)
  wire.connect(O, M)
  const probes = wire.count('want', M, O)
  assert.ok(probes >= 1, 'O probed M')
  wire.advance(REQUEST_TIMEOUT_MS + 1)
  assert.ok(wire.count('want', M, O) > probes, 'O asked its probe again')
  wire.release()
  assert.ok(wire.count('entries', O, M) >= 2, 'M answered each send')
  assert.ok(replicaOf(O).forkProofs().length > 0, 'O proved the fork')
  settle(wire, 10)
  assert.deepEqual(charged(O), [], 'M only answered the wants O sent it')
})

test('a probe\'s answer in two runs over an open pull of the same feed: the pull\'s own answer is no replay', () => {
  // The first case with 60 KB entries, M verified W's feed at 19 and 40: it answers the probe [0, 41) in two runs,
  // 0..19 (RUN_BYTES_MAX) and 20..40, then the pull [15, 41). The probe's rest was expected only once its first run
  // came, after the pull's ask: its second run was taken as the pull's answer, and the pull's own answer, matching
  // nothing, was charged as a replay.
  const { f, wire, O, M, wk } = probeOverPull('k-pa1', [20, 41], 'v'.repeat(60_000))
  wire.release()
  assert.ok(wire.count('entries', O, M) >= 3, 'the probe\'s answer took two runs, the pull\'s one more')
  settle(wire, 10)
  assert.equal(replicaOf(O).feedRow(wk, f.e0.epoch)?.count, 41, 'O holds the feed up to the proof')
  assert.deepEqual(charged(O), [], 'M only answered the wants O sent it')
})

/**
 * A fork probe and a pull of the same feed, asked of the same peer at once: each answer is taken as asked for, in
 * whichever order they come. (Found by the storm probe of a hostile review: an honest server charged a replay.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, forkedAt, replicaOf, settle } from './forked-writer.ts'
import type { Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'

const pair = (e: Signed): [Uint8Array, Uint8Array] => [e.bytes, e.sig]

test('a probe\'s answer that takes an open pull of the same feed to its end: the pull\'s own answer is no replay', () => {
  // O and M hold W's feed to 14 and a proof at 107. M then stores x15..x40 and a lower proof at 41, and tells O in
  // the order a relay does: the proof, then its new head. O probes M below 41 ([0, 41): the proof's entries differ
  // in their prev) and pulls [15, 41) of it. M's answer to the probe stores 15..40 and ends the pull; the pull's own
  // answer, which came next, was charged to M as entries nobody asked for.
  const f = forkable('pa1', ['m'])
  const [o, w, m] = f.keys as KeyPair[]
  const { xs, ys } = forkedAt(f, 30, 110)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o as KeyPair, f.store)
  const M = wire.add(m as KeyPair, adopted(f.origin))
  const ok = authorKeyOf((o as KeyPair).publicKey)
  for (const row of f.origin.vector()) {
    if (authorKeyOf(row.author) === ok) replicaOf(M).ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
  }
  for (const p of [O, M]) {
    const r = replicaOf(p)
    r.ingestRun(xs.slice(0, 15).map(pair), 'W', wire.nowMs)
    assert.ok(r.ingestFork(pair(xs[107] as Signed), pair(ys[107] as Signed), wire.nowMs).fork !== undefined)
  }
  wire.connect(O, M)
  settle(wire, 10)
  assert.deepEqual(charged(O), [])
  const rm = replicaOf(M)
  assert.equal(rm.ingestRun(xs.slice(15, 41).map(pair), 'N', wire.nowMs).stored.length, 26)
  assert.ok(rm.ingestFork(pair(xs[41] as Signed), pair(ys[41] as Signed), wire.nowMs).fork !== undefined)
  const space = f.origin.id
  // M's answers are held until O has asked both (on a real link they cross on the wire).
  wire.holding.add(`${M.name}>${O.name}:entries`)
  wire.inject(M, O, encodeMessage({ m: 'fork', space, a: pair(xs[41] as Signed), b: pair(ys[41] as Signed) }), 'fork')
  const wk = authorKeyOf((w as KeyPair).publicKey)
  const heads = rm.vector().filter(r => authorKeyOf(r.author) === wk)
  wire.inject(M, O, encodeMessage({ m: 'have', space, heads }), 'have')
  wire.release()
  settle(wire, 10)
  assert.equal(replicaOf(O).feedRow(wk, f.e0.epoch)?.count, 41, 'O holds the feed up to the proof')
  assert.deepEqual(charged(O), [])
})

test('a `none` to a probe ends the probe only, not a pull of the same feed from the same peer', () => {
  // M holds W's feed to 40 and a proof at 111 it got before the rest of the feed; O holds the feed to 14. O pulls
  // [15, 41) of M and, taking M's proof, probes M below it ([47, 111)), which M answers `none` before its entries
  // come. That `none` closed the pull, which was asked of M again, and the second answer was charged as a replay.
  const f = forkable('pa2', ['m'])
  const [o, , m] = f.keys as KeyPair[]
  const { xs, ys } = forkedAt(f, 30, 120)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o as KeyPair, f.store)
  const M = wire.add(m as KeyPair, adopted(f.origin))
  const ok = authorKeyOf((o as KeyPair).publicKey)
  const rm = replicaOf(M)
  for (const row of f.origin.vector()) {
    if (authorKeyOf(row.author) === ok) rm.ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
  }
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


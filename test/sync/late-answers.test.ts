/**
 * Answers to wants of ours that come late, or after what they carry came by another way (review I, defects 1 and 3):
 * a late answer to a timed-out want is no progress of a newer pull of the same feed from the same peer (it closed
 * that pull before its own answer came, and every later window of the feed was fetched twice), and the rest of an
 * answer to a want we sent is an honest duplicate whenever it comes, even when its pull was closed by entries that
 * came first (another peer's late answer, a stranger's push): never charged as a replay. A replay nobody asked for
 * still is.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage, encodeMessage } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { REQUEST_TIMEOUT_MS, SCORE } from '../../src/sync/index.ts'
import type { SyncEvent } from '../../src/sync/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/** When the tests run: past every entry's clock (an entry whose clock is ahead waits in the pending queue). */
const NOW = T0 + 200_000

/** A space of `owner` granting `members` reading, with `entries` entries of `value` in the owner's feed. */
function space (owner: KeyPair, members: readonly KeyPair[], entries: number, value: unknown = 0): SpaceReplica {
  const origin = SpaceReplica.create(new MemoryStore(), owner, 'n', T0)
  for (const m of members) {
    origin.append(owner, { t: 'acl.grant', member: m.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  }
  for (let i = 0; i < entries; i++) origin.append(owner, { t: 'kv.put', key: `k${i % 100}`, value }, T0 + 10 + i)
  return origin
}

/** A store holding `origin`'s genesis and each feed's entries below `upTo`. */
function copy (origin: SpaceReplica, upTo = Infinity): MemoryStore {
  const store = new MemoryStore()
  const replica = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  assert.ok(replica instanceof SpaceReplica)
  // Twice: a writer's feed ingested before the grants that cover it waits in the (bounded) pending queue.
  for (let pass = 0; pass < 2; pass++) {
    for (const row of origin.vector()) {
      const author = authorKeyOf(row.author)
      for (let at = 0; at < Math.min(row.count, upTo);) {
        const run = origin.serve(author, row.epoch, at, Math.min(row.count, upTo))
        replica.ingestRun(run, 'copy', NOW)
        at += run.length
      }
    }
  }
  assert.ok(replica.vector().every(r => r.count === Math.min(upTo, origin.feedRow(authorKeyOf(r.author), r.epoch)
    ?.count ?? 0)))
  return store
}

/**
 * B, holding only the genesis, pulls the owner's `entries` from A, whose answers are held on the wire; C, linked to B
 * next, holds them too.
 */
function slowSource (seed: string, entries: number): { origin: SpaceReplica, wire: Wire, A: Peer, B: Peer, C: Peer } {
  const [o, b, c] = ['owner', 'b', 'c'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const origin = space(o, [b, c], entries)
  const wire = new Wire(NOW)
  const A = wire.add(o, copy(origin))
  const C = wire.add(c, copy(origin))
  const B = wire.add(b, copy(origin, 0))
  wire.holding.add(`${A.name}>${B.name}:entries`)
  wire.connect(B, A)
  wire.connect(B, C)
  return { origin, wire, A, B, C }
}

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica
const charges = (events: readonly SyncEvent[], peer: string): SyncEvent[] =>
  events.filter(e => e.type === 'misbehaviour' && e.peer === peer)

test('one timed-out pull of the only source: only its window is fetched twice, not every later one', () => {
  const [o, b] = [seededKey('late-1', 'owner'), seededKey('late-1', 'b')]
  // 16 KB values: a want's answer ends at the run that passes WANT_WINDOW_BYTES, 3 runs of ~130 entries: the feed
  // takes 4 windows.
  const origin = space(o, [b], 1_200, 'v'.repeat(16_000))
  const wire = new Wire(NOW)
  const A = wire.add(o, copy(origin))
  const B = wire.add(b, copy(origin, 0))
  // A's first answer comes after B's pull timed out: B asks A again (its only source), and A answers both.
  wire.holding.add(`${A.name}>${B.name}:entries`)
  wire.connect(A, B)
  wire.advance(REQUEST_TIMEOUT_MS + 1)
  assert.equal(B.engine.stats.requestTimeouts, 1)
  wire.release()
  wire.advance(1)

  assert.equal(replicaOf(B).viewHash(), origin.viewHash(), 'B caught up')
  const total = origin.vector().reduce((n, r) => n + r.count, 0)
  // The timed-out window came twice (the first answer served the pull asked again); every later one once.
  assert.ok(B.engine.stats.duplicatesIn <= 400, `B received ${B.engine.stats.entriesIn} entries for ${total} ` +
    `(${B.engine.stats.duplicatesIn} duplicates)`)
  assert.equal(B.engine.stats.requestTimeouts, 1, 'the late answer did not end a pull early')
  assert.deepEqual(charges(B.events, A.name), [], 'the second answer of the window is an honest duplicate')
})

test('a slow server, then another: the rest of the second honest answer is no replay', () => {
  const [o, b, p, c] = ['owner', 'b', 'p', 'c'].map(n => seededKey('late-2', n)) as [KeyPair, KeyPair, KeyPair,
    KeyPair]
  // One window of 4,000 small entries: answered in 4 runs.
  const origin = space(o, [b, p, c], 4_000)
  const wire = new Wire(NOW)
  const P = wire.add(p, copy(origin))
  const C = wire.add(c, copy(origin))
  const B = wire.add(b, copy(origin, 0))
  wire.holding.add(`${P.name}>${B.name}:entries`)
  wire.holding.add(`${C.name}>${B.name}:entries`)
  wire.connect(B, P)
  wire.connect(B, C)
  wire.advance(REQUEST_TIMEOUT_MS + 1) // P's pull timed out: asked of C
  assert.equal(B.engine.stats.requestTimeouts, 1)
  // P's late answer stores the window; C's then ends C's pull at its first run: its other three still came asked.
  wire.release()
  wire.advance(1)
  assert.equal(replicaOf(B).viewHash(), origin.viewHash())
  assert.ok(B.engine.stats.duplicatesIn >= 4_000, 'C\'s whole answer came, as duplicates')
  assert.deepEqual(charges(B.events, C.name), [])
  assert.deepEqual(charges(B.events, P.name), [])
})

test('a stranger pushing each window ahead of the honest answer gets the honest server charged nothing', () => {
  const [o, b, p] = ['owner', 'b', 'p'].map(n => seededKey('late-3', n)) as [KeyPair, KeyPair, KeyPair]
  const writers = [0, 1, 2].map(i => seededKey('late-3', `w${i}`))
  const origin = space(o, [b, p], 0)
  for (const w of writers) {
    origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  }
  const storeB = copy(origin) // the grants, no writer's entry yet
  // 3,000 entries a writer: each window's answer is 3 runs, the first ends the pull once the stranger filled it.
  writers.forEach((w, j) => {
    for (let i = 0; i < 3_000; i++) origin.append(w, { t: 'kv.put', key: `w${j}k${i % 50}`, value: i }, T0 + 20 + i)
  })
  const wire = new Wire(NOW) // builds the engines; delivery is driven by hand below
  const P = wire.add(p, copy(origin))
  const B = wire.add(b, storeB)
  const now = wire.nowMs
  // A stranger: member of nothing, it knows the genesis (as any invite token's holder does).
  const stranger = authorKeyOf(seededKey('late-3', 'stranger').publicKey)
  assert.ok(B.engine.connect(stranger, now))
  B.engine.connect(P.name, now)
  P.engine.connect(B.name, now)
  const heldFromP: Uint8Array[] = []
  const wantsToP: Uint8Array[] = []
  let wants = 0
  const events: SyncEvent[] = []
  // Delivers everything between B and P at once, except P's `entries` to B, held (P's link is the slower one).
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false
      for (const out of B.engine.drain()) {
        if (out.peer !== P.name) continue
        if (out.type === 'want') {
          wantsToP.push(out.bytes)
          wants++
        }
        P.engine.receive(B.name, out.bytes, now)
        moved = true
      }
      for (const out of P.engine.drain()) {
        if (out.type === 'entries') heldFromP.push(out.bytes)
        else {
          B.engine.receive(P.name, out.bytes, now)
          moved = true
        }
      }
      events.push(...B.engine.events())
    }
  }
  pump()
  for (let round = 0; round < 50 && wantsToP.length > 0; round++) {
    // The stranger pushes what B just asked P for (valid entries of covered feeds: held, uncharged)...
    for (const bytes of wantsToP.splice(0)) {
      const m = decodeMessage(bytes)
      assert.ok(m.m === 'want')
      for (const r of m.ranges) {
        for (let at = r.from; at < r.to;) {
          const run = origin.serve(authorKeyOf(r.author), r.epoch, at, r.to)
          if (run.length === 0) break
          B.engine.receive(stranger, encodeMessage({ m: 'entries', space: origin.id, run }), now)
          at += run.length
        }
      }
    }
    // ...then P's honest answers arrive.
    for (const bytes of heldFromP.splice(0)) {
      B.engine.receive(P.name, bytes, now)
      pump()
    }
    pump()
  }

  assert.equal(replicaOf(B).viewHash(), origin.viewHash(), 'B holds every writer\'s feed')
  assert.ok(wants >= 3, 'each writer\'s feed was asked of P')
  assert.deepEqual(charges(events, stranger), [])
  assert.deepEqual(charges(events, P.name), [], 'P only answered what B asked it')
  assert.equal(B.engine.bannedUntil(P.name), undefined)
})

test('a replay of a window whose answer came whole is still charged, also within the late-answer window', () => {
  const { origin, wire, A, B } = slowSource('late-4', 1_500)
  wire.advance(REQUEST_TIMEOUT_MS + 1) // A's pull timed out: asked of C, which answers at once
  wire.release() // A's late answer: honest duplicates
  assert.equal(replicaOf(B).viewHash(), origin.viewHash())
  assert.deepEqual(charges(B.events, A.name), [])
  // A sends its first run once more: that answer came whole, nobody asked for it again.
  const row = origin.vector()[0]
  assert.ok(row !== undefined)
  const run = origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count)
  assert.ok(run.length > 0)
  wire.inject(A, B, encodeMessage({ m: 'entries', space: origin.id, run }), 'entries')
  const charged = charges(B.events, A.name)
  assert.equal(charged.length, 1)
  assert.ok(charged[0]?.type === 'misbehaviour' && charged[0].points === SCORE.unsolicited &&
    /replay/.test(charged[0].reason))
})

test('a `none` to another range of the feed does not end the open pull', () => {
  const { origin, wire, A, B, C } = slowSource('late-5', 100)
  const row = origin.vector()[0]
  assert.ok(row !== undefined)
  // A says it does not hold the feed from 50 on: our want asked it from 0 (an earlier want's answer, or a lie).
  const range = { author: row.author, epoch: row.epoch, from: 50, to: row.count }
  wire.inject(A, B, encodeMessage({ m: 'none', space: origin.id, range }), 'none')
  assert.equal(wire.count('want', C, B), 0, 'the pull of A goes on')
  wire.release()
  assert.equal(replicaOf(B).viewHash(), origin.viewHash())
  assert.deepEqual(charges(B.events, A.name), [])
})

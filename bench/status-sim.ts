import crypto from 'node:crypto'
import { encodeMessage } from '../src/codec/index.ts'
import { keyPairFromSeed, peerIdOf } from '../src/identity/index.ts'
import type { KeyPair } from '../src/identity/index.ts'
import { SpaceReplica } from '../src/space/index.ts'
import { MemoryStore } from '../src/store/index.ts'
import { ASK_AGAIN_MAX, REQUEST_TIMEOUT_MS, STATUS_SPACING_MS } from '../src/sync/index.ts'
import { encodeReport, jittered, statusPeriodMs, STATUS_RECORDS_PER_SECOND_MAX } from '../src/telemetry/index.ts'
import type { NodeReport } from '../src/telemetry/index.ts'
import { SimNetwork } from '../test/sim/network.ts'
import type { SimNode } from '../test/sim/network.ts'
import { Random } from '../test/sim/random.ts'

/**
 * Status traffic at 1,000 and 10,000 nodes, as a message-level model: the
 * real engine with real signatures is far too slow for that on 2 cores.
 *
 * The model applies the announce-and-pull rule of sync/status-gossip.ts
 * (`stored`, `announced`, `asked`, `answered`, `tick`, the next announcer),
 * message for message; test/sync/status-gossip.test.ts runs crossCheck
 * below inside `npm test`, so the model cannot drift from the protocol:
 *  - a node keeps the newest record per author. When it stores a newer one
 *    (its own, or one received), it sends `status-have` (author, clock) to
 *    every session but the one it came from whose known clock for that
 *    author is older, and raises that known clock;
 *  - on `status-have`: the session's known clock is raised to the head; if
 *    the head is newer than what the node holds and no want is open for
 *    that author, `status-want` goes to this announcer and a want opens
 *    (deadline now + REQUEST_TIMEOUT_MS); if one is open, the announcer joins
 *    its `others` (unless it is the one asked) and its clock is raised;
 *  - on `status-want`: the record held goes back (`status`), the session's
 *    known clock raised to it;
 *  - on `status`: stored if newer (a stale copy costs a lookup), the
 *    sender's known clock raised, announced onward; then the want closes if
 *    what is held now reaches its clock, else the next announcer is asked;
 *  - at a want's deadline the next announcer is asked; with none left the
 *    one asked last is asked again, up to ASK_AGAIN_MAX times a want, and
 *    then the want is dropped.
 * The publisher is telemetry/publisher.ts: at each publication the copies
 * estimate becomes 0.7 × itself + 0.3 × max(1, `status` messages received ÷
 * records stored since the last publication) (the first publication changes
 * nothing), the period statusPeriodMs(N, copies), the next one due after
 * jittered(period). Links deliver in order with a few ms of latency, on a
 * virtual clock and typed-array queues (test/sim/event-queue.ts holds
 * objects, too slow for 10^8 events; see createStatusModel).
 *
 * Messages are counted per type and node, in and out; their bytes are the
 * engine's: `status` by its author's record (statusRecordSize), `status-have`
 * with one head and `status-want` with one author by statusPullSizes.
 *
 * Warm-up: the feedback loop can need ~15 publications per node to settle,
 * and one publication round costs N × N × (2 + announcements per record)
 * messages (~7 × 10^8 at 10,000 nodes). So during warm-up each publication is put on the wire with
 * probability `thinning` (the publisher runs every time, its counters see
 * the records that were sent): the received ÷ stored ratio it measures is
 * the same in expectation, over fewer records. Then every publication is
 * sent, and a window of virtual time is measured.
 */
export interface StatusSimOptions {
  readonly nodes: number
  /** Each node dials this many random others (degree ≈ twice this). */
  readonly dialsPerNode: number
  readonly seed: number
  /** Virtual ms measured after warm-up. */
  readonly windowMs: number
  /** Warm-up ends once every node has published this many times. */
  readonly warmupPublications: number
  /** Records put on the wire per period during warm-up, in expectation (thinning = this ÷ N). */
  readonly warmupRecordsPerPeriod: number
  readonly latencyMs: readonly [number, number]
  readonly jitterMs: number
  /** Bounds: events and wall ms. */
  readonly maxEvents: number
  readonly maxWallMs: number
}

export interface SimGraph {
  readonly n: number
  readonly start: Int32Array
  readonly adj: Int32Array
  /** For slot e (v → adj[e]): the slot of v in adj[e]'s list. */
  readonly rev: Int32Array
  readonly lat: Float64Array
  readonly links: number
  /** The links in the order they were made (each node's slots list its links in this order). */
  readonly edges: readonly (readonly [number, number])[]
  readonly addedForConnectivity: number
}

/** Each node dials `dials` distinct random others; components (if any) joined by one extra link each. */
export function randomGraph (rng: Random, n: number, dials: number, latencyMs: readonly [number, number]): SimGraph {
  const seen = new Set<number>()
  const edges: [number, number][] = []
  const add = (a: number, b: number): boolean => {
    if (a === b) return false
    const k = a < b ? a * n + b : b * n + a
    if (seen.has(k)) return false
    seen.add(k)
    edges.push([a, b])
    return true
  }
  for (let v = 0; v < n; v++) {
    let made = 0
    for (let tries = 0; made < Math.min(dials, n - 1) && tries < 100 * dials; tries++) if (add(v, rng.int(0, n))) made++
  }
  // Connected? (with 4 dials per node it always is in practice; joined otherwise, and counted)
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]!]!; x = parent[x]! } return x }
  for (const [a, b] of edges) parent[find(a)] = find(b)
  let addedForConnectivity = 0
  for (let v = 1; v < n; v++) if (find(v) !== find(0)) { add(v, rng.int(0, v)); parent[find(v)] = find(0); addedForConnectivity++ }
  const deg = new Int32Array(n)
  for (const [a, b] of edges) { deg[a]!++; deg[b]!++ }
  const start = new Int32Array(n + 1)
  for (let v = 0; v < n; v++) start[v + 1] = start[v]! + deg[v]!
  const fill = start.slice(0, n)
  const adj = new Int32Array(2 * edges.length)
  const rev = new Int32Array(2 * edges.length)
  const lat = new Float64Array(2 * edges.length)
  for (const [a, b] of edges) {
    const ea = fill[a]!++
    const eb = fill[b]!++
    adj[ea] = b; adj[eb] = a
    rev[ea] = eb; rev[eb] = ea
    lat[ea] = lat[eb] = latencyMs[0] + rng.next() * (latencyMs[1] - latencyMs[0])
  }
  return { n, start, adj, rev, lat, links: edges.length, edges, addedForConnectivity }
}

/**
 * A realistic status record and its `status` message, for a node with
 * `links` links, 2 spaces and 1 folder: the body through encodeReport,
 * signed into a real status space (signStatus via SpaceReplica.publishStatus).
 */
export function statusRecordSize (links: number, seed = 1): { recordBytes: number, messageBytes: number } {
  const key = (i: number): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench-status/${seed}/${i}`).digest())
  const me = key(0)
  const store = new MemoryStore()
  const nowMs = 1_790_000_000_000
  const status = SpaceReplica.create(store, me, 'samepage-deployment', nowMs)
  const team = SpaceReplica.create(store, me, 'team', nowMs)
  const docs = SpaceReplica.create(store, me, 'docs', nowMs)
  const rng = new Random(seed)
  const report: NodeReport = {
    name: 'rack-07-node-23',
    version: '0.1.0',
    startedMs: nowMs - 3 * 86_400_000,
    periodMs: 70_000,
    load: [0.42, 0.37, 0.31],
    cpus: 8,
    memory: { totalBytes: 16 * 2 ** 30, freeBytes: 9.3 * 2 ** 30, rssBytes: 182 * 2 ** 20 },
    disk: { totalBytes: 512e9, freeBytes: 211e9 },
    temperatureC: 54.5,
    links: Array.from({ length: links }, (_, i) => ({ peer: peerIdOf(key(i + 1).publicKey), rttMs: rng.int(1, 40), inBps: rng.int(500, 80_000), outBps: rng.int(500, 80_000) })),
    spaces: [
      { id: team.key, name: 'team', entries: 12_345, members: 40 },
      { id: docs.key, name: 'docs', entries: 3_210, members: 12 }
    ],
    folders: [{ space: docs.key, name: 'docs', state: 'idle', needFiles: 0, needBytes: 0, bytesPerSecond: 0, conflicts: 0, errors: 0 }],
    traffic: { bytesIn: 8_123_456_789, bytesOut: 7_654_321_098, inBps: 45_678, outBps: 43_210 },
    misbehaviour: [],
    alerts: [],
    addrs: ['/ip4/192.168.1.23/tcp/4815', '/ip6/fd00::23/tcp/4815']
  }
  const s = status.publishStatus(me, encodeReport(report), nowMs)
  const message = encodeMessage({ m: 'status', space: status.id, record: [s.bytes, s.sig] })
  return { recordBytes: s.bytes.length, messageBytes: message.length }
}

/**
 * The announce-and-pull messages as the engine sends them: a `status-have`
 * with one head (author, clock and id of a record published now) and a
 * `status-want` with one author, in a real status space, through encodeMessage.
 */
export function statusPullSizes (seed = 1): { haveBytes: number, wantBytes: number } {
  const me = keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench-status/${seed}/0`).digest())
  const nowMs = 1_790_000_000_000
  const status = SpaceReplica.create(new MemoryStore(), me, 'samepage-deployment', nowMs)
  const s = status.publishStatus(me, { v: 1 }, nowMs)
  return {
    haveBytes: encodeMessage({ m: 'status-have', space: status.id, heads: [{ author: s.author, clock: s.clock, id: s.id }] }).length,
    wantBytes: encodeMessage({ m: 'status-want', space: status.id, authors: [s.author] }).length
  }
}

// ------------------------------------------------------------------ the model

const HAVE = 1
const WANT = 2
const RECORD = 3

/** Per node: messages and bytes in and out of each status message type, and records stored from peers. */
export interface ModelCounters {
  readonly haveIn: Float64Array
  readonly wantIn: Float64Array
  readonly recordIn: Float64Array
  readonly recordBytesIn: Float64Array
  readonly haveOut: Float64Array
  readonly wantOut: Float64Array
  readonly recordOut: Float64Array
  readonly recordBytesOut: Float64Array
  readonly storedFromPeers: Float64Array
}

export interface ModelTotals {
  /** `status` messages that brought nothing newer. */
  staleRecords: number
  /** Announcements not sent: the session's known clock was at least the record's. */
  announcementsSuppressedByKnown: number
  wantsOpened: number
  /** Announcements of a record already wanted: the announcer added to the want's others. */
  announcersQueued: number
  /** Wants asked again of the next announcer: after an older answer, or at the deadline. */
  reaskedAfterOlderAnswer: number
  reaskedAtDeadline: number
  /** Wants asked again of the announcer asked last, at the deadline, none other being left. */
  askedAgain: number
  /** Wants dropped with no announcer left to ask. */
  wantsDropped: number
}

export interface StatusModel {
  readonly counters: ModelCounters
  readonly totals: ModelTotals
  now (): number
  events (): number
  openWants (): number
  /** SyncEngine.publishStatus at the current time: stored, then announced. */
  publish (v: number): void
  /** A publication event of node v at time t (the driver's callback decides what it does). */
  schedulePublication (t: number, v: number): void
  runUntil (untilMs: number, stop?: () => boolean): void
}

/** Slots per ms of the message calendar: a slot holds the messages due in its 1/512 ms (a few), sorted when reached. */
const CALENDAR_SLOTS_PER_MS = 1024

/**
 * The engine's status rule over a graph (see the file's comment). Record
 * clocks are per-author sequence numbers (an author's clock only grows).
 * `recordBytes[a]`: the `status` message bytes of author a's record.
 *
 * Three event sources, merged by (time, insertion order), as test/sim's one
 * queue orders its events: messages in a calendar (a ring of 1/512 ms
 * slots: every message is due between the link's least latency and its
 * most plus jitter from now, so the ring needs no more than that; a slot is
 * sorted when it is reached), publications in a binary heap, want deadlines
 * in a FIFO (all are now + REQUEST_TIMEOUT_MS).
 */
export function createStatusModel (init: {
  readonly g: SimGraph
  readonly recordBytes: Float64Array
  readonly haveBytes: number
  readonly wantBytes: number
  readonly jitterMs: number
  readonly rng: Random
  readonly maxEvents: number
  readonly maxWallMs: number
  readonly onPublication: (v: number) => void
  /** Every message delivered (for debugging the model against the engine). */
  readonly trace?: (t: number, kind: 'status-have' | 'status-want' | 'status', to: number, from: number, author: number, seq: number) => void
}): StatusModel {
  const wallStart = performance.now()
  const { g, recordBytes, jitterMs: jitter, rng } = init
  const N = g.n
  const { start, adj, rev, lat } = g
  const slots = adj.length
  if (N * N >= 2 ** 31) throw new Error('status sim: too many nodes for 32-bit keys')
  // Author-major, so one record's spread touches one small region of each (a few are in flight at once).
  const stored = new Uint16Array(N * N) // [author * N + node]: the newest seq held; 0 = none
  const known = new Uint16Array(slots * N) // [author * slots + session slot]: the engine's statusKnown
  // A peer's record stored no sooner than STATUS_SPACING_MS after the last one of its author (status-gossip.ts
  // admitNow): when the last was stored, and the newest held for then (seq, and the slot it came on).
  const storedAt = new Float64Array(N * N).fill(-Infinity)
  const heldSeq = new Uint16Array(N * N)
  const heldSlot = new Int32Array(N * N)
  const seq = new Uint16Array(N)
  const z = (): Float64Array => new Float64Array(N)
  const counters: ModelCounters = { haveIn: z(), wantIn: z(), recordIn: z(), recordBytesIn: z(), haveOut: z(), wantOut: z(), recordOut: z(), recordBytesOut: z(), storedFromPeers: z() }
  const { haveIn, wantIn, recordIn, recordBytesIn, haveOut, wantOut, recordOut, recordBytesOut, storedFromPeers } = counters
  const totals: ModelTotals = { staleRecords: 0, announcementsSuppressedByKnown: 0, wantsOpened: 0, announcersQueued: 0, reaskedAfterOlderAnswer: 0, reaskedAtDeadline: 0, askedAgain: 0, wantsDropped: 0 }
  let order = 0
  let now = 0
  let eventsRun = 0

  // ---- wants: [author * N + node] → want id + 1 (0: none); each want's announcers to ask next, a linked list
  const wantOf = new Int32Array(N * N)
  let wCap = 1 << 12
  let wClock = new Int32Array(wCap)
  let wAsked = new Int32Array(wCap)
  let wDeadline = new Float64Array(wCap)
  let wAgain = new Int32Array(wCap) // times the one asked last was asked again
  let wHead = new Int32Array(wCap) // first of `others` not yet asked (-1: none)
  let wTail = new Int32Array(wCap)
  const wFree: number[] = []
  let wUsed = 0
  let openWants = 0
  let oCap = 1 << 12
  let oSlot = new Int32Array(oCap)
  let oNext = new Int32Array(oCap)
  const oFree: number[] = []
  let oUsed = 0
  const newWant = (): number => {
    if (wFree.length > 0) return wFree.pop()!
    if (wUsed === wCap) {
      wCap *= 2
      const i32 = (x: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const y = new Int32Array(wCap); y.set(x); return y }
      wClock = i32(wClock); wAsked = i32(wAsked); wHead = i32(wHead); wTail = i32(wTail); wAgain = i32(wAgain)
      const d = new Float64Array(wCap); d.set(wDeadline); wDeadline = d
    }
    return wUsed++
  }
  const newOther = (): number => {
    if (oFree.length > 0) return oFree.pop()!
    if (oUsed === oCap) {
      oCap *= 2
      const a = new Int32Array(oCap); a.set(oSlot); oSlot = a
      const b = new Int32Array(oCap); b.set(oNext); oNext = b
    }
    return oUsed++
  }
  const closeWant = (key: number, w: number): void => {
    for (let o = wHead[w]!; o >= 0;) { const n = oNext[o]!; oFree.push(o); o = n }
    wantOf[key] = 0
    wFree.push(w)
    openWants--
  }

  // ---- messages: a calendar of slots, each a linked list of event ids; fields in typed arrays by id
  const S = CALENDAR_SLOTS_PER_MS
  let maxLat = 0
  let minLat = Infinity
  for (let e = 0; e < slots; e++) { maxLat = Math.max(maxLat, lat[e]!); minLat = Math.min(minLat, lat[e]!) }
  if (slots > 0 && minLat * S < 2) throw new Error('status sim: a link latency under two calendar slots')
  let ringSize = 1
  while (ringSize < (maxLat + jitter) * S + 4) ringSize *= 2
  const ringMask = ringSize - 1
  const ringHead = new Int32Array(ringSize).fill(-1)
  let ringCount = 0
  let cur = 0 // every message in the ring is due in slot `cur` or later
  let cap = 1 << 16
  let evT = new Float64Array(cap)
  let evO = new Float64Array(cap)
  let evNext = new Int32Array(cap)
  let evNode = new Int32Array(cap)
  let evSlot = new Int32Array(cap) // the receiver's slot for the sender
  let evKind = new Int8Array(cap)
  let evAuthor = new Int32Array(cap)
  let evSeq = new Int32Array(cap)
  let free = new Int32Array(cap)
  let freeTop = 0
  for (let i = cap - 1; i >= 0; i--) free[freeTop++] = i
  const grow = (): void => {
    const old = cap
    cap *= 2
    const g64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => { const b = new Float64Array(cap); b.set(a); return b }
    const g32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const b = new Int32Array(cap); b.set(a); return b }
    evT = g64(evT); evO = g64(evO); evNext = g32(evNext); evNode = g32(evNode); evSlot = g32(evSlot); evAuthor = g32(evAuthor); evSeq = g32(evSeq)
    const k = new Int8Array(cap); k.set(evKind); evKind = k
    free = new Int32Array(cap)
    freeTop = 0
    for (let i = cap - 1; i >= old; i--) free[freeTop++] = i
  }
  // The slot being delivered, sorted by (time, order).
  let batch = new Int32Array(256)
  let batchLen = 0
  let batchPos = 0
  let batchSlot = -1
  const openSlot = (): void => {
    const r = cur & ringMask
    let len = 0
    for (let id = ringHead[r]!; id >= 0; id = evNext[id]!) {
      if (len === batch.length) { const b = new Int32Array(batch.length * 2); b.set(batch); batch = b }
      // Insertion sort by (time, order).
      const t = evT[id]!; const o = evO[id]!
      let i = len++
      while (i > 0) {
        const p = batch[i - 1]!
        const pt = evT[p]!
        if (pt < t || (pt === t && evO[p]! < o)) break
        batch[i] = p
        i--
      }
      batch[i] = id
    }
    ringHead[r] = -1
    ringCount -= len
    batchLen = len
    batchPos = 0
    batchSlot = cur
  }
  const enqueue = (t: number, kind: number, node: number, slot: number, author: number, s: number): void => {
    if (freeTop === 0) grow()
    const id = free[--freeTop]!
    evT[id] = t; evO[id] = order++; evKind[id] = kind; evNode[id] = node; evSlot[id] = slot; evAuthor[id] = author; evSeq[id] = s
    const k = Math.floor(t * S)
    if (k <= batchSlot || k < cur || k - cur >= ringSize) throw new Error('status sim: a message due outside the calendar')
    const r = k & ringMask
    evNext[id] = ringHead[r]!
    ringHead[r] = id
    ringCount++
  }

  // ---- publications: a binary heap by (time, order)
  let pT = new Float64Array(1024)
  let pO = new Float64Array(1024)
  let pV = new Int32Array(1024)
  let pSize = 0
  const pubPush = (t: number, v: number): void => {
    if (pSize === pT.length) {
      const a = new Float64Array(pSize * 2); a.set(pT); pT = a
      const b = new Float64Array(pSize * 2); b.set(pO); pO = b
      const c = new Int32Array(pSize * 2); c.set(pV); pV = c
    }
    const o = order++
    let i = pSize++
    while (i > 0) {
      const p = (i - 1) >> 1
      if (pT[p]! < t || (pT[p] === t && pO[p]! < o)) break
      pT[i] = pT[p]!; pO[i] = pO[p]!; pV[i] = pV[p]!
      i = p
    }
    pT[i] = t; pO[i] = o; pV[i] = v
  }
  const pubPop = (): void => {
    const n = --pSize
    if (n === 0) return
    const t = pT[n]!; const o = pO[n]!; const v = pV[n]!
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && (pT[r]! < pT[l]! || (pT[r] === pT[l] && pO[r]! < pO[l]!)) ? r : l
      if (t < pT[c]! || (t === pT[c] && o < pO[c]!)) break
      pT[i] = pT[c]!; pO[i] = pO[c]!; pV[i] = pV[c]!
      i = c
    }
    pT[i] = t; pO[i] = o; pV[i] = v
  }

  // ---- want deadlines, in the order they were set (= the order they come due)
  let fKey = new Int32Array(1 << 12)
  let fAt = new Float64Array(1 << 12)
  let fO = new Float64Array(1 << 12)
  let fHead = 0
  let fTail = 0
  const deadlineAt = (key: number, at: number): void => {
    if (fTail === fKey.length) {
      const live = fTail - fHead
      if (live * 2 > fKey.length) {
        const k = new Int32Array(fKey.length * 2); k.set(fKey.subarray(fHead, fTail)); fKey = k
        const a = new Float64Array(fAt.length * 2); a.set(fAt.subarray(fHead, fTail)); fAt = a
        const o = new Float64Array(fO.length * 2); o.set(fO.subarray(fHead, fTail)); fO = o
      } else {
        fKey.copyWithin(0, fHead, fTail); fAt.copyWithin(0, fHead, fTail); fO.copyWithin(0, fHead, fTail)
      }
      fHead = 0
      fTail = live
    }
    fKey[fTail] = key
    fAt[fTail] = at
    fO[fTail++] = order++
  }

  // ---- the rule
  const lastArrival = new Float64Array(slots)
  /** A message from v on its slot e; arrivals on a link never overtake each other. */
  const send = (v: number, e: number, kind: number, a: number, s: number): void => {
    if (kind === HAVE) haveOut[v]!++
    else if (kind === WANT) wantOut[v]!++
    else { recordOut[v]!++; recordBytesOut[v]! += recordBytes[a]! }
    let t = now + lat[e]! + (jitter > 0 ? rng.next() * jitter : 0)
    if (t < lastArrival[e]!) t = lastArrival[e]!
    lastArrival[e] = t
    enqueue(t, kind, adj[e]!, rev[e]!, a, s)
  }

  /** #announceStatus: to every session but `except` whose known clock for the author is older. */
  const announce = (v: number, a: number, s: number, except: number): void => {
    const ka = a * slots
    for (let e = start[v]!, end = start[v + 1]!; e < end; e++) {
      if (e === except) continue
      const k = ka + e
      if (known[k]! >= s) { totals.announcementsSuppressedByKnown++; continue }
      known[k] = s
      send(v, e, HAVE, a, s)
    }
  }

  /**
   * #askNext: the first of `others` (all still connected here); at a deadline with none left, the one asked last
   * again (up to ASK_AGAIN_MAX times); else the want dropped.
   */
  const askNext = (v: number, a: number, key: number, w: number, timedOut: boolean): void => {
    const o = wHead[w]!
    let next: number
    if (o >= 0) {
      next = oSlot[o]!
      wHead[w] = oNext[o]!
      oFree.push(o)
    } else if (timedOut && wAgain[w]! < ASK_AGAIN_MAX) {
      wAgain[w]!++
      totals.askedAgain++
      next = wAsked[w]!
    } else {
      closeWant(key, w)
      totals.wantsDropped++
      return
    }
    wAsked[w] = next
    wDeadline[w] = now + REQUEST_TIMEOUT_MS
    deadlineAt(key, wDeadline[w]!)
    send(v, next, WANT, a, 0)
  }

  /** #onStatusHave, one head. */
  const onHave = (v: number, e: number, a: number, s: number): void => {
    haveIn[v]!++
    const k = a * slots + e
    if (s > known[k]!) known[k] = s
    const key = a * N + v
    if (s <= Math.max(stored[key]!, heldSeq[key]!)) return
    const w = wantOf[key]! - 1
    if (w >= 0) {
      if (s > wClock[w]!) wClock[w] = s
      if (wAsked[w] === e) return
      let o = wHead[w]!
      while (o >= 0 && oSlot[o] !== e) o = oNext[o]!
      if (o >= 0) return
      const n = newOther()
      oSlot[n] = e
      oNext[n] = -1
      if (wHead[w]! < 0) wHead[w] = n
      else oNext[wTail[w]!] = n
      wTail[w] = n
      totals.announcersQueued++
      return
    }
    const nw = newWant()
    wantOf[key] = nw + 1
    openWants++
    wClock[nw] = s
    wAsked[nw] = e
    wHead[nw] = -1
    wAgain[nw] = 0
    wDeadline[nw] = now + REQUEST_TIMEOUT_MS
    deadlineAt(key, wDeadline[nw]!)
    totals.wantsOpened++
    send(v, e, WANT, a, 0)
  }

  /** #onStatusWant, one author. */
  const onWant = (v: number, e: number, a: number): void => {
    wantIn[v]!++
    const held = stored[a * N + v]!
    if (held === 0) return
    const k = a * slots + e
    if (held > known[k]!) known[k] = held
    send(v, e, RECORD, a, held)
  }

  /** #onStatus, then #statusAnswered. */
  const onRecord = (v: number, e: number, a: number, s: number): void => {
    recordIn[v]!++
    recordBytesIn[v]! += recordBytes[a]!
    takeRecord(v, e, a, s)
  }

  /** takeStatus: a record from slot e, come now or held for the spacing until now. */
  const takeRecord = (v: number, e: number, a: number, s: number): void => {
    const key = a * N + v
    if (s > stored[key]!) {
      if (now - storedAt[key]! < STATUS_SPACING_MS) {
        if (s > heldSeq[key]!) {
          if (heldSeq[key] === 0) pubPush(storedAt[key]! + STATUS_SPACING_MS, -(key + 1))
          heldSeq[key] = s
          heldSlot[key] = e
        }
      } else {
        storedAt[key] = now
        if (heldSeq[key]! <= s) heldSeq[key] = 0
        stored[key] = s
        storedFromPeers[v]!++
        const k = a * slots + e
        if (s > known[k]!) known[k] = s
        announce(v, a, s, e)
      }
    } else {
      totals.staleRecords++ // a lookup, no signature check
    }
    const w = wantOf[key]! - 1
    if (w < 0) return
    if (wClock[w]! <= Math.max(stored[key]!, heldSeq[key]!)) { closeWant(key, w); return }
    totals.reaskedAfterOlderAnswer++
    askNext(v, a, key, w, false)
  }

  /** tick: a want past its deadline is asked of the next announcer. */
  const onDeadline = (key: number): void => {
    const w = wantOf[key]! - 1
    if (w < 0 || wDeadline[w]! > now) return // answered, or asked again since
    totals.reaskedAtDeadline++
    askNext(key % N, Math.floor(key / N), key, w, true)
  }

  /** The engine's tick at a held record's time: taken as if it came now. */
  const onHeldDue = (key: number): void => {
    const s = heldSeq[key]!
    if (s === 0) return // stored since, or replaced by a newer one come after the spacing
    heldSeq[key] = 0
    takeRecord(key % N, heldSlot[key]!, Math.floor(key / N), s)
  }

  const publish = (v: number): void => {
    if (seq[v] === 0xffff) throw new Error('status sim: sequence overflow')
    const s = ++seq[v]!
    stored[v * N + v] = s
    announce(v, v, s, -1)
  }

  const runUntil = (untilMs: number, stop?: () => boolean): void => {
    for (;;) {
      // The earliest of: the next publication, the next deadline, the next message (the calendar never read past the others).
      const tP = pSize > 0 ? pT[0]! : Infinity
      const oP = pSize > 0 ? pO[0]! : Infinity
      const tF = fHead < fTail ? fAt[fHead]! : Infinity
      const oF = fHead < fTail ? fO[fHead]! : Infinity
      const pubFirst = tP < tF || (tP === tF && oP < oF)
      const tOther = pubFirst ? tP : tF
      const oOther = pubFirst ? oP : oF
      const horizon = Math.min(tOther, untilMs)
      if (batchPos >= batchLen && ringCount > 0) {
        const last = Math.floor(horizon * S)
        while (cur <= last) {
          if (ringHead[cur & ringMask] !== -1) { openSlot(); break }
          cur++
        }
      }
      let tM = Infinity
      let oM = Infinity
      if (batchPos < batchLen) { const id = batch[batchPos]!; tM = evT[id]!; oM = evO[id]! }
      const message = tM < tOther || (tM === tOther && oM < oOther)
      const t = message ? tM : tOther
      if (t > untilMs) break
      if (stop?.() === true) return
      if (++eventsRun > init.maxEvents) throw new Error(`status sim: more than ${init.maxEvents} events`)
      if ((eventsRun & 0xfffff) === 0 && performance.now() - wallStart > init.maxWallMs) throw new Error(`status sim: over ${init.maxWallMs} ms of wall time`)
      now = t
      if (!message) {
        if (ringCount === 0 && batchPos >= batchLen) cur = Math.max(cur, Math.floor(t * S))
        if (pubFirst) {
          const v = pV[0]!
          pubPop()
          if (v < 0) onHeldDue(-v - 1); else init.onPublication(v)
        } else onDeadline(fKey[fHead++]!)
        continue
      }
      const id = batch[batchPos++]!
      if (batchPos >= batchLen) { batchLen = 0; batchPos = 0; batchSlot = -1; cur++ }
      const v = evNode[id]!
      const kind = evKind[id]!
      const e = evSlot[id]!; const a = evAuthor[id]!; const sq = evSeq[id]!
      free[freeTop++] = id
      if (init.trace !== undefined) init.trace(now, kind === HAVE ? 'status-have' : kind === WANT ? 'status-want' : 'status', v, adj[e]!, a, sq)
      if (kind === HAVE) onHave(v, e, a, sq)
      else if (kind === WANT) onWant(v, e, a)
      else onRecord(v, e, a, sq)
    }
    if (now < untilMs) now = untilMs
  }

  return {
    counters,
    totals,
    now: () => now,
    events: () => eventsRun,
    openWants: () => openWants,
    publish,
    schedulePublication: (t, v) => { pubPush(t, v) },
    runUntil
  }
}

// ------------------------------------------------------------------ 1,000 and 10,000 nodes

interface Dist { median: number, mean: number, min: number, max: number, p99: number }

function dist (xs: ArrayLike<number>): Dist {
  const s = Float64Array.from(xs).sort()
  let sum = 0
  for (const x of s) sum += x
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
  return { median: at(0.5), mean: sum / s.length, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, p99: at(0.99) }
}

const round = (x: number, digits = 2): number => Number.isFinite(x) ? Number(x.toFixed(digits)) : x
function roundDist (d: Dist, digits = 2): Dist {
  return { median: round(d.median, digits), mean: round(d.mean, digits), min: round(d.min, digits), max: round(d.max, digits), p99: round(d.p99, digits) }
}

function perMinuteOf (xs: ArrayLike<number>, perMinute: number): { median: number, mean: number, max: number } {
  const d = dist(xs)
  return { median: Math.round(d.median * perMinute), mean: Math.round(d.mean * perMinute), max: Math.round(d.max * perMinute) }
}

/** Records a second a node may receive past the budget before it counts as over: the period's ±20% jitter and Poisson bunching. */
export const BUDGET_TOLERANCE_RECORDS_PER_SECOND = 110

/** The message-level model (see the file's comment). */
export function simulateStatus (opts: StatusSimOptions): Record<string, unknown> {
  const wallStart = performance.now()
  const N = opts.nodes
  const rng = new Random(opts.seed)
  const g = randomGraph(rng, N, opts.dialsPerNode, opts.latencyMs)
  const { start } = g
  const deg = new Int32Array(N)
  for (let v = 0; v < N; v++) deg[v] = start[v + 1]! - start[v]!

  // Message bytes per author: its record lists its links (up to 48), so a busier node's record is bigger.
  const bytesByLinks = new Map<number, { recordBytes: number, messageBytes: number }>()
  const msgBytes = new Float64Array(N)
  const recBytes = new Float64Array(N)
  for (let v = 0; v < N; v++) {
    const l = Math.min(48, deg[v]!)
    let b = bytesByLinks.get(l)
    if (b === undefined) bytesByLinks.set(l, b = statusRecordSize(l, opts.seed))
    msgBytes[v] = b.messageBytes
    recBytes[v] = b.recordBytes
  }
  const { haveBytes, wantBytes } = statusPullSizes(opts.seed)

  // Publisher state.
  const copies = new Float64Array(N).fill(1)
  const period = new Float64Array(N).fill(statusPeriodMs(N, 1))
  const prevIn = new Float64Array(N)
  const prevStored = new Float64Array(N)
  const hasPrev = new Uint8Array(N)
  const publications = new Int32Array(N)
  let emitted = 0
  let thinning = Math.min(1, opts.warmupRecordsPerPeriod / N)
  let warm = 0 // nodes that have published warmupPublications times

  const model: StatusModel = createStatusModel({
    g,
    recordBytes: msgBytes,
    haveBytes,
    wantBytes,
    jitterMs: opts.jitterMs,
    rng,
    maxEvents: opts.maxEvents,
    maxWallMs: opts.maxWallMs,
    onPublication: v => {
      // StatusPublisher#report: the copies estimate from the counters since the last publication, then the period.
      const received = c.recordIn[v]! - prevIn[v]!
      const st = c.storedFromPeers[v]! - prevStored[v]!
      if (hasPrev[v] === 1 && st > 0) copies[v] = 0.7 * copies[v]! + 0.3 * Math.max(1, received / st)
      period[v] = statusPeriodMs(N, copies[v]!)
      prevIn[v] = c.recordIn[v]!
      prevStored[v] = c.storedFromPeers[v]!
      hasPrev[v] = 1
      publications[v] = publications[v]! + 1
      if (publications[v] === opts.warmupPublications) warm++
      if (thinning >= 1 || rng.next() < thinning) {
        emitted++
        model.publish(v)
      }
      model.schedulePublication(model.now() + jittered(period[v]!, rng.next()), v)
    }
  })
  const c = model.counters

  // Every node starts at a random point of its first period (the network has been up for a while).
  for (let v = 0; v < N; v++) model.schedulePublication(rng.next() * period[v]!, v)
  const warmupBoundMs = 200 * statusPeriodMs(N, 2 * opts.dialsPerNode) * opts.warmupPublications
  model.runUntil(warmupBoundMs, () => warm === N)
  const warmupMs = model.now()
  const warmupEvents = model.events()
  const warmupEmitted = emitted
  const periodsAtWarmupEnd = Float64Array.from(period)
  thinning = 1
  // A short settle (records of the thinned phase still in flight), then the window.
  model.runUntil(model.now() + 2_000)
  const keys = ['haveIn', 'wantIn', 'recordIn', 'recordBytesIn', 'haveOut', 'wantOut', 'recordOut', 'recordBytesOut', 'storedFromPeers'] as const
  const snap = (): Record<typeof keys[number], Float64Array> => Object.fromEntries(keys.map(k => [k, c[k].slice()])) as Record<typeof keys[number], Float64Array>
  const before = snap()
  const totalsBefore = { ...model.totals }
  const t0 = model.now()
  const emittedBefore = emitted
  model.runUntil(t0 + opts.windowMs)
  const after = snap()
  const seconds = opts.windowMs / 1000
  const perMinute = 60 / seconds
  const d = Object.fromEntries(keys.map(k => [k, after[k].map((x, v) => x - before[k][v]!)])) as Record<typeof keys[number], Float64Array>
  const totalsW = Object.fromEntries(Object.entries(model.totals).map(([k, x]) => [k, x - totalsBefore[k as keyof ModelTotals]])) as Record<keyof ModelTotals, number>

  const recordsPerSecond = d.recordIn.map(x => x / seconds)
  const announcementsPerSecond = d.haveIn.map(x => x / seconds)
  const wantsPerSecond = d.wantIn.map(x => x / seconds)
  const copiesPerRecord = d.recordIn.map((x, v) => x / Math.max(1, d.storedFromPeers[v]!))
  const announcementsPerRecord = d.haveIn.map((x, v) => x / Math.max(1, d.storedFromPeers[v]!))
  const haveBytesIn = d.haveIn.map(x => x * haveBytes)
  const wantBytesIn = d.wantIn.map(x => x * wantBytes)
  const haveBytesOut = d.haveOut.map(x => x * haveBytes)
  const wantBytesOut = d.wantOut.map(x => x * wantBytes)
  const bytesIn = d.recordBytesIn.map((x, v) => x + haveBytesIn[v]! + wantBytesIn[v]!)
  const bytesOut = d.recordBytesOut.map((x, v) => x + haveBytesOut[v]! + wantBytesOut[v]!)
  const sum = (xs: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]!; return s }
  const totalRecordsIn = sum(d.recordIn)
  const totalStored = sum(d.storedFromPeers)
  const totalHavesIn = sum(d.haveIn)
  let over100 = 0
  let over110 = 0
  for (const r of recordsPerSecond) { if (r > STATUS_RECORDS_PER_SECOND_MAX) over100++; if (r > BUDGET_TOLERANCE_RECORDS_PER_SECOND) over110++ }
  // Degree of the nodes that receive the most.
  const byRate = [...recordsPerSecond.keys()].sort((a, b) => recordsPerSecond[b]! - recordsPerSecond[a]!)
  const top = byRate.slice(0, Math.max(1, Math.floor(N / 100)))
  const byDegree = [...deg.keys()].sort((a, b) => deg[b]! - deg[a]!).slice(0, Math.max(1, Math.floor(N / 100)))
  const meanOf = (vs: readonly number[], xs: ArrayLike<number>): number => vs.reduce((s, v) => s + xs[v]!, 0) / vs.length
  const degMean = 2 * g.links / N
  const periodD = dist(period)
  return {
    nodes: N,
    model: 'message-level: the engine\'s announce-and-pull rule (status-have to sessions whose known clock is older, status-want to one announcer, others asked after an older answer or 2 s), the publisher\'s copies estimate and period, in-order links, virtual time',
    topology: {
      kind: `random graph, each node dials ${opts.dialsPerNode} distinct random others`,
      links: g.links,
      degree: roundDist(dist(deg)),
      addedForConnectivity: g.addedForConnectivity,
      latencyMsPerLink: opts.latencyMs,
      jitterMsPerMessage: opts.jitterMs
    },
    record: {
      bytesMedian: dist(recBytes).median,
      messageBytesMedian: dist(msgBytes).median,
      haveMessageBytes: haveBytes,
      wantMessageBytes: wantBytes,
      note: 'record: encodeReport (links = the node\'s degree, 2 spaces, 1 folder), signed into a status space; messages = encodeMessage({m:"status"}), ({m:"status-have"}, one head), ({m:"status-want"}, one author), as the engine counts them (libp2p framing not included)'
    },
    warmup: {
      virtualSeconds: Math.round(warmupMs / 1000),
      publicationsPerNodeAtLeast: opts.warmupPublications,
      thinning: round(Math.min(1, opts.warmupRecordsPerPeriod / N), 4),
      recordsSent: warmupEmitted,
      events: warmupEvents
    },
    window: {
      virtualSeconds: seconds,
      scaledToPerMinute: seconds !== 60,
      recordsPublished: emitted - emittedBefore,
      events: model.events() - warmupEvents
    },
    periodMs: { median: Math.round(periodD.median), min: Math.round(periodD.min), max: Math.round(periodD.max) },
    periodMsChangeOverWindowMedianPercent: round(100 * (periodD.median / dist(periodsAtWarmupEnd).median - 1), 2),
    copiesEstimate: roundDist(dist(copies), 4),
    perNode: {
      statusBytesInPerMinute: {
        records: perMinuteOf(d.recordBytesIn, perMinute),
        announcements: perMinuteOf(haveBytesIn, perMinute),
        wants: perMinuteOf(wantBytesIn, perMinute),
        total: perMinuteOf(bytesIn, perMinute)
      },
      statusBytesOutPerMinute: {
        records: perMinuteOf(d.recordBytesOut, perMinute),
        announcements: perMinuteOf(haveBytesOut, perMinute),
        wants: perMinuteOf(wantBytesOut, perMinute),
        total: perMinuteOf(bytesOut, perMinute)
      },
      recordsInPerSecond: roundDist(dist(recordsPerSecond), 1),
      announcementsInPerSecond: roundDist(dist(announcementsPerSecond), 1),
      wantsInPerSecond: roundDist(dist(wantsPerSecond), 1),
      copiesPerRecord: roundDist(dist(copiesPerRecord), 4),
      announcementsPerRecord: roundDist(dist(announcementsPerRecord), 2)
    },
    copiesPerRecordOverall: round(totalRecordsIn / totalStored, 4),
    announcementsPerRecordOverall: round(totalHavesIn / totalStored, 3),
    announcementsPerRecordPerLink: round(totalHavesIn / totalStored * N / g.links, 3),
    recordsInPerSecondBudget: {
      budget: STATUS_RECORDS_PER_SECOND_MAX,
      tolerance: BUDGET_TOLERANCE_RECORDS_PER_SECOND,
      everyNodeAtMostBudget: over100 === 0,
      everyNodeAtMostTolerance: over110 === 0,
      nodesAboveBudget: over100,
      nodesAboveTolerance: over110
    },
    busiestPercent: {
      nodes: top.length,
      degreeMean: round(meanOf(top, deg), 1),
      recordsInPerSecondMean: round(meanOf(top, recordsPerSecond), 1),
      announcementsInPerSecondMean: round(meanOf(top, announcementsPerSecond), 1),
      networkDegreeMean: round(degMean, 2)
    },
    highestDegreePercent: {
      nodes: byDegree.length,
      degreeMean: round(meanOf(byDegree, deg), 1),
      recordsInPerSecondMean: round(meanOf(byDegree, recordsPerSecond), 1),
      announcementsInPerSecondMean: round(meanOf(byDegree, announcementsPerSecond), 1)
    },
    pulls: {
      ...totalsW,
      staleRecordsFraction: round(totalsW.staleRecords / totalRecordsIn, 5),
      wantsOpenAtWindowEnd: model.openWants()
    },
    wallSeconds: round((performance.now() - wallStart) / 1000, 1)
  }
}

// ------------------------------------------------------------------ the model against the real engine

const TYPES = ['status', 'status-have', 'status-want'] as const

/**
 * The model against the real engine: the same graph and latencies in
 * test/sim's SimNetwork (real SyncEngines, real signed records in a real
 * status space, every node a member; links brought up in the graph's order,
 * so each engine's sessions are in its slots' order), each node publishing
 * at the same virtual times; `status`, `status-have` and `status-want`
 * messages received and sent per node compared one for one. Some nodes
 * publish again `doubleAfterMs` after their publication, while the first
 * record is still being pulled (a want's clock raised, an older answer, the
 * next announcer asked), and a few nodes have slow links (a want's
 * deadline, the next announcer asked or the want dropped, the late answer
 * a stale copy or the only one).
 */
export function crossCheck (opts: { nodes: number, dialsPerNode: number, seed: number, publicationsPerNode: number, spacingMs: number, doubleShare: number, doubleAfterMs: number, slowNodes: number, slowLatencyMs: number }): Record<string, unknown> {
  const wallStart = performance.now()
  const N = opts.nodes
  const rng = new Random(opts.seed)
  const latency: [number, number] = [2, 10]
  const g = randomGraph(rng, N, opts.dialsPerNode, latency)
  // A few slow nodes (every link of theirs, both ways): a want sent over one is answered after REQUEST_TIMEOUT_MS, so
  // the next announcer is asked, or the want dropped when there is none (their own records), and the late answer comes.
  // Latencies drawn, not one value: events at exactly one time are ordered by test/sim as it scheduled them (a node's
  // tick when it was last rescheduled, not when its deadline was set), which is no part of the rule.
  const slow = rng.shuffle([...Array(N).keys()]).slice(0, opts.slowNodes)
  for (const v of slow) for (let e = g.start[v]!; e < g.start[v + 1]!; e++) g.lat[e] = g.lat[g.rev[e]!] = opts.slowLatencyMs * (1 + 0.1 * rng.next())
  // Publication times: each node once per round, rounds `spacingMs` apart, in a random order; some twice.
  const times: { atMs: number, node: number }[] = []
  for (let r = 0; r < opts.publicationsPerNode; r++) {
    const order = rng.shuffle([...Array(N).keys()])
    order.forEach((v, i) => {
      const atMs = 10_000 + r * opts.spacingMs + Math.round(i * opts.spacingMs / N)
      times.push({ atMs, node: v })
      if (rng.next() < opts.doubleShare) times.push({ atMs: atMs + opts.doubleAfterMs, node: v })
    })
  }
  times.sort((a, b) => a.atMs - b.atMs)

  // The real engine.
  const net = new SimNetwork(opts.seed)
  const key = (i: number): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench-status-x/${opts.seed}/${i}`).digest())
  const keys = Array.from({ length: N }, (_, i) => key(i))
  const template = new MemoryStore()
  const origin = SpaceReplica.create(template, keys[0]!, 'samepage-deployment', 0)
  for (let i = 1; i < N; i++) origin.append(keys[0]!, { t: 'acl.grant', member: keys[i]!.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, 1)
  for (let i = 0; i < N; i++) net.addNode(keys[i]!, i === 0 ? template : template.clone())
  for (const [a, b] of g.edges) {
    const ea = slotOf(g, a, b)
    net.addLink(net.nodes[a] as SimNode, net.nodes[b] as SimNode, g.lat[ea]!, 0)
  }
  for (const n of net.nodes) n.start(0)
  for (const link of net.links) net.tryUp(link)
  net.runUntil(5_000)
  const space = origin.key
  const body = (v: number): Record<string, unknown> => ({ v: 1, n: `node-${v}`, p: 3000 })
  const countsOf = (): { in: Record<string, number[]>, out: Record<string, number[]> } => ({
    in: Object.fromEntries(TYPES.map(t => [t, net.nodes.map(n => n.engine!.stats.messagesIn[t] ?? 0)])),
    out: Object.fromEntries(TYPES.map(t => [t, net.nodes.map(n => n.engine!.stats.messagesOut[t] ?? 0)]))
  })
  const beforeReal = countsOf()
  for (const { atMs, node } of times) {
    net.at(atMs, () => { const n = net.nodes[node] as SimNode; n.engine!.publishStatus(space, body(node), net.nowMs); net.pump(n) })
  }
  net.runUntil(times[times.length - 1]!.atMs + 15_000)
  const afterReal = countsOf()
  const real = {
    in: Object.fromEntries(TYPES.map(t => [t, afterReal.in[t]!.map((x, i) => x - beforeReal.in[t]![i]!)])),
    out: Object.fromEntries(TYPES.map(t => [t, afterReal.out[t]!.map((x, i) => x - beforeReal.out[t]![i]!)]))
  } as { in: Record<typeof TYPES[number], number[]>, out: Record<typeof TYPES[number], number[]> }
  const heldEverywhere = net.nodes.every(n => n.replica(space).statuses().length === N)

  // The model, on the same graph, latencies and times (no jitter: the real links here have none either).
  let published = 0
  const model = createStatusModel({
    g,
    recordBytes: new Float64Array(N),
    haveBytes: 0,
    wantBytes: 0,
    jitterMs: 0,
    rng: new Random(opts.seed),
    maxEvents: 50_000_000,
    maxWallMs: 120_000,
    onPublication: v => { published++; model.publish(v) }
  })
  for (const { atMs, node } of times) model.schedulePublication(atMs, node)
  model.runUntil(times[times.length - 1]!.atMs + 15_000)
  const mc = model.counters
  const modelCounts = {
    in: { status: mc.recordIn, 'status-have': mc.haveIn, 'status-want': mc.wantIn },
    out: { status: mc.recordOut, 'status-have': mc.haveOut, 'status-want': mc.wantOut }
  }
  const sum = (xs: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]!; return s }
  const records = times.length
  const compare: Record<string, unknown> = {}
  let allEqual = true
  const firstDiffs: string[] = []
  for (const dir of ['in', 'out'] as const) {
    for (const t of TYPES) {
      const r = real[dir][t]
      const m = modelCounts[dir][t]
      let equal = 0
      let maxAbsDiff = 0
      for (let v = 0; v < N; v++) {
        const diff = Math.abs(r[v]! - m[v]!)
        if (diff === 0) equal++
        else if (firstDiffs.length < 5) firstDiffs.push(`node ${v} ${t} ${dir}: real ${r[v]}, model ${m[v]}`)
        maxAbsDiff = Math.max(maxAbsDiff, diff)
      }
      if (equal !== N) allEqual = false
      compare[`${t} ${dir}`] = {
        perRecordPerNode: { realEngine: round(sum(r) / records / N, 4), model: round(sum(m) / records / N, 4) },
        nodesWithEqualCounts: equal,
        maxAbsDiffPerNode: maxAbsDiff
      }
    }
  }
  return {
    nodes: N,
    links: g.links,
    recordsPublished: records,
    publishedTwiceInQuickSuccession: records - N * opts.publicationsPerNode,
    slowNodes: { nodes: slow, latencyMsOfEachOfTheirLinks: [opts.slowLatencyMs, Math.round(1.1 * opts.slowLatencyMs)] },
    modelPublished: published,
    everyNodeEveryTypeEqual: allEqual,
    perType: compare,
    firstDifferences: firstDiffs,
    modelPulls: { ...model.totals },
    everyRecordHeldEverywhere: heldEverywhere,
    wallSeconds: round((performance.now() - wallStart) / 1000, 1)
  }
}

function slotOf (g: SimGraph, v: number, w: number): number {
  for (let e = g.start[v]!; e < g.start[v + 1]!; e++) if (g.adj[e] === w) return e
  throw new Error(`status cross-check: no link ${v}-${w}`)
}

if (import.meta.main) {
  if (process.argv[2] === 'cross') {
    console.log(JSON.stringify(crossCheck({ nodes: Number(process.argv[3] ?? 100), dialsPerNode: 4, seed: Number(process.argv[4] ?? 1), publicationsPerNode: 2, spacingMs: 10_000, doubleShare: Number(process.argv[6] ?? 0.3), doubleAfterMs: Number(process.argv[5] ?? 15), slowNodes: Number(process.argv[7] ?? 2), slowLatencyMs: Number(process.argv[8] ?? 1500) }), null, 2))
  } else {
    const nodes = Number(process.argv[2] ?? 1000)
    const windowMs = Number(process.argv[3] ?? 60_000)
    console.log(JSON.stringify(simulateStatus({
      nodes, dialsPerNode: 4, seed: 1, windowMs, warmupPublications: Number(process.argv[4] ?? 12), warmupRecordsPerPeriod: Number(process.argv[5] ?? (nodes >= 10_000 ? 30 : 100)),
      latencyMs: [2, 10], jitterMs: 1, maxEvents: 2_000_000_000, maxWallMs: 300_000
    }), null, 2))
  }
}

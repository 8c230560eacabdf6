import crypto from 'node:crypto'
import { encodeMessage } from '../src/codec/index.ts'
import { keyPairFromSeed, peerIdOf } from '../src/identity/index.ts'
import type { KeyPair } from '../src/identity/index.ts'
import { SpaceReplica } from '../src/space/index.ts'
import { MemoryStore } from '../src/store/index.ts'
import { encodeReport, jittered, statusPeriodMs } from '../src/telemetry/index.ts'
import type { NodeReport } from '../src/telemetry/index.ts'
import { SimNetwork } from '../test/sim/network.ts'
import type { SimNode } from '../test/sim/network.ts'
import { Random } from '../test/sim/random.ts'

/**
 * Status flooding at 1,000 and 10,000 nodes, as a message-level model: the
 * real engine with real signatures is far too slow for that on 2 cores.
 *
 * The model applies the engine's rule (sync/engine.ts `#forwardStatus` and
 * `#onStatus`): a node keeps the newest record per author; a copy that is
 * not newer is dropped and changes nothing (not even what the sender is
 * known to hold); a newer one is stored, its sender's session marked as
 * holding it, and it is sent to every other neighbour session whose known
 * clock for that author is older, which is then marked. The publisher is
 * telemetry/publisher.ts: at each publication the copies estimate becomes
 * 0.7 × itself + 0.3 × max(1, status messages received ÷ records stored
 * since the last publication) (the first publication changes nothing), the
 * period statusPeriodMs(N, copies), the next one due after jittered(period).
 * Links deliver in order with a few ms of latency, on a virtual clock and an
 * event queue (a binary heap over typed arrays: test/sim/event-queue.ts
 * holds objects, too slow for 10^8 events).
 *
 * Warm-up: the feedback loop needs ~15 publications per node to settle, and
 * one publication round costs N × (2 × links − N) messages (7 × 10^8 at
 * 10,000 nodes). So during warm-up each publication is put on the wire with
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
  return { n, start, adj, rev, lat, links: edges.length, addedForConnectivity }
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
    alerts: []
  }
  const s = status.publishStatus(me, encodeReport(report), nowMs)
  const message = encodeMessage({ m: 'status', space: status.id, record: [s.bytes, s.sig] })
  return { recordBytes: s.bytes.length, messageBytes: message.length }
}

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

function perMinuteOf (d: Dist, perMinute: number): { median: number, mean: number, max: number } {
  return { median: Math.round(d.median * perMinute), mean: Math.round(d.mean * perMinute), max: Math.round(d.max * perMinute) }
}

/** The message-level model (see the file's comment). */
export function simulateStatus (opts: StatusSimOptions): Record<string, unknown> {
  const wallStart = performance.now()
  const N = opts.nodes
  const rng = new Random(opts.seed)
  const g = randomGraph(rng, N, opts.dialsPerNode, opts.latencyMs)
  const { start, adj, rev, lat } = g
  const slots = adj.length
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

  // Node and session state. Record clocks are per-author sequence numbers (an author's clock only grows).
  // Author-major, so one record's flood touches one small region of each (a few floods are in flight at once).
  const stored = new Uint16Array(N * N) // [author * N + node]: the newest seq held; 0 = none
  const known = new Uint16Array(slots * N) // [author * slots + session slot]: the engine's statusKnown
  const seq = new Uint16Array(N)
  const msgIn = new Float64Array(N)
  const bytesIn = new Float64Array(N)
  const msgOut = new Float64Array(N)
  const bytesOut = new Float64Array(N)
  const storedFromPeers = new Float64Array(N)
  let staleCopies = 0
  let suppressedByKnown = 0
  // Publisher state.
  const copies = new Float64Array(N).fill(1)
  const period = new Float64Array(N).fill(statusPeriodMs(N, 1))
  const prevIn = new Float64Array(N)
  const prevStored = new Float64Array(N)
  const hasPrev = new Uint8Array(N)
  const publications = new Int32Array(N)
  let emitted = 0

  // Event queue: a binary heap of event ids ordered by (time, insertion order); fields in typed arrays.
  let cap = 1 << 16
  let evT = new Float64Array(cap)
  let evO = new Float64Array(cap)
  let evNode = new Int32Array(cap)
  let evSlot = new Int32Array(cap) // -1: a publication of evNode; else the receiver's slot for the sender
  let evAuthor = new Int32Array(cap)
  let evSeq = new Int32Array(cap)
  let free = new Int32Array(cap)
  let freeTop = 0
  for (let i = cap - 1; i >= 0; i--) free[freeTop++] = i
  let heap = new Int32Array(cap)
  let heapSize = 0
  let order = 0
  let now = 0
  let eventsRun = 0

  const grow = (): void => {
    const old = cap
    cap *= 2
    const g64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => { const b = new Float64Array(cap); b.set(a); return b }
    const g32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => { const b = new Int32Array(cap); b.set(a); return b }
    evT = g64(evT); evO = g64(evO); evNode = g32(evNode); evSlot = g32(evSlot); evAuthor = g32(evAuthor); evSeq = g32(evSeq)
    heap = g32(heap)
    free = new Int32Array(cap)
    freeTop = 0
    for (let i = cap - 1; i >= old; i--) free[freeTop++] = i
  }
  const less = (a: number, b: number): boolean => evT[a]! < evT[b]! || (evT[a] === evT[b] && evO[a]! < evO[b]!)
  const push = (t: number, node: number, slot: number, author: number, s: number): void => {
    if (freeTop === 0) grow()
    const id = free[--freeTop]!
    evT[id] = t; evO[id] = order++; evNode[id] = node; evSlot[id] = slot; evAuthor[id] = author; evSeq[id] = s
    let i = heapSize++
    while (i > 0) {
      const p = (i - 1) >> 1
      const pid = heap[p]!
      if (!less(id, pid)) break
      heap[i] = pid
      i = p
    }
    heap[i] = id
  }
  const pop = (): number => {
    const top = heap[0]!
    const last = heap[--heapSize]!
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heapSize) break
      const r = l + 1
      const c = r < heapSize && less(heap[r]!, heap[l]!) ? r : l
      if (!less(heap[c]!, last)) break
      heap[i] = heap[c]!
      i = c
    }
    if (heapSize > 0) heap[i] = last
    return top
  }

  const lastArrival = new Float64Array(slots)
  const jitter = opts.jitterMs
  /** #forwardStatus: to every session but the sender's whose known clock for the author is older. */
  const forward = (v: number, a: number, s: number, except: number): void => {
    const b = msgBytes[a]!
    const ka = a * slots
    for (let e = start[v]!, end = start[v + 1]!; e < end; e++) {
      if (e === except) continue
      const k = ka + e
      if (known[k]! >= s) { suppressedByKnown++; continue }
      known[k] = s
      msgOut[v]!++
      bytesOut[v]! += b
      let t = now + lat[e]! + (jitter > 0 ? rng.next() * jitter : 0)
      if (t < lastArrival[e]!) t = lastArrival[e]!
      lastArrival[e] = t
      push(t, adj[e]!, rev[e]!, a, s)
    }
  }

  let thinning = Math.min(1, opts.warmupRecordsPerPeriod / N)
  let warm = 0 // nodes that have published warmupPublications times
  const publish = (v: number): void => {
    // StatusPublisher#report: the copies estimate from the counters since the last publication, then the period.
    const received = msgIn[v]! - prevIn[v]!
    const st = storedFromPeers[v]! - prevStored[v]!
    if (hasPrev[v] === 1 && st > 0) copies[v] = 0.7 * copies[v]! + 0.3 * Math.max(1, received / st)
    period[v] = statusPeriodMs(N, copies[v]!)
    prevIn[v] = msgIn[v]!
    prevStored[v] = storedFromPeers[v]!
    hasPrev[v] = 1
    publications[v] = publications[v]! + 1
    if (publications[v] === opts.warmupPublications) warm++
    if (thinning >= 1 || rng.next() < thinning) {
      // SyncEngine.publishStatus: stored here, then forwarded to every neighbour (from = null).
      if (seq[v] === 0xffff) throw new Error('status sim: sequence overflow')
      const s = ++seq[v]!
      stored[v * N + v] = s
      emitted++
      forward(v, v, s, -1)
    }
    push(now + jittered(period[v]!, rng.next()), v, -1, v, 0)
  }

  const deliver = (v: number, slot: number, a: number, s: number): void => {
    msgIn[v]!++
    bytesIn[v]! += msgBytes[a]!
    const idx = a * N + v
    if (stored[idx]! >= s) { staleCopies++; return } // 'stale': a lookup, no signature check, no bookkeeping
    stored[idx] = s
    storedFromPeers[v]!++
    known[a * slots + slot] = s // the sender holds it
    forward(v, a, s, slot)
  }

  const runUntil = (untilMs: number, stop?: () => boolean): void => {
    while (heapSize > 0) {
      const id = heap[0]!
      if (evT[id]! > untilMs) break
      if (stop?.() === true) return
      pop()
      free[freeTop++] = id
      now = evT[id]!
      if (++eventsRun > opts.maxEvents) throw new Error(`status sim: more than ${opts.maxEvents} events`)
      if ((eventsRun & 0xfffff) === 0 && performance.now() - wallStart > opts.maxWallMs) throw new Error(`status sim: over ${opts.maxWallMs} ms of wall time`)
      const slot = evSlot[id]!
      if (slot < 0) publish(evNode[id]!)
      else deliver(evNode[id]!, slot, evAuthor[id]!, evSeq[id]!)
    }
    if (now < untilMs) now = untilMs
  }

  // Every node starts at a random point of its first period (the network has been up for a while).
  for (let v = 0; v < N; v++) push(rng.next() * period[v]!, v, -1, v, 0)
  const warmupBoundMs = 200 * statusPeriodMs(N, 2 * opts.dialsPerNode) * opts.warmupPublications
  runUntil(warmupBoundMs, () => warm === N)
  const warmupMs = now
  const warmupEvents = eventsRun
  const warmupEmitted = emitted
  const periodsAtWarmupEnd = Float64Array.from(period)
  thinning = 1
  // A short settle (records of the thinned phase still in flight), then the window.
  runUntil(now + 2_000)
  const snap = (): Float64Array[] => [msgIn.slice(), bytesIn.slice(), msgOut.slice(), bytesOut.slice(), storedFromPeers.slice()]
  const before = snap()
  const t0 = now
  const staleBefore = staleCopies
  const emittedBefore = emitted
  runUntil(t0 + opts.windowMs)
  const after = snap()
  const seconds = opts.windowMs / 1000
  const perMinute = 60 / seconds
  const d = (i: number): Float64Array => after[i]!.map((x, v) => x - before[i]![v]!)
  const inMsgs = d(0); const inBytes = d(1); const outMsgs = d(2); const outBytes = d(3); const storedW = d(4)
  const recordsPerSecond = inMsgs.map(x => x / seconds)
  const copiesPerRecord = inMsgs.map((x, v) => x / Math.max(1, storedW[v]!))
  let totalIn = 0; let totalStored = 0
  for (let v = 0; v < N; v++) { totalIn += inMsgs[v]!; totalStored += storedW[v]! }
  let over100 = 0
  for (const r of recordsPerSecond) if (r > 100) over100++
  // Degree of the nodes that receive the most: the period is set from each node's own copies, what it receives from everyone's.
  const byRate = [...recordsPerSecond.keys()].sort((a, b) => recordsPerSecond[b]! - recordsPerSecond[a]!)
  const top = byRate.slice(0, Math.max(1, Math.floor(N / 100)))
  const degMean = 2 * g.links / N
  const periodD = dist(period)
  return {
    nodes: N,
    model: 'message-level: the engine\'s forwarding and known-clock rule, the publisher\'s copies estimate and period, in-order links, virtual time',
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
      note: 'encodeReport (links = the node\'s degree, 2 spaces, 1 folder), signed into a status space; message = encodeMessage({m:"status"}) as the engine counts it (libp2p framing not included)'
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
      events: eventsRun - warmupEvents
    },
    periodMs: { median: Math.round(periodD.median), min: Math.round(periodD.min), max: Math.round(periodD.max) },
    periodMsChangeOverWindowMedianPercent: round(100 * (periodD.median / dist(periodsAtWarmupEnd).median - 1), 2),
    copiesEstimate: roundDist(dist(copies)),
    perNode: {
      statusBytesInPerMinute: perMinuteOf(dist(inBytes), perMinute),
      statusBytesOutPerMinute: perMinuteOf(dist(outBytes), perMinute),
      recordsInPerSecond: roundDist(dist(recordsPerSecond), 1),
      copiesPerRecord: roundDist(dist(copiesPerRecord))
    },
    copiesPerRecordOverall: round(totalIn / totalStored),
    copiesIfEveryLinkCarriedEachRecordOnceEachWay: round((2 * g.links - (N - 1)) / (N - 1)),
    recordsInPerSecondAtMost100: { everyNode: over100 === 0, nodesAbove100: over100, shareAbove100Percent: round(100 * over100 / N, 1) },
    busiestPercent: {
      nodes: top.length,
      degreeMean: round(top.reduce((s, v) => s + deg[v]!, 0) / top.length, 1),
      recordsInPerSecondMean: round(top.reduce((s, v) => s + recordsPerSecond[v]!, 0) / top.length, 1),
      networkDegreeMean: round(degMean, 2)
    },
    staleCopiesFraction: round((staleCopies - staleBefore) / totalIn, 3),
    sendsSuppressedByKnownClock: suppressedByKnown,
    wallSeconds: round((performance.now() - wallStart) / 1000, 1)
  }
}

/**
 * The model against the real engine: the same graph and latencies in
 * test/sim's SimNetwork (real SyncEngines, real signed records in a real
 * status space, every node a member), each node publishing at the same
 * virtual times; status messages received per node compared one for one.
 */
export function crossCheck (opts: { nodes: number, dialsPerNode: number, seed: number, publicationsPerNode: number, spacingMs: number }): Record<string, unknown> {
  const wallStart = performance.now()
  const N = opts.nodes
  const rng = new Random(opts.seed)
  const latency: [number, number] = [2, 10]
  const g = randomGraph(rng, N, opts.dialsPerNode, latency)
  // Publication times: each node once per round, rounds `spacingMs` apart, in a random order.
  const times: { atMs: number, node: number }[] = []
  for (let r = 0; r < opts.publicationsPerNode; r++) {
    const order = rng.shuffle([...Array(N).keys()])
    order.forEach((v, i) => times.push({ atMs: 10_000 + r * opts.spacingMs + i * opts.spacingMs / N, node: v }))
  }

  // The real engine.
  const net = new SimNetwork(opts.seed)
  const key = (i: number): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench-status-x/${opts.seed}/${i}`).digest())
  const keys = Array.from({ length: N }, (_, i) => key(i))
  const template = new MemoryStore()
  const origin = SpaceReplica.create(template, keys[0]!, 'samepage-deployment', 0)
  for (let i = 1; i < N; i++) origin.append(keys[0]!, { t: 'acl.grant', member: keys[i]!.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, 1)
  for (let i = 0; i < N; i++) net.addNode(keys[i]!, i === 0 ? template : template.clone())
  for (let v = 0; v < N; v++) {
    for (let e = g.start[v]!; e < g.start[v + 1]!; e++) if (g.adj[e]! > v) net.addLink(net.nodes[v] as SimNode, net.nodes[g.adj[e]!] as SimNode, g.lat[e]!, 0)
  }
  for (const n of net.nodes) n.start(0)
  for (const link of net.links) net.tryUp(link)
  net.runUntil(5_000)
  const space = origin.key
  const body = (v: number): Record<string, unknown> => ({ v: 1, n: `node-${v}`, p: 3000 })
  const beforeReal = net.nodes.map(n => n.engine!.stats.messagesIn.status ?? 0)
  for (const { atMs, node } of times) {
    net.at(atMs, () => { const n = net.nodes[node] as SimNode; n.engine!.publishStatus(space, body(node), net.nowMs); net.pump(n) })
  }
  net.runUntil(times[times.length - 1]!.atMs + 5_000)
  const real = net.nodes.map((n, i) => (n.engine!.stats.messagesIn.status ?? 0) - beforeReal[i]!)
  const heldEverywhere = net.nodes.every(n => n.replica(space).statuses().length === N)

  // The model, on the same graph, latencies and times (no jitter: the real links here have none either).
  const model = modelFlood(g, times)
  let maxAbsDiff = 0
  let equal = 0
  for (let v = 0; v < N; v++) {
    const diff = Math.abs(real[v]! - model[v]!)
    maxAbsDiff = Math.max(maxAbsDiff, diff)
    if (diff === 0) equal++
  }
  const sum = (xs: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]!; return s }
  const records = times.length
  return {
    nodes: N,
    links: g.links,
    recordsPublished: records,
    statusMessagesPerRecordPerNode: { realEngine: round(sum(real) / records / (N - 1), 3), model: round(sum(model) / records / (N - 1), 3) },
    nodesWithEqualCounts: equal,
    maxAbsDiffPerNode: maxAbsDiff,
    everyRecordHeldEverywhere: heldEverywhere,
    wallSeconds: round((performance.now() - wallStart) / 1000, 1)
  }
}

/** The model's forwarding alone, for given publication times: status messages received per node. */
function modelFlood (g: SimGraph, times: readonly { atMs: number, node: number }[]): Float64Array {
  const N = g.n
  const stored = new Uint16Array(N * N)
  const known = new Uint16Array(g.adj.length * N)
  const seq = new Uint16Array(N)
  const lastArrival = new Float64Array(g.adj.length)
  const msgIn = new Float64Array(N)
  // Few events here: a sorted insert into an array of objects is enough.
  type Ev = { t: number, o: number, v: number, slot: number, a: number, s: number }
  const q: Ev[] = []
  let o = 0
  const push = (ev: Ev): void => {
    let lo = 0; let hi = q.length
    while (lo < hi) { const mid = (lo + hi) >> 1; const m = q[mid]!; if (m.t < ev.t || (m.t === ev.t && m.o < ev.o)) lo = mid + 1; else hi = mid }
    q.splice(lo, 0, ev)
  }
  let now = 0
  const forward = (v: number, a: number, s: number, except: number): void => {
    for (let e = g.start[v]!; e < g.start[v + 1]!; e++) {
      if (e === except || known[e * N + a]! >= s) continue
      known[e * N + a] = s
      const t = Math.max(lastArrival[e]!, now + g.lat[e]!)
      lastArrival[e] = t
      push({ t, o: o++, v: g.adj[e]!, slot: g.rev[e]!, a, s })
    }
  }
  for (const { atMs, node } of times) push({ t: atMs, o: o++, v: node, slot: -1, a: node, s: 0 })
  for (let guard = 0; q.length > 0; guard++) {
    if (guard > 50_000_000) throw new Error('status cross-check: too many events')
    const ev = q.shift()!
    now = ev.t
    if (ev.slot < 0) { const s = ++seq[ev.v]!; stored[ev.v * N + ev.v] = s; forward(ev.v, ev.v, s, -1); continue }
    msgIn[ev.v]!++
    if (stored[ev.v * N + ev.a]! >= ev.s) continue
    stored[ev.v * N + ev.a] = ev.s
    known[ev.slot * N + ev.a] = ev.s
    forward(ev.v, ev.a, ev.s, ev.slot)
  }
  return msgIn
}

if (import.meta.main) {
  const nodes = Number(process.argv[2] ?? 1000)
  const windowMs = Number(process.argv[3] ?? 60_000)
  console.log(JSON.stringify(simulateStatus({
    nodes, dialsPerNode: 4, seed: 1, windowMs, warmupPublications: Number(process.argv[4] ?? 12), warmupRecordsPerPeriod: Number(process.argv[5] ?? (nodes >= 10_000 ? 30 : 100)),
    latencyMs: [2, 10], jitterMs: 1, maxEvents: 400_000_000, maxWallMs: 300_000
  }), null, 2))
}

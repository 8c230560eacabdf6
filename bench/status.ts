import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { encodeMessage } from '../src/codec/index.ts'
import { generateKeyPair } from '../src/identity/index.ts'
import { decodeInviteToken, encodeInviteToken, Node } from '../src/node/index.ts'
import { SpaceReplica } from '../src/space/index.ts'
import { MemoryStore } from '../src/store/index.ts'
import { BASE_PERIOD_MS, downAfterMs, STATUS_RECORDS_PER_SECOND_MAX } from '../src/telemetry/index.ts'
import { Random } from '../test/sim/random.ts'
import { IpcChild } from './ipc-child.ts'
import { startDaemon, stopDaemon, until } from './samepage-daemons.ts'
import type { Daemon } from './samepage-daemons.ts'
import { BUDGET_TOLERANCE_RECORDS_PER_SECOND, crossCheck, simulateStatus } from './status-sim.ts'

/** Peer exchange would link every member to every other it hears of: the bench measures its own random graph. */
const TOPOLOGY_ONLY = { meshLinks: false } as const

/**
 * Telemetry's cost and its death detection.
 *
 * Real nodes (5, 20, 50) on 127.0.0.1 over libp2p TCP. Up to 20: each node a
 * `samepage start` daemon in its own process, driven over its HTTP API. At
 * 50: a daemon with nothing to do takes ~3% of a core on this 2-core VM (the
 * telemetry's timers: alert probes every second, the report every period;
 * and ~0.7% for prom-client's event-loop-lag histogram, which wakes the loop
 * every 10 ms), so 50 daemons and their status traffic fill both cores (a
 * trial with a tree alone ran at 180%); the 50 are Node instances in a few
 * worker processes (this file, forked with --status-worker), driven over
 * IPC, the node to be killed alone in its own process.
 *
 * Node 0 creates a space and one writer invite (it also carries node 0's
 * deployment status space); each further node joins through a random earlier
 * node (the token's address set to that node's, so the join dials it and is
 * presented there; a writer cannot invite, only an admin can), which makes a
 * random tree; each node from the third on also dials 2 random earlier nodes
 * (a mesh). Once every node's map shows all N nodes up: a warm-up, then a
 * window: status messages and bytes in and out per node, split into records
 * (`status`), announcements (`status-have`) and wants (`status-want`) (the
 * engine's counters, GET /v1/stats), distinct records stored (two observer
 * nodes' maps polled every 500 ms, each record known by its clock, the
 * author's lastSeenMs; a node stored the others' records published between
 * its two snapshots, as every record reaches every node within
 * milliseconds), the period each node chose.
 * Then one node (no cut vertex, no observer) is SIGKILLed, and every other
 * node polled every 250 ms until its map shows it down.
 *
 * Simulated nodes (1,000, 10,000): bench/status-sim.ts, a message-level model
 * of the same announce-and-pull rule and period feedback, and a cross-check
 * of that model against the real SyncEngine in test/sim on 100 nodes (every
 * node's status, status-have and status-want messages in and out, one for one;
 * test/sync/status-gossip.test.ts runs the same check on 24 nodes in `npm test`).
 */
export interface StatusBenchOptions {
  readonly realSizes: readonly number[]
  readonly windowMs: number
  readonly warmupMs: number
  readonly simSizes: readonly number[]
  readonly simWindowMs: number
  readonly crossCheckNodes: number
  readonly seed: number
  readonly log: (msg: string) => void
}

const EXTRA_DIALS = 2
const OBSERVER_POLL_MS = 500
const DOWN_POLL_MS = 250
/** libp2p refuses more than 5 inbound connections a second from one address: joins and dials are paced under it. */
const INBOUND_PER_SECOND = 4
/** Up to this many nodes, one daemon process each; above, in-process nodes in worker processes. */
const DAEMONS_UP_TO = 20
const NODES_PER_WORKER = 8
/** The simulated window at 10,000 nodes (scaled to per minute): see benchStatus. */
const SIM_WINDOW_MS_AT_10K = 15_000

export async function benchStatus (opts: StatusBenchOptions): Promise<Record<string, unknown>> {
  const real: Record<string, unknown>[] = []
  for (const n of opts.realSizes) {
    opts.log(`status: ${n} real nodes on 127.0.0.1 (tree + ${EXTRA_DIALS} extra dials per node), ${opts.windowMs / 1000} s window, then one SIGKILL`)
    real.push(await realRun(n, opts))
  }
  const simulated: Record<string, unknown>[] = []
  for (const n of opts.simSizes) {
    opts.log(`status: ${n} simulated nodes (message-level model, degree ~8)`)
    simulated.push(simulateStatus({
      nodes: n,
      dialsPerNode: 4,
      seed: opts.seed,
      // At 10,000 nodes a minute is ~6,000 records, ~6 × 10^8 messages (~3 min of wall time): 15 s (~1,500 records,
      // each reaching every node) scaled to a minute. The copies estimate starts at 1 and the pull measures 1, so
      // 6 publications per node settle it there (1,000 nodes keep 12 to show that it stays).
      windowMs: n >= 10_000 ? Math.min(opts.simWindowMs, SIM_WINDOW_MS_AT_10K) : opts.simWindowMs,
      warmupPublications: n >= 10_000 ? 6 : 12,
      warmupRecordsPerPeriod: n >= 10_000 ? 30 : 100,
      latencyMs: [2, 10],
      jitterMs: 1,
      maxEvents: 400_000_000,
      maxWallMs: 180_000
    }))
  }
  let cross: Record<string, unknown> | undefined
  if (opts.crossCheckNodes > 0) {
    opts.log(`status: the model against the real engine (test/sim) on ${opts.crossCheckNodes} nodes`)
    cross = crossCheck({ nodes: opts.crossCheckNodes, dialsPerNode: 4, seed: opts.seed, publicationsPerNode: 2, spacingMs: 10_000, doubleShare: 0.3, doubleAfterMs: 15, slowNodes: 2, slowLatencyMs: 1500 })
  }
  return {
    real: {
      topology: `random tree (each node joins through a random earlier one), plus ${EXTRA_DIALS} dials per node to random earlier nodes from the third on`,
      windowSeconds: opts.windowMs / 1000,
      warmupSecondsAfterAllUp: opts.warmupMs / 1000,
      runs: real
    },
    simulated: { runs: simulated, crossCheckAgainstRealEngine: cross },
    formula: formula(real, simulated)
  }
}

// ------------------------------------------------------------------ one node, however it runs

/** A node's status traffic (the engine's counters): records (`status`), announcements (`status-have`), wants (`status-want`). */
interface Stats {
  recordsIn: number, recordBytesIn: number, recordsOut: number, recordBytesOut: number
  havesIn: number, haveBytesIn: number, havesOut: number, haveBytesOut: number
  wantsIn: number, wantBytesIn: number, wantsOut: number, wantBytesOut: number
}
interface Summary { nodes: number, up: number, down: number, periodMs: number }
interface MapEntry { peerId: string, self: boolean, lastSeenMs: number | null, health: string, downAfterMs: number, periodMs: number | null }

interface NodeHandle {
  readonly peerId: string
  readonly addr: string
  /** The OS process holding it, and how many nodes that process holds. */
  readonly pid: number
  readonly perProcess: number
  createSpace (name: string): Promise<string>
  invite (space: string, uses: number): Promise<string>
  join (token: string): Promise<void>
  dial (addr: string): Promise<void>
  role (space: string): Promise<string | null>
  summary (): Promise<Summary>
  peers (): Promise<number>
  stats (): Promise<Stats>
  net (): Promise<MapEntry[]>
  /** SIGKILL of its process: only for a node alone in its process. */
  kill (): Promise<void>
}

function daemonHandle (d: Daemon): NodeHandle {
  return {
    peerId: d.peerId,
    addr: d.addrs[0]!,
    pid: d.pid,
    perProcess: 1,
    createSpace: async name => (await d.call('POST', '/v1/spaces', { name })).id as string,
    invite: async (space, uses) => (await d.call('POST', `/v1/spaces/${space}/invites`, { role: 'writer', uses, expiresInMs: 3_600_000 })).token as string,
    join: async token => { await d.call('POST', '/v1/join', { token }) },
    dial: async addr => { await d.call('POST', '/v1/peers', { addr }) },
    role: async space => ((await d.call('GET', '/v1/spaces')) as { id: string, role: string | null }[]).find(s => s.id === space)?.role ?? null,
    summary: async () => { const s = await d.call('GET', '/v1/status') as { periodMs: number, network: Summary }; return { ...s.network, periodMs: s.periodMs } },
    peers: async () => (await d.call('GET', '/v1/peers') as unknown[]).length,
    stats: async () => statsOf((await d.call('GET', '/v1/stats')).sync),
    net: async () => mapEntries(await d.call('GET', '/v1/net')),
    kill: async () => {
      const exited = new Promise(resolve => d.child.once('exit', resolve))
      d.child.kill('SIGKILL')
      await exited
    }
  }
}

function statsOf (sync: { messagesIn: Record<string, number>, bytesIn: Record<string, number>, messagesOut: Record<string, number>, bytesOut: Record<string, number> }): Stats {
  const of = (m: Record<string, number>, t: string): number => m[t] ?? 0
  return {
    recordsIn: of(sync.messagesIn, 'status'), recordBytesIn: of(sync.bytesIn, 'status'), recordsOut: of(sync.messagesOut, 'status'), recordBytesOut: of(sync.bytesOut, 'status'),
    havesIn: of(sync.messagesIn, 'status-have'), haveBytesIn: of(sync.bytesIn, 'status-have'), havesOut: of(sync.messagesOut, 'status-have'), haveBytesOut: of(sync.bytesOut, 'status-have'),
    wantsIn: of(sync.messagesIn, 'status-want'), wantBytesIn: of(sync.bytesIn, 'status-want'), wantsOut: of(sync.messagesOut, 'status-want'), wantBytesOut: of(sync.bytesOut, 'status-want')
  }
}

function mapEntries (map: { nodes: readonly { peerId: string, self: boolean, lastSeenMs: number | null, health: string, downAfterMs: number, report: { periodMs: number } | null }[] }): MapEntry[] {
  return map.nodes.map(x => ({ peerId: x.peerId, self: x.self, lastSeenMs: x.lastSeenMs, health: x.health, downAfterMs: x.downAfterMs, periodMs: x.report?.periodMs ?? null }))
}

// ------------------------------------------------------------------ worker processes (in-process nodes)

type WorkerRequest =
  | { op: 'open', dirs: string[] }
  | { op: 'createSpace', node: number, name: string }
  | { op: 'invite', node: number, space: string, uses: number }
  | { op: 'join', node: number, token: string }
  | { op: 'dial', node: number, addr: string }
  | { op: 'role', node: number, space: string }
  | { op: 'summary', node: number }
  | { op: 'peers', node: number }
  | { op: 'stats', node: number }
  | { op: 'net', node: number }
  | { op: 'close' }

/** A worker process holding some of the nodes, driven over IPC. */
class Worker extends IpcChild<WorkerRequest> {
  constructor () {
    super(import.meta.filename, ['--status-worker'], 'status worker', 15_000)
  }

  async open (dirs: string[]): Promise<NodeHandle[]> {
    const ids = await this.call<{ peerId: string, addr: string }[]>({ op: 'open', dirs })
    return ids.map((id, node) => ({
      peerId: id.peerId,
      addr: id.addr,
      pid: this.pid,
      perProcess: dirs.length,
      createSpace: async name => await this.call<string>({ op: 'createSpace', node, name }),
      invite: async (space, uses) => await this.call<string>({ op: 'invite', node, space, uses }),
      join: async token => { await this.call({ op: 'join', node, token }) },
      dial: async addr => { await this.call({ op: 'dial', node, addr }) },
      role: async space => await this.call<string | null>({ op: 'role', node, space }),
      summary: async () => await this.call<Summary>({ op: 'summary', node }),
      peers: async () => await this.call<number>({ op: 'peers', node }),
      stats: async () => await this.call<Stats>({ op: 'stats', node }),
      net: async () => await this.call<MapEntry[]>({ op: 'net', node }),
      kill: async () => {
        if (dirs.length !== 1) throw new Error('status bench: a worker holding several nodes is never killed')
        await this.kill()
      }
    }))
  }
}

async function workerMain (): Promise<void> {
  let nodes: Node[] = []
  const handle = async (req: WorkerRequest): Promise<unknown> => {
    switch (req.op) {
      case 'open':
        nodes = req.dirs.map(dir => Node.open({ dir, listen: ['/ip4/127.0.0.1/tcp/0'], ...TOPOLOGY_ONLY }))
        for (const n of nodes) await n.start()
        return nodes.map(n => ({ peerId: n.peerId, addr: n.id().addrs[0] }))
      case 'createSpace': return nodes[req.node]!.createSpace(req.name).id
      case 'invite': return nodes[req.node]!.invite(req.space, 'writer', req.uses, 3_600_000).token
      case 'join': await nodes[req.node]!.join(req.token); return null
      case 'dial': await nodes[req.node]!.dial(req.addr); return null
      case 'role': return nodes[req.node]!.spaces().find(s => s.id === req.space)?.role ?? null
      case 'summary': { const s = nodes[req.node]!.status(); return { ...s.network, periodMs: s.periodMs } }
      case 'peers': return nodes[req.node]!.peers().length
      case 'stats': return statsOf(nodes[req.node]!.syncStats() as unknown as Parameters<typeof statsOf>[0])
      case 'net': return mapEntries(nodes[req.node]!.network())
      case 'close':
        await Promise.all(nodes.map(async n => { await n.stop() }))
        setImmediate(() => process.exit(0))
        return null
    }
  }
  process.on('message', (msg: { id: number, req: WorkerRequest }) => {
    handle(msg.req).then(
      result => process.send!({ id: msg.id, result }),
      (err: unknown) => process.send!({ id: msg.id, error: err instanceof Error ? err.message : String(err) })
    )
  })
  process.on('disconnect', () => process.exit(0))
}

// ------------------------------------------------------------------ real nodes

interface Topology { parent: number[], extra: [number, number][], adj: number[][], links: number, victim: number }

function topology (rng: Random, n: number): Topology {
  const parent = [-1, ...Array.from({ length: n - 1 }, (_, k) => rng.int(0, k + 1))]
  const edges = new Set<string>()
  const key = (a: number, b: number): string => a < b ? `${a}-${b}` : `${b}-${a}`
  for (let i = 1; i < n; i++) edges.add(key(i, parent[i]!))
  const extra: [number, number][] = []
  for (let i = 2; i < n; i++) {
    const candidates = rng.shuffle([...Array(i).keys()].filter(j => !edges.has(key(i, j))))
    for (const j of candidates.slice(0, EXTRA_DIALS)) { edges.add(key(i, j)); extra.push([i, j]) }
  }
  const adj: number[][] = Array.from({ length: n }, () => [])
  for (const e of edges) { const [a, b] = e.split('-').map(Number) as [number, number]; adj[a]!.push(b); adj[b]!.push(a) }
  // The node to kill: not an observer (0, 1), and the others stay connected without it.
  const candidates = [...Array(n).keys()].filter(v => v >= 2 && connectedWithout(adj, v))
  const victim = rng.pick(candidates.length > 0 ? candidates : [n - 1])
  return { parent, extra, adj, links: edges.size, victim }
}

async function realRun (n: number, opts: StatusBenchOptions): Promise<Record<string, unknown>> {
  const rng = new Random(opts.seed * 1000 + n)
  const topo = topology(rng, n)
  const { parent, extra, adj } = topo
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-status-'))
  const daemons: Daemon[] = []
  const workers: Worker[] = []
  const nodes: NodeHandle[] = new Array(n)
  const useDaemons = n <= DAEMONS_UP_TO
  const t0 = performance.now()
  try {
    if (useDaemons) {
      // In batches of 5: startup is CPU-bound on 2 cores.
      for (let i = 0; i < n; i += 5) {
        const batch = await Promise.all(Array.from({ length: Math.min(5, n - i) }, async (_, k) => {
          const dir = path.join(root, `n${i + k}`)
          fs.mkdirSync(dir, { recursive: true })
          fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(TOPOLOGY_ONLY))
          return await startDaemon(dir, path.join(root, `f${i + k}`))
        }))
        daemons.push(...batch)
        batch.forEach((d, k) => { nodes[i + k] = daemonHandle(d) })
      }
    } else {
      const others = [...Array(n).keys()].filter(i => i !== topo.victim)
      const groups: number[][] = [[topo.victim]]
      const count = Math.ceil(others.length / NODES_PER_WORKER)
      for (let w = 0; w < count; w++) groups.push(others.filter((_, k) => k % count === w))
      for (const group of groups) {
        const w = new Worker()
        workers.push(w)
        const handles = await w.open(group.map(i => path.join(root, `n${i}`)))
        group.forEach((i, k) => { nodes[i] = handles[k]! })
      }
    }
    const startSeconds = (performance.now() - t0) / 1000
    opts.log(`status: ${n} nodes started in ${startSeconds.toFixed(1)} s (${useDaemons ? 'one daemon process each' : `${workers.length} worker processes`})`)

    const team = await nodes[0]!.createSpace('team')
    const decoded = decodeInviteToken(await nodes[0]!.invite(team, Math.max(1, n - 1)))
    // Joins in waves: nodes whose parent is in (a writer of the space and a member of the deployment) join at once,
    // at most INBOUND_PER_SECOND through one parent in a second.
    const joined = new Set([0])
    for (let wave = 0; joined.size < n; wave++) {
      if (wave > 4 * n) throw new Error('status bench: joins do not progress')
      const waveStart = Date.now()
      const perParent = new Map<number, number>()
      const ready = [...Array(n).keys()].filter(i => {
        if (joined.has(i) || !joined.has(parent[i]!)) return false
        const k = perParent.get(parent[i]!) ?? 0
        perParent.set(parent[i]!, k + 1)
        return k < INBOUND_PER_SECOND
      })
      await Promise.all(ready.map(async i => {
        await nodes[i]!.join(encodeInviteToken({ ...decoded, addrs: [nodes[parent[i]!]!.addr] }))
        await until(`node ${i} joined`, async () => await nodes[i]!.role(team) === 'writer' && (await nodes[i]!.summary()).nodes >= 2, 60_000, 100)
      }))
      for (const i of ready) joined.add(i)
      await sleep(Math.max(0, waveStart + 1100 - Date.now()))
    }
    // The extra links, in rounds of at most INBOUND_PER_SECOND dials to any one node a second; a refused dial is
    // tried again by the dialler itself (a dialled peer is kept, and redialled every 5 s).
    let dialsRefused = 0
    for (let pending = [...extra], r = 0; pending.length > 0 && r < 4 * n; r++) {
      const roundStart = Date.now()
      const perTarget = new Map<number, number>()
      const now = pending.filter(([, j]) => { const k = perTarget.get(j) ?? 0; perTarget.set(j, k + 1); return k < INBOUND_PER_SECOND })
      pending = pending.filter(e => !now.includes(e))
      await Promise.all(now.map(async ([i, j]) => {
        try {
          await nodes[i]!.dial(nodes[j]!.addr)
        } catch {
          dialsRefused++
        }
      }))
      await sleep(Math.max(0, roundStart + 1100 - Date.now()))
    }
    let linkState = ''
    try {
      await until('every link up', async () => {
        const peers = await Promise.all(nodes.map(async x => await x.peers()))
        linkState = peers.map((p, i) => p === adj[i]!.length ? '' : `node ${i}: ${p} of ${adj[i]!.length}`).filter(x => x !== '').join(', ')
        return linkState === ''
      }, 60_000, 250)
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${linkState}`)
    }
    const linkedMs = performance.now()
    await until(`every node's map shows all ${n} nodes up`, async () => {
      const st = await Promise.all(nodes.map(async x => await x.summary()))
      return st.every(s => s.nodes === n && s.up === n)
    }, 90_000, 250)
    const secondsUntilAllUp = (performance.now() - linkedMs) / 1000
    const setupSeconds = (performance.now() - t0) / 1000
    opts.log(`status: ${n} nodes joined, linked and all up everywhere after ${setupSeconds.toFixed(1)} s; warm-up ${opts.warmupMs / 1000} s`)
    await sleep(opts.warmupMs)

    const steady = await measureWindow(nodes, topo, opts.windowMs)
    opts.log(`status: ${n} nodes: ${steady.perNode.recordsInPerSecond.median} records/s and ${steady.perNode.announcementsInPerSecond.median} announcements/s in per node (median), ${steady.copiesPerRecordOverall} copies per record; killing one`)
    const death = await deathToDown(nodes, topo)
    return {
      nodes: n,
      processes: useDaemons
        ? `${n} samepage daemons (bin/samepage.js start), one OS process each, driven over the HTTP API (GET /v1/stats, /v1/status, /v1/net as samepage net --json reads it)`
        : `${n} samepage Nodes (src/node Node.open + start, no HTTP API) in ${workers.length} worker processes of up to ${NODES_PER_WORKER}, the node killed alone in its own; driven over IPC`,
      links: topo.links,
      degree: { median: median(adj.map(x => x.length)), min: Math.min(...adj.map(x => x.length)), max: Math.max(...adj.map(x => x.length)), mean: round(2 * topo.links / n, 2) },
      startSeconds: round(startSeconds, 1),
      setupSeconds: round(setupSeconds, 1),
      extraDialsRefusedAtFirst: dialsRefused,
      secondsFromLastLinkUntilAllUpEverywhere: round(secondsUntilAllUp, 1),
      steady,
      deathToDown: death
    }
  } finally {
    await Promise.all([...daemons.map(async d => { await stopDaemon(d) }), ...workers.map(async w => { await w.close() })])
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/** Per-node figures of one window, as a summary over the nodes. */
interface WindowResult {
  perNode: Record<string, unknown> & {
    recordsInPerSecond: { median: number, mean: number, max: number }
    announcementsInPerSecond: { median: number, mean: number, max: number }
    wantsInPerSecond: { median: number, mean: number, max: number }
    statusBytesInPerMinute: { total: { median: number, mean: number, max: number } }
  }
  copiesPerRecordOverall: number
  record: { messageBytesMedian: number, haveMessageBytesMedian: number, wantMessageBytesMedian: number } & Record<string, unknown>
  [k: string]: unknown
}

async function measureWindow (nodes: readonly NodeHandle[], topo: Topology, windowMs: number): Promise<WindowResult> {
  const n = nodes.length
  const observers = [0, 1].map(i => observe(nodes[i]!))
  const pids = [...new Set(nodes.map(x => x.pid))]
  const snap = async (): Promise<{ stats: (Stats & { atMs: number, wallMs: number })[], cpu: Map<number, number> }> => ({
    stats: await Promise.all(nodes.map(async x => { const st = await x.stats(); return { ...st, atMs: performance.now(), wallMs: Date.now() } })),
    cpu: new Map(pids.map(p => [p, cpuSeconds(p)]))
  })
  const before = await snap()
  await sleep(windowMs)
  const after = await snap()
  const seen = await Promise.all(observers.map(async o => await o.stop()))
  const summaries = await Promise.all(nodes.map(async x => await x.summary()))
  const peakRss = new Map(pids.map(p => [p, peakRssBytes(p)]))

  // Each author's records, by their clock, as observer 0 saw them (observer 1 for observer 0's own); node v stored
  // the others' records published between its two snapshots (they reach every node within milliseconds).
  const recordTimes = nodes.map((x, a) => [...(a === 0 ? seen[1]! : seen[0]!).get(x.peerId) ?? []])
  const publishedBetween = (a: number, fromMs: number, toMs: number): number => recordTimes[a]!.filter(t => t > fromMs && t <= toMs).length
  const totalPublished = nodes.reduce((s, _, a) => s + publishedBetween(a, before.stats[0]!.wallMs, after.stats[0]!.wallMs), 0)
  const rows = nodes.map((x, v) => {
    const b = before.stats[v]!; const a = after.stats[v]!
    const seconds = (a.atMs - b.atMs) / 1000
    const d = (k: keyof Stats): number => a[k] - b[k]
    const perMinute = (k: keyof Stats): number => d(k) * 60 / seconds
    let stored = 0
    for (let w = 0; w < n; w++) if (w !== v) stored += publishedBetween(w, b.wallMs, a.wallMs)
    const cpu = (after.cpu.get(x.pid)! - before.cpu.get(x.pid)!) / x.perProcess
    return {
      seconds,
      recordsIn: d('recordsIn'),
      havesIn: d('havesIn'),
      wantsIn: d('wantsIn'),
      stored,
      bytesIn: { records: perMinute('recordBytesIn'), announcements: perMinute('haveBytesIn'), wants: perMinute('wantBytesIn') },
      bytesOut: { records: perMinute('recordBytesOut'), announcements: perMinute('haveBytesOut'), wants: perMinute('wantBytesOut') },
      recordsInPerSecond: d('recordsIn') / seconds,
      announcementsInPerSecond: d('havesIn') / seconds,
      wantsInPerSecond: d('wantsIn') / seconds,
      wantsOutPerSecond: d('wantsOut') / seconds,
      copies: d('recordsIn') / Math.max(1, stored),
      announcementsPerRecord: d('havesIn') / Math.max(1, stored),
      recordMessageBytes: d('recordBytesIn') / Math.max(1, d('recordsIn')),
      haveMessageBytes: d('haveBytesIn') / Math.max(1, d('havesIn')),
      wantMessageBytes: d('wantBytesIn') / Math.max(1, d('wantsIn')),
      cpuPercent: 100 * cpu / seconds,
      rssMB: peakRss.get(x.pid)! / x.perProcess / 2 ** 20
    }
  })
  const messageBytes = median(rows.map(r => r.recordMessageBytes))
  const periods = summaries.map(s => s.periodMs)
  const sum = (f: (r: typeof rows[number]) => number): number => rows.reduce((s, r) => s + f(r), 0)
  const totalStored = sum(r => r.stored)
  const windowSeconds = median(rows.map(r => r.seconds))
  type MM = { median: number, mean: number, max: number }
  const split = (f: (r: typeof rows[number]) => { records: number, announcements: number, wants: number }): { records: MM, announcements: MM, wants: MM, total: MM } => ({
    records: mm(rows.map(r => f(r).records), 0),
    announcements: mm(rows.map(r => f(r).announcements), 0),
    wants: mm(rows.map(r => f(r).wants), 0),
    total: mm(rows.map(r => f(r).records + f(r).announcements + f(r).wants), 0)
  })
  const above = (limit: number): number => rows.filter(r => r.recordsInPerSecond > limit).length
  return {
    windowSeconds: round(windowSeconds, 1),
    allUpAtWindowEnd: summaries.every(s => s.nodes === n && s.up === n),
    periodMs: { median: median(periods), mean: Math.round(periods.reduce((a, b) => a + b, 0) / n), min: Math.min(...periods), max: Math.max(...periods) },
    recordsPublishedInWindow: totalPublished,
    recordsPublishedPerNodePerPeriod: round(totalPublished / n / (windowSeconds * 1000 / median(periods)), 3),
    perNode: {
      statusBytesInPerMinute: split(r => r.bytesIn),
      statusBytesOutPerMinute: split(r => r.bytesOut),
      recordsInPerSecond: mm(rows.map(r => r.recordsInPerSecond), 1),
      announcementsInPerSecond: mm(rows.map(r => r.announcementsInPerSecond), 1),
      wantsInPerSecond: mm(rows.map(r => r.wantsInPerSecond), 1),
      wantsOutPerSecond: mm(rows.map(r => r.wantsOutPerSecond), 1),
      copiesPerRecord: { ...mm(rows.map(r => r.copies), 3), min: round(Math.min(...rows.map(r => r.copies)), 3) },
      announcementsPerRecord: { ...mm(rows.map(r => r.announcementsPerRecord), 2), min: round(Math.min(...rows.map(r => r.announcementsPerRecord)), 2) },
      cpuPercentOfOneCore: mm(rows.map(r => r.cpuPercent), 1),
      peakRssMB: mm(rows.map(r => r.rssMB), 0)
    },
    recordsInPerSecondBudget: {
      budget: STATUS_RECORDS_PER_SECOND_MAX,
      tolerance: BUDGET_TOLERANCE_RECORDS_PER_SECOND,
      everyNodeAtMostBudget: above(STATUS_RECORDS_PER_SECOND_MAX) === 0,
      everyNodeAtMostTolerance: above(BUDGET_TOLERANCE_RECORDS_PER_SECOND) === 0,
      nodesAboveBudget: above(STATUS_RECORDS_PER_SECOND_MAX),
      nodesAboveTolerance: above(BUDGET_TOLERANCE_RECORDS_PER_SECOND)
    },
    perNodeNote: nodes[0]!.perProcess > 1 ? 'CPU and peak RSS per node: its worker process\'s, divided by the nodes it holds' : 'CPU and peak RSS (VmHWM) of each daemon process',
    copiesPerRecordOverall: round(sum(r => r.recordsIn) / totalStored, 3),
    announcementsPerRecordOverall: round(sum(r => r.havesIn) / totalStored, 3),
    announcementsPerRecordPerLink: round(sum(r => r.havesIn) / totalStored * n / topo.links, 3),
    wantsPerRecordOverall: round(sum(r => r.wantsIn) / totalStored, 3),
    record: {
      messageBytesMedian: Math.round(messageBytes),
      recordBytesMedian: Math.round(messageBytes - statusMessageOverhead(Math.round(messageBytes))),
      haveMessageBytesMedian: Math.round(median(rows.map(r => r.haveMessageBytes))),
      wantMessageBytesMedian: Math.round(median(rows.map(r => r.wantMessageBytes))),
      note: 'message = the engine\'s count (bytesIn.status ÷ messagesIn.status, likewise status-have and status-want); record = its signed bytes (the message less its CBOR framing, space id and signature)'
    }
  }
}

/** SIGKILL one node (alone in its process), then poll every other node until its map shows it down. */
async function deathToDown (nodes: readonly NodeHandle[], topo: Topology): Promise<Record<string, unknown>> {
  const victim = nodes[topo.victim]!
  const others = nodes.filter((_, i) => i !== topo.victim)
  const killMs = Date.now()
  await victim.kill()
  // Its last record, as a survivor holds it (it has reached everyone within milliseconds).
  await sleep(500)
  const entry = (await others[0]!.net()).find(x => x.peerId === victim.peerId)
  const lastSeenMs = entry?.lastSeenMs ?? killMs
  const declaredPeriodMs = entry?.periodMs ?? BASE_PERIOD_MS
  const downAfter = downAfterMs(declaredPeriodMs)
  const deadline = killMs + downAfter + 30_000
  const shownDown = await Promise.all(others.map(async o => {
    for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
      const polledMs = Date.now()
      const down = (await o.summary()).down > 0
      const answeredMs = Date.now()
      // The time of the answer that first showed it down (its map was drawn between polledMs and answeredMs).
      if (down && (await o.net()).find(x => x.peerId === victim.peerId)?.health === 'down') return answeredMs - killMs
      await sleep(Math.max(0, polledMs + DOWN_POLL_MS - Date.now()))
    }
    return null
  }))
  const times = shownDown.filter((x): x is number => x !== null)
  return {
    killed: { node: topo.victim, degree: topo.adj[topo.victim]!.length, how: 'SIGKILL of the OS process holding it (and only it)' },
    pollEveryMs: DOWN_POLL_MS,
    declaredPeriodMs,
    downAfterMs: downAfter,
    lastRecordAgeAtKillMs: killMs - lastSeenMs,
    expectedMsFromKill: { earliest: downAfter - Math.round(1.2 * declaredPeriodMs), latest: downAfter, fromItsLastRecord: lastSeenMs + downAfter - killMs },
    msFromKillToShownDown: times.length === 0 ? null : { min: Math.min(...times), median: median(times), max: Math.max(...times) },
    nodesShowingItDown: times.length,
    nodesPolled: others.length
  }
}

function connectedWithout (adj: number[][], removed: number): boolean {
  const start = removed === 0 ? 1 : 0
  const seen = new Set([start])
  const queue = [start]
  while (queue.length > 0) for (const w of adj[queue.shift()!]!) if (w !== removed && !seen.has(w)) { seen.add(w); queue.push(w) }
  return seen.size === adj.length - 1
}

/** Polls a node's map: the records of each author it stored, by their time (each change of lastSeenMs, the record's clock). */
function observe (node: NodeHandle): { stop: () => Promise<Map<string, Set<number>>> } {
  const times = new Map<string, Set<number>>()
  let stopped = false
  const poll = async (): Promise<void> => {
    for (const x of await node.net()) {
      if (x.self || x.lastSeenMs === null) continue
      let t = times.get(x.peerId)
      if (t === undefined) times.set(x.peerId, t = new Set())
      t.add(x.lastSeenMs)
    }
  }
  const loop = (async () => {
    await poll()
    for (let i = 0; !stopped && i < 10_000; i++) {
      await sleep(OBSERVER_POLL_MS)
      await poll()
    }
  })()
  return { stop: async () => { stopped = true; await loop; return times } }
}

/** What a `status` message adds around a record of `recordBytes`: CBOR framing, the space id, the signature. */
function statusMessageOverhead (recordBytes: number): number {
  const space = SpaceReplica.create(new MemoryStore(), generateKeyPair(), 'samepage-deployment', Date.now()).id
  return encodeMessage({ m: 'status', space, record: [new Uint8Array(recordBytes), new Uint8Array(64)] }).length - recordBytes
}

function cpuSeconds (pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return NaN
  }
}

function peakRssBytes (pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1]) * 1024
  } catch {
    return NaN
  }
}

// ------------------------------------------------------------------ the formula

/**
 * Per node per minute, with pull: distinct records R = (N − 1) × 60 / P,
 * P = max(3 s, N × c / 100 per second); records received c × R; announcements
 * received degree × R; wants received (served) R.
 */
function expectedPerMinute (nodes: number, copies: number, degree: number): { periodS: number, records: number, announcements: number, wants: number } {
  const c = Math.max(1, copies)
  const periodS = Math.max(BASE_PERIOD_MS / 1000, nodes * c / STATUS_RECORDS_PER_SECOND_MAX)
  const distinct = (nodes - 1) * 60 / periodS
  return { periodS, records: distinct * copies, announcements: degree * distinct, wants: distinct }
}

interface Measured {
  recordsInPerSecond: { median: number, mean: number }
  announcementsInPerSecond: { median: number, mean: number }
  wantsInPerSecond: { median: number, mean: number }
  statusBytesInPerMinute: { total: { median: number, mean: number } }
}

function formula (real: readonly Record<string, unknown>[], simulated: readonly Record<string, unknown>[]): Record<string, unknown> {
  const rows: Record<string, unknown>[] = []
  type Real = { nodes: number, degree: { mean: number }, steady: WindowResult & { announcementsPerRecordPerLink: number } }
  for (const r of real as Real[]) {
    const rec = r.steady.record
    rows.push(row('real', r.nodes, r.degree.mean, r.steady.copiesPerRecordOverall, r.steady.announcementsPerRecordPerLink, { record: rec.messageBytesMedian, have: rec.haveMessageBytesMedian, want: rec.wantMessageBytesMedian }, r.steady.perNode))
  }
  type Sim = { nodes: number, topology: { degree: { mean: number } }, copiesPerRecordOverall: number, announcementsPerRecordPerLink: number, record: { messageBytesMedian: number, haveMessageBytes: number, wantMessageBytes: number }, perNode: Measured }
  for (const s of simulated as Sim[]) {
    rows.push(row('simulated', s.nodes, s.topology.degree.mean, s.copiesPerRecordOverall, s.announcementsPerRecordPerLink, { record: s.record.messageBytesMedian, have: s.record.haveMessageBytes, want: s.record.wantMessageBytes }, s.perNode))
  }
  return {
    recordsInPerNodePerMinute: 'R = (N − 1) × c × 60 / P, P = max(3 s, N × c / 100 per second), c = copies of each record a node receives (≈ 1 with pull): R ≈ 20 × N below 300 nodes, then a flat ≈ 6,000 (100 records a second)',
    announcementsInPerNodePerMinute: 'A = degree × (N − 1) × 60 / P: an upper bound. A record\'s status-have crosses each link once (from the end that stored it first), twice only when both ends stored it before hearing the other\'s; so per node A is between degree / 2 and degree × the distinct records (announcementsPerRecordPerLink, 1 to 2, says where)',
    wantsInPerNodePerMinute: 'W = (N − 1) × 60 / P: one status-want per distinct record stored (more only after an older answer or a 2 s timeout)',
    statusBytesInPerNodePerMinute: 'R × B_record + A × B_have + W × B_want (B: each message\'s bytes as the engine counts them)',
    ratio: 'the formula predicts the mean over nodes (a node with more links receives more announcements, and serves more wants); measured ÷ expected is given for the mean and the median',
    budget: `every node at or under ${STATUS_RECORDS_PER_SECOND_MAX} records received a second; ${BUDGET_TOLERANCE_RECORDS_PER_SECOND} allowed for the period's ±20% jitter (recordsInPerSecondBudget in each run)`,
    rows
  }
}

function row (kind: string, nodes: number, degree: number, copies: number, announcementsPerRecordPerLink: number, bytes: { record: number, have: number, want: number }, measured: Measured): Record<string, unknown> {
  const e = expectedPerMinute(nodes, copies, degree)
  const expectedBytes = e.records * bytes.record + e.announcements * bytes.have + e.wants * bytes.want
  const perMinute = (x: { median: number, mean: number }): { mean: number, median: number } => ({ mean: Math.round(x.mean * 60), median: Math.round(x.median * 60) })
  const ratio = (x: { mean: number, median: number }, expected: number): { mean: number, median: number } => ({ mean: round(x.mean / expected, 3), median: round(x.median / expected, 3) })
  const records = perMinute(measured.recordsInPerSecond)
  const announcements = perMinute(measured.announcementsInPerSecond)
  const wants = perMinute(measured.wantsInPerSecond)
  const total = measured.statusBytesInPerMinute.total
  return {
    kind,
    nodes,
    degreeMean: degree,
    copies,
    announcementsPerRecordPerLink,
    messageBytes: bytes,
    periodSeconds: round(e.periodS, 2),
    expectedPerMinute: { records: Math.round(e.records), announcements: Math.round(e.announcements), wants: Math.round(e.wants), bytes: Math.round(expectedBytes) },
    measuredPerMinute: { records, announcements, wants, bytes: { mean: total.mean, median: total.median } },
    ratioMeasuredOverExpected: {
      records: ratio(records, e.records),
      announcements: ratio(announcements, e.announcements),
      wants: ratio(wants, e.wants),
      bytes: ratio(total, expectedBytes)
    },
    expectedRecordsPerSecond: round(e.records / 60, 1)
  }
}

// ------------------------------------------------------------------ helpers

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

function mm (xs: readonly number[], digits: number): { median: number, mean: number, max: number } {
  return { median: round(median(xs), digits), mean: round(xs.reduce((a, b) => a + b, 0) / xs.length, digits), max: round(Math.max(...xs), digits) }
}

function round (x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x
}

if (import.meta.main && process.argv.includes('--status-worker')) {
  await workerMain()
} else if (import.meta.main) {
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  const quick = process.argv.includes('--quick')
  console.log(JSON.stringify(await benchStatus({
    realSizes: quick ? [5, 20] : [5, 20, 50],
    windowMs: quick ? 30_000 : 60_000,
    warmupMs: 10_000,
    simSizes: quick ? [1000] : [1000, 10_000],
    simWindowMs: 60_000,
    crossCheckNodes: 100,
    seed: 1,
    log
  }), null, 2))
}

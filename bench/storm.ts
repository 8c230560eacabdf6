import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Random } from '../test/sim/random.ts'
import { bundledScript, daemonLike } from './daemon-like.ts'
import type { RelayName, StormRequest } from './storm-node.ts'
import { IpcChild } from './ipc-child.ts'
import { sparseGraph } from './topology.ts'

/**
 * The write storm: N real nodes, each its own process (bench/storm-node.ts),
 * linked in one sparse random topology on 127.0.0.1. Writes go to random
 * nodes at each offered rate, and "max" (all offered at once, taken as fast
 * as they are accepted). Measured per run: the time until every node holds
 * every write, the accepted rate, entry payload copies and announcement bytes
 * received per receiving node per write, propagation of each write to all
 * nodes, and memory. The whole set runs twice on the same topology and
 * schedule: with the protocol (announce, then pull once) and with naive
 * flooding (every new entry pushed to every neighbour but its sender).
 */
export interface StormOptions {
  readonly nodes: number
  readonly writes: number
  /** Writes per second offered; 'max' offers them all at once. */
  readonly rates: readonly (number | 'max')[]
  readonly seed: number
  readonly log: (msg: string) => void
}

const CONVERGE_TIMEOUT_MS = 180_000
const VALUE = 'v'.repeat(100)

export async function benchStorm (opts: StormOptions): Promise<Record<string, unknown>> {
  const rng = new Random(opts.seed)
  const edges = sparseGraph(rng, opts.nodes, 1)
  const writers = Array.from({ length: opts.writes }, () => rng.int(0, opts.nodes))
  const result: Record<string, unknown> = {
    nodes: opts.nodes,
    links: edges.length,
    meanDegree: 2 * edges.length / opts.nodes,
    writesPerRun: opts.writes,
    valueBytes: VALUE.length
  }
  for (const relay of ['announce', 'flood'] as const) {
    opts.log(`storm: ${opts.nodes} node processes, relay=${relay}`)
    const cluster = await Cluster.start(opts.nodes, edges, relay)
    try {
      const runs: Record<string, unknown>[] = []
      for (const rate of opts.rates) {
        opts.log(`storm: relay=${relay}, ${opts.writes} writes at ${rate === 'max' ? 'max' : `${rate}/s`}`)
        runs.push(await cluster.run(`r${rate}-`, rate, writers))
      }
      result[relay === 'announce' ? 'announceAndPull' : 'naiveFlooding'] = { atRest: cluster.atRest, runs }
    } finally {
      await cluster.close()
    }
  }
  const ours = (result.announceAndPull as { runs: { payloadCopiesPerReceiverPerWrite: number }[] }).runs
  const flood = (result.naiveFlooding as { runs: { payloadCopiesPerReceiverPerWrite: number }[] }).runs
  result.copiesRatioFloodingOverOurs = ours.map((r, i) => (flood[i]?.payloadCopiesPerReceiverPerWrite ?? NaN) / r.payloadCopiesPerReceiverPerWrite)
  result.target = 'payloadCopiesPerReceiverPerWrite <= 1.2 and converged at every rate'
  return result
}

class Cluster {
  readonly #procs: Peer[]
  readonly #edges: readonly [number, number][]
  readonly #root: string
  atRest: Record<string, unknown> = {}

  private constructor (procs: Peer[], edges: readonly [number, number][], root: string) {
    this.#procs = procs
    this.#edges = edges
    this.#root = root
  }

  static async start (n: number, edges: readonly [number, number][], relay: RelayName): Promise<Cluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-storm-'))
    const script = await bundledScript(path.join(import.meta.dirname, 'storm-node.ts'))
    const procs = Array.from({ length: n }, () => new Peer(script))
    const cluster = new Cluster(procs, edges, root)
    try {
      const opened = await Promise.all(procs.map((p, i) => p.call<{ addrs: string[] }>({ op: 'open', dir: path.join(root, `n${i}`), relay })))
      const addrs = opened.map(o => o.addrs[0] as string)
      await cluster.#placeInTopology(addrs)
      const states = await cluster.#states()
      cluster.atRest = { rssMBMedian: median(states.map(s => s.rssBytes)) / 2 ** 20, rssMBMax: Math.max(...states.map(s => s.rssBytes)) / 2 ** 20 }
      return cluster
    } catch (err) {
      await cluster.close()
      throw err
    }
  }

  /**
   * Node 0 creates the space and one invite for all; the others join in
   * breadth-first order, each through a neighbour already in (the token's
   * address rewritten to that neighbour's), then dial their other links.
   * Only the topology's links exist: a join dials no one else.
   */
  async #placeInTopology (addrs: string[]): Promise<void> {
    const n = this.#procs.length
    const adj: number[][] = Array.from({ length: n }, () => [])
    for (const [a, b] of this.#edges) { adj[a]!.push(b); adj[b]!.push(a) }
    await this.#procs[0]!.call({ op: 'create' })
    const { token } = await this.#procs[0]!.call<{ token: string }>({ op: 'invite', uses: n - 1 })
    const via = new Map<number, number>([[0, -1]])
    const order = [0]
    for (let i = 0; i < order.length; i++) {
      for (const next of adj[order[i]!]!) if (!via.has(next)) { via.set(next, order[i]!); order.push(next) }
    }
    for (const i of order.slice(1)) {
      await this.#procs[i]!.call({ op: 'join', token, via: addrs[via.get(i)!]! })
      // Its own role shows once it holds the invite entry: then it can vouch for the joins of those after it.
      await until(`node ${i} joined`, async () => (await this.#procs[i]!.call<{ role: string | null }>({ op: 'state' })).role === 'writer')
    }
    const tree = new Set([...via].filter(([, p]) => p >= 0).map(([c, p]) => edgeKey(c, p)))
    await Promise.all(this.#edges.filter(([a, b]) => !tree.has(edgeKey(a, b))).map(([a, b]) => this.#procs[Math.min(a, b)]!.call({ op: 'dial', addrs: [addrs[Math.max(a, b)]!] })))
    const degree = adj.map(x => x.length)
    await until('every member known everywhere and every link up', async () => {
      const states = await this.#states()
      return states.every((s, i) => s.members === n && s.peers === degree[i])
    })
  }

  async #states (): Promise<{ role: string | null, members: number, peers: number, rssBytes: number, arrived: number }[]> {
    return await Promise.all(this.#procs.map(async p => await p.call({ op: 'state' })))
  }

  async run (prefix: string, rate: number | 'max', writers: readonly number[]): Promise<Record<string, unknown>> {
    const n = this.#procs.length
    await Promise.all(this.#procs.map(async p => await p.call({ op: 'runStart', prefix })))
    const issuedMs: number[] = []
    const acks: Promise<{ atMs: number }>[] = []
    const t0 = Date.now()
    for (let i = 0; i < writers.length; i++) {
      if (rate !== 'max') {
        const due = t0 + i * 1000 / rate
        if (due > Date.now()) await new Promise(resolve => setTimeout(resolve, due - Date.now()))
      }
      issuedMs.push(Date.now())
      acks.push(this.#procs[writers[i]!]!.call({ op: 'put', key: `${prefix}${i}`, value: VALUE }))
    }
    const acked = await Promise.all(acks)
    const lastAckMs = Math.max(...acked.map(a => a.atMs))
    let converged = true
    try {
      await until(`every node holds the ${writers.length} writes of ${prefix}`, async () => (await this.#states()).every(s => s.arrived === writers.length), CONVERGE_TIMEOUT_MS)
    } catch {
      converged = false
    }
    const reports = await Promise.all(this.#procs.map(async p => await p.call<RunReport>({ op: 'runEnd' })))
    const reach = issuedMs.map((issued, i) => Math.max(...reports.map(r => (r.arrivals[`${prefix}${i}`] ?? Infinity) - issued)))
    const lastArrivalMs = Math.max(...reports.flatMap(r => Object.values(r.arrivals)))
    const total = (k: keyof RunReport['traffic']) => reports.reduce((a, r) => a + r.traffic[k], 0)
    const perReceiverPerWrite = (x: number) => x / ((n - 1) * writers.length)
    return {
      offeredPerSecond: rate,
      converged,
      secondsUntilAllNodesHoldAll: (lastArrivalMs - t0) / 1000,
      acceptedWritesPerSecond: writers.length / Math.max(0.001, (lastAckMs - t0) / 1000),
      payloadCopiesPerReceiverPerWrite: perReceiverPerWrite(total('entriesIn')),
      // Per node: copies of the writes it did not make itself.
      payloadCopiesPerReceiverPerWriteMax: Math.max(...reports.map((r, node) => r.traffic.entriesIn / (writers.length - writers.filter(w => w === node).length))),
      duplicateCopiesPerReceiverPerWrite: perReceiverPerWrite(total('duplicatesIn')),
      announcementBytesPerReceiverPerWrite: perReceiverPerWrite(total('haveBytes')),
      pullRequestBytesPerReceiverPerWrite: perReceiverPerWrite(total('wantBytes')),
      payloadMessageBytesPerReceiverPerWrite: perReceiverPerWrite(total('entriesBytes')),
      allBytesInPerReceiverPerWrite: perReceiverPerWrite(total('bytesIn')),
      propagationToAllMs: { median: quantile(reach, 0.5), p99: quantile(reach, 0.99), max: Math.max(...reach) },
      rssMBDuringStorm: { medianOfPeaks: median(reports.map(r => r.rssMaxBytes)) / 2 ** 20, max: Math.max(...reports.map(r => r.rssMaxBytes)) / 2 ** 20 }
    }
  }

  async close (): Promise<void> {
    await Promise.all(this.#procs.map(async p => await p.close()))
    fs.rmSync(this.#root, { recursive: true, force: true })
  }
}

interface RunReport {
  arrivals: Record<string, number>
  traffic: { entriesIn: number, duplicatesIn: number, haveBytes: number, wantBytes: number, entriesBytes: number, bytesIn: number }
  rssMaxBytes: number
}

/** A node process (with a daemon's V8 settings: its memory is a node's) and request/response calls to it over IPC. */
class Peer extends IpcChild<StormRequest> {
  /** `script`: storm-node.ts bundled as the daemon is (daemon-like.ts bundledScript). */
  constructor (script: string) {
    super(script, [], 'storm node', 10_000, daemonLike())
  }
}

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`storm: timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

function edgeKey (a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`
}

function median (xs: readonly number[]): number {
  return quantile(xs, 0.5)
}

function quantile (xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

if (import.meta.main) {
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  const writes = Number(process.argv[2] ?? 200)
  console.log(JSON.stringify(await benchStorm({ nodes: Number(process.argv[3] ?? 20), writes, rates: [10, 100, 1000, 'max'], seed: 1, log }), null, 2))
}

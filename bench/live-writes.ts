/**
 * Live writes: one daemon (`samepage start`, its own process on 127.0.0.1)
 * and C concurrent HTTP clients, each writing kv with PUT as fast as its
 * answers come back, for a bounded time and count. Reports acknowledged
 * writes per second, the p50 and p99 latency of an acknowledgement, the
 * daemon's peak RSS and CPU time per write, the group commits it made (GET /v1/stats, when the
 * daemon has them) and the load average before and after each case.
 *
 * `tree` is the samepage checkout whose daemon runs (default: this one), so
 * the same clients measure two trees back to back:
 *   node bench/live-writes.ts [--tree DIR] [--clients 1,8,64] [--seconds 10] [--max 50000]
 * A benchmark, not a test: nothing here asserts on time.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'

interface Options {
  readonly tree?: string | undefined
  readonly clients: readonly number[]
  /** Each case stops after this long, or after `maxWrites`, whichever comes first. */
  readonly seconds: number
  readonly maxWrites?: number
  readonly valueBytes?: number
  readonly log: (msg: string) => void
}

/** api.json's url and token, with the url's host and port taken apart once. */
interface Api { readonly url: string, readonly token: string, readonly host: string, readonly port: string }

interface Case {
  clients: number
  acknowledged: number
  failed: number
  seconds: number
  writesPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Group commits made during the case (a daemon without them: null). */
  commits: number | null
  daemonRssBytes: number
  daemonPeakRssBytes: number
  /** The daemon's CPU time (user + system) during the case, per acknowledged write: less noisy than the rate. */
  daemonCpuUsPerWrite: number
  /** The same, of the daemon's main thread alone (the event loop: what bounds the rate; not the thread pool's syncs). */
  daemonMainThreadCpuUsPerWrite: number
  /** This process's CPU time (the clients) during the case, per acknowledged write: it runs on the same cores. */
  clientCpuUsPerWrite: number
  loadAverage: { before: number[], after: number[] }
}

export async function benchLiveWrites (opts: Options): Promise<Record<string, unknown>> {
  const tree = path.resolve(opts.tree ?? path.join(import.meta.dirname, '..'))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-livewrites-'))
  const daemon = await start(tree, path.join(root, 'n'))
  const cases: Case[] = []
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(root, 'n', 'api.json'), 'utf8')) as { url: string, token: string }
    const { hostname, port } = new URL(saved.url)
    const api: Api = { ...saved, host: hostname.replace(/^\[|\]$/g, ''), port } // an IPv6 host without its brackets
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...opts.clients) })
    const space = ((await call(agent, api, 'POST', '/v1/spaces', { name: 'live' })).json as { id: string }).id
    // Every write sends the same body: serialized once, as the clients should cost the shared cores little.
    const body = JSON.stringify({ value: 'v'.repeat(opts.valueBytes ?? 100) })
    for (const clients of opts.clients) {
      opts.log(`livewrites: ${clients} client(s), ${opts.seconds} s or ${opts.maxWrites ?? 'no'} writes at most`)
      const loadBefore = os.loadavg()
      const commitsBefore = await commits(agent, api)
      const cpuBefore = cpuMsOf(daemon.pid as number)
      const mainCpuBefore = cpuMsOf(daemon.pid as number, daemon.pid)
      const clientCpuBefore = process.cpuUsage()
      const latencies: number[] = []
      let failed = 0
      let issued = 0
      const started = performance.now()
      const until = started + opts.seconds * 1000
      const client = async (c: number): Promise<void> => {
        while (performance.now() < until && issued < (opts.maxWrites ?? Infinity)) {
          const n = issued++
          const t0 = performance.now()
          const r = await call(agent, api, 'PUT', `/v1/spaces/${space}/kv/c${clients}-${c}-${n}`, body)
          if (r.status === 200) latencies.push(performance.now() - t0)
          else failed++
        }
      }
      await Promise.all(Array.from({ length: clients }, async (_, c) => { await client(c) }))
      const seconds = (performance.now() - started) / 1000
      const cpuMs = cpuMsOf(daemon.pid as number) - cpuBefore
      const mainCpuMs = cpuMsOf(daemon.pid as number, daemon.pid) - mainCpuBefore
      const clientCpu = process.cpuUsage(clientCpuBefore)
      const commitsAfter = await commits(agent, api)
      latencies.sort((a, b) => a - b)
      const mem = memoryOf(daemon.pid as number)
      cases.push({
        clients,
        acknowledged: latencies.length,
        failed,
        seconds: round(seconds, 2),
        writesPerSecond: Math.round(latencies.length / seconds),
        p50Ms: round(quantile(latencies, 0.5), 2),
        p99Ms: round(quantile(latencies, 0.99), 2),
        commits: commitsBefore === null || commitsAfter === null ? null : commitsAfter - commitsBefore,
        daemonRssBytes: mem.rss,
        daemonPeakRssBytes: mem.peak,
        daemonCpuUsPerWrite: latencies.length === 0 ? NaN : Math.round(cpuMs * 1000 / latencies.length),
        daemonMainThreadCpuUsPerWrite: latencies.length === 0 ? NaN : Math.round(mainCpuMs * 1000 / latencies.length),
        clientCpuUsPerWrite: latencies.length === 0 ? NaN : Math.round((clientCpu.user + clientCpu.system) / latencies.length),
        loadAverage: { before: loadBefore.map(l => round(l, 2)), after: os.loadavg().map(l => round(l, 2)) }
      })
    }
    agent.destroy()
  } finally {
    await stopDaemon(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  }
  return { tree, valueBytes: opts.valueBytes ?? 100, cases }
}

async function start (tree: string, dir: string): Promise<ChildProcess> {
  const bin = path.join(tree, 'bin', 'samepage.js')
  // On 127.0.0.1 at ports the system chooses, as every tree (old or new) accepts: never the fixed defaults.
  const pinned = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0']
  const child = spawn(process.execPath, [bin, '--dir', dir, '--json', 'start', ...pinned], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  await new Promise<void>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! })
    const timer = setTimeout(() => { reject(new Error(`the daemon did not start: ${stderr}`)) }, 60_000)
    lines.once('line', () => { clearTimeout(timer); resolve() })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the daemon exited with ${code}: ${stderr}`)) })
  })
  return child
}

async function stopDaemon (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** One API call; `body` is sent as it is when it is a string (already JSON), else as its JSON. */
async function call (
  agent: http.Agent, api: Api, method: string, route: string, body?: unknown
): Promise<{ status: number, json: unknown }> {
  return await new Promise((resolve, reject) => {
    // Host, port and path, not a URL string for http.request to parse at every call.
    const req = http.request({
      host: api.host, port: api.port, path: route, method, agent,
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body))
  })
}

/** The daemon's group commits so far; null for a daemon that does not count them (before group commit). */
async function commits (agent: http.Agent, api: Api): Promise<number | null> {
  const stats = (await call(agent, api, 'GET', '/v1/stats')).json as { writes?: { commits: number } }
  return stats.writes?.commits ?? null
}

function memoryOf (pid: number): { rss: number, peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/**
 * User + system CPU milliseconds of process `pid` so far, or of its thread `thread` (the main thread's id is the
 * pid) (/proc/PID[/task/TID]/stat, in clock ticks of 10 ms).
 */
function cpuMsOf (pid: number, thread?: number): number {
  const stat = fs.readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function quantile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

function round (x: number, digits: number): number {
  return Number(x.toFixed(digits))
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tree: { type: 'string' }, clients: { type: 'string', default: '1,8,64' },
      seconds: { type: 'string', default: '10' }, max: { type: 'string', default: '50000' }
    }
  })
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  const result = await benchLiveWrites({
    tree: values.tree,
    clients: values.clients.split(',').map(Number),
    seconds: Number(values.seconds),
    maxWrites: Number(values.max),
    log
  })
  console.log(JSON.stringify(result, null, 2))
}

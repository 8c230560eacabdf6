/**
 * A folder sync through a member relay next to a direct link, in one run:
 * one random file from A to B, real daemons on this machine's loopback.
 *
 *   direct   A and B on 127.0.0.1, B dialled by A.
 *   relayed  R on 127.0.0.1; A and B listen on 127.0.0.2 and 127.0.0.3 but
 *            dial from 127.0.0.1, so when R dials them back nobody answers:
 *            they reserve slots at R, and B reaches A only through R (its
 *            relayed address). R holds the space but not the folder, so
 *            every chunk goes A → R → B.
 *
 * Per run: seconds to synced, MB/s; the latency of a kv write (put on A
 * until B's API returns it, polled every 5 ms: the median of KV_WRITES, each
 * after the last arrived); and for the relay its CPU-seconds per GiB
 * relayed. (R is a member, so a kv entry reaches B through R either way:
 * over the relayed link or from R's own copy.) Runs alternate (direct, relayed, ...) so that a change in the
 * machine's load falls on both; the load average is recorded before and after.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startDaemon, stopDaemon, until, waitSynced } from './samepage-daemons.ts'
import type { Daemon } from './samepage-daemons.ts'

export interface RelayBenchOptions {
  readonly mib: number
  readonly runs: number
  readonly log: (msg: string) => void
}

const MB = 1e6
const GIB = 1024 ** 3
const CLOCK_TICKS_PER_SECOND = 100
const KV_WRITES = 20
type Kind = 'direct' | 'relayed'

export async function benchRelay (opts: RelayBenchOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { loadAverageBefore: os.loadavg(), MiB: opts.mib }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-bench-relay-'))
  try {
    const data = path.join(root, 'data.bin')
    writeRandom(data, opts.mib * 1024 * 1024)
    const runs: Record<Kind, Record<string, number>[]> = { direct: [], relayed: [] }
    for (let i = 0; i < opts.runs; i++) {
      for (const kind of ['direct', 'relayed'] as const) {
        opts.log(`relay: a ${opts.mib} MiB file from A to B, ${kind}, run ${i + 1} of ${opts.runs}`)
        runs[kind].push(await transfer(kind, path.join(root, `${kind}${i}`), data))
      }
    }
    const medians = Object.fromEntries(Object.entries(runs).map(([k, rs]) =>
      [k, Object.fromEntries(Object.keys(rs[0] ?? {}).map(f => [f, median(rs.map(r => r[f] as number))]))]))
    out.runs = runs
    out.medians = medians
    out.relayedSlowdown = round((medians.relayed?.seconds ?? NaN) / (medians.direct?.seconds ?? NaN))
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  out.loadAverageAfter = os.loadavg()
  out.note = 'relayedSlowdown = relayed seconds / direct seconds (medians); relayCpuSecondsPerGiB: the relay process only'
  return out
}

async function transfer (kind: Kind, root: string, data: string): Promise<Record<string, number>> {
  const nodes: Daemon[] = []
  const start = async (name: string, ip: string): Promise<Daemon> => {
    // The relay's own cost is measured, not its cap (relay.maxMiBps, 16 by default): the cap is off here.
    fs.mkdirSync(path.join(root, name), { recursive: true })
    fs.writeFileSync(path.join(root, name, 'config.json'), JSON.stringify({ relay: { maxMiBps: 0 } }))
    const d = await startDaemon(path.join(root, name), path.join(root, `folder-${name}`), ['--listen', `/ip4/${ip}/tcp/0`])
    nodes.push(d)
    return d
  }
  try {
    const relay = kind === 'relayed' ? await start('r', '127.0.0.1') : undefined
    const a = await start('a', kind === 'relayed' ? '127.0.0.2' : '127.0.0.1')
    const b = await start('b', kind === 'relayed' ? '127.0.0.3' : '127.0.0.1')
    const bytes = fs.statSync(data).size
    // The space is R's (so R is a member), the folder only A's and B's; direct, A's.
    const owner = relay ?? a
    const space = (await owner.call('POST', '/v1/spaces', { name: 'bench' })).id as string
    for (const n of relay === undefined ? [b] : [a, b]) {
      const { token } = await owner.call('POST', `/v1/spaces/${space}/invites`, { role: 'writer' })
      await n.call('POST', '/v1/join', { token })
    }
    if (relay !== undefined) {
      const circuit = async (): Promise<string | undefined> =>
        ((await a.call('GET', '/v1/id')).addrs as string[]).find(x => x.includes('/p2p-circuit'))
      await until('A holds a relay slot', async () => await circuit() !== undefined, 120_000)
      await b.call('POST', '/v1/peers', { addr: await circuit() })
    }
    const linkOf = async (): Promise<any> => ((await b.call('GET', '/v1/peers')) as any[]).find(p => p.peerId === a.peerId)
    await until(`B linked to A (${kind})`, async () => {
      const link = await linkOf()
      return link !== undefined && (link.relayedBy === null) === (kind === 'direct')
    }, 120_000)
    const kvLatencyMs = await kvLatency(a, b, space)
    fs.copyFileSync(data, path.join(a.folder, 'big.bin'))
    const cpu0 = relay === undefined ? 0 : cpuSecondsOf(relay.pid)
    const t0 = performance.now()
    await a.call('POST', '/v1/folders', { space, path: a.folder })
    await b.call('POST', '/v1/folders', { space, path: b.folder })
    await waitSynced([a, b], space, { files: 1, bytes })
    const seconds = (performance.now() - t0) / 1000
    const relayCpu = relay === undefined ? 0 : cpuSecondsOf(relay.pid) - cpu0
    const link = await linkOf()
    if ((link?.relayedBy === null) !== (kind === 'direct')) throw new Error(`the ${kind} link changed during the run`)
    return {
      seconds: round(seconds),
      MBps: round(bytes / MB / seconds),
      kvLatencyMs,
      ...(relay === undefined ? {} : { relayCpuSecondsPerGiB: round(relayCpu / (bytes / GIB)) })
    }
  } finally {
    for (const d of nodes) await stopDaemon(d)
  }
}

/** Median ms from a kv put on A until B's API returns the entry. */
async function kvLatency (a: Daemon, b: Daemon, space: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < KV_WRITES; i++) {
    const key = `latency-${i}`
    const t0 = performance.now()
    await a.call('PUT', `/v1/spaces/${space}/kv/${key}`, { value: i })
    await until(`${key} on B`, async () =>
      ((await b.call('GET', `/v1/spaces/${space}/kv`)) as { key: string }[]).some(e => e.key === key), 60_000, 5)
    times.push(performance.now() - t0)
  }
  return round(median(times))
}

/** User + system CPU of a live process, from the kernel's accounting (clock ticks). */
function cpuSecondsOf (pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

function writeRandom (file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w')
  try {
    for (let done = 0; done < bytes; done += 1024 * 1024) fs.writeSync(fd, crypto.randomBytes(Math.min(1024 * 1024, bytes - done)))
  } finally {
    fs.closeSync(fd)
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

function round (x: number): number {
  return Math.round(x * 100) / 100
}

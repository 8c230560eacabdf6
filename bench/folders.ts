import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { shareFolder, startDaemon, stopDaemon, until, wireBytesIn } from './samepage-daemons.ts'
import type { Daemon } from './samepage-daemons.ts'
import * as st from './syncthing.ts'

/**
 * Folder sync, samepage next to Syncthing (Debian's package) in the same
 * run, on the same data and machine, each node its own process on
 * 127.0.0.1 (Syncthing with discovery, relays, NAT and usage reports off):
 *
 *   big       one random file, 2 nodes: time to synced, MB/s, peak RSS;
 *   small     10,000 files of 4 KiB in 100 directories, 2 nodes;
 *   edits     after `big`: 1 MiB rewritten in the middle, then 1 MiB
 *             inserted in the middle: bytes over the wire, time to synced;
 *   swarm     the big file to a fifth node from four seeders capped at 10,
 *             20, 40 and 80 MB/s (150 MB/s together): the download rate and
 *             its share of 150 MB/s; again with the slowest seeder stopped
 *             a third of the way through.
 *
 * Time to synced runs from the moment every node shares the folder (the
 * data already on the seeders' disks, not yet scanned) until the receivers
 * hold it: both systems scan, hash, announce and transfer inside it.
 */
export interface FolderBenchOptions {
  readonly bigMiB: number
  readonly smallFiles: number
  readonly log: (msg: string) => void
}

const MB = 1e6
const CAPS_MB = [10, 20, 40, 80]
const BIG_RUNS = 3

/** What a benchmark needs of a sync system. */
interface SyncNode { readonly folder: string, readonly pid: number }
interface System<N extends SyncNode> {
  readonly name: string
  start (root: string, n: number, capsMB?: (number | undefined)[]): Promise<N[]>
  /** Shares one folder among `nodes`; returns once every node has it set up. */
  share (nodes: N[]): Promise<void>
  /** Joins a node that was not in share() (the swarm's fifth node). */
  add (nodes: N[], late: N): Promise<void>
  /** Bytes this node received over the wire (its own counters). */
  received (node: N): Promise<number>
  stop (nodes: N[], node?: N): Promise<void>
}

export async function benchFolders (opts: FolderBenchOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folders-'))
  const out: Record<string, unknown> = { bigMiB: opts.bigMiB, smallFiles: opts.smallFiles }
  try {
    opts.log(`folders: writing the data (${opts.bigMiB} MiB file, ${opts.smallFiles} small files)`)
    const big = path.join(root, 'data-big.bin')
    writeRandom(big, opts.bigMiB * 1024 * 1024)
    const small = path.join(root, 'data-small')
    writeSmallFiles(small, opts.smallFiles)
    const systems: System<any>[] = [samepage(), syncthing()]
    for (const sys of systems) {
      const r: Record<string, unknown> = {}
      out[sys.name] = r
      opts.log(`folders: ${sys.name}: big file`)
      r.big = await guard(() => bigAndEdits(sys, path.join(root, sys.name, 'big'), big, opts))
      // Times on this shared 2-core machine vary (Syncthing's big file took 5 to 27 s in one afternoon): two more runs, and the median.
      const runs = [(r.big as { seconds?: number }).seconds ?? NaN]
      for (let i = 1; i < BIG_RUNS; i++) {
        opts.log(`folders: ${sys.name}: big file, run ${i + 1} of ${BIG_RUNS}`)
        const again = await guard(() => bigOnly(sys, path.join(root, sys.name, `big${i}`), big))
        runs.push((again as { seconds?: number }).seconds ?? NaN)
      }
      Object.assign(r.big as object, { runs, medianSeconds: median(runs), medianMBps: round(fs.statSync(big).size / MB / median(runs)) })
      opts.log(`folders: ${sys.name}: ${opts.smallFiles} small files`)
      r.small = await guard(() => smallFiles(sys, path.join(root, sys.name, 'small'), small, opts.smallFiles))
      opts.log(`folders: ${sys.name}: swarm of four capped seeders`)
      r.swarm = await guard(() => swarm(sys, path.join(root, sys.name, 'swarm'), big, false))
      opts.log(`folders: ${sys.name}: swarm, the slowest seeder stopping mid-transfer`)
      r.swarmSlowestStops = await guard(() => swarm(sys, path.join(root, sys.name, 'swarm2'), big, true))
    }
    out.ratios = ratios(out)
    return out
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

async function guard (run: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return await run()
  } catch (err) {
    return { error: (err as Error).message }
  }
}

async function bigAndEdits<N extends SyncNode> (sys: System<N>, root: string, big: string, opts: FolderBenchOptions): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    const size = fs.statSync(big).size
    copyKeepingMtime(big, path.join(a.folder, 'big.bin'))
    const rss = rssSampler(nodes)
    const t0 = performance.now()
    await sys.share(nodes)
    const seconds = (await waitFile(path.join(b.folder, 'big.bin'), path.join(a.folder, 'big.bin')) - t0) / 1000
    const peaks = rss.stop()
    const result: Record<string, unknown> = { seconds: round(seconds), MBps: round(size / MB / seconds), peakRssMB: peaks.map(p => round(p / MB)) }
    for (const [name, edit] of [['rewrite1MiB', rewriteMiddle], ['insert1MiB', insertMiddle]] as const) {
      opts.log(`folders: ${sys.name}: ${name}`)
      const before = await sys.received(b)
      edit(path.join(a.folder, 'big.bin'))
      const t1 = performance.now()
      const t2 = await waitFile(path.join(b.folder, 'big.bin'), path.join(a.folder, 'big.bin'))
      const wire = await sys.received(b) - before
      result[name] = { seconds: round((t2 - t1) / 1000), bytesReceived: wire, timesEdit: round(wire / (1024 * 1024)) }
    }
    return result
  } finally {
    await sys.stop(nodes)
  }
}

async function bigOnly<N extends SyncNode> (sys: System<N>, root: string, big: string): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    copyKeepingMtime(big, path.join(a.folder, 'big.bin'))
    const t0 = performance.now()
    await sys.share(nodes)
    return { seconds: round((await waitFile(path.join(b.folder, 'big.bin'), big) - t0) / 1000) }
  } finally {
    await sys.stop(nodes)
  }
}

async function smallFiles<N extends SyncNode> (sys: System<N>, root: string, data: string, count: number): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    fs.cpSync(data, a.folder, { recursive: true })
    const rss = rssSampler(nodes)
    const t0 = performance.now()
    await sys.share(nodes)
    await until('all small files arrived', async () => countFiles(b.folder) >= count, 600_000, 100)
    const seconds = (performance.now() - t0) / 1000
    const ok = sameTree(a.folder, b.folder)
    return { seconds: round(seconds), filesPerSecond: round(count / seconds), peakRssMB: rss.stop().map(p => round(p / MB)), identical: ok }
  } finally {
    await sys.stop(nodes)
  }
}

async function swarm<N extends SyncNode> (sys: System<N>, root: string, big: string, slowestStops: boolean): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 5, [...CAPS_MB, undefined])
  const seeders = nodes.slice(0, 4)
  const fresh = nodes[4] as N
  try {
    const size = fs.statSync(big).size
    // The same bytes and mtime on every seeder: one version of one file.
    for (const s of seeders) copyKeepingMtime(big, path.join(s.folder, 'big.bin'))
    await sys.share(seeders)
    // Every seeder has scanned its copy and agrees: the transfer alone is timed.
    await sys.add(seeders, fresh)
    const target = path.join(fresh.folder, 'big.bin')
    const t0 = performance.now()
    let stoppedAt: number | null = null
    const watcher = slowestStops ? (async () => {
      await until('a third received', async () => await sys.received(fresh) > size / 3, 600_000, 50)
      stoppedAt = (performance.now() - t0) / 1000
      await sys.stop(nodes, seeders[0])
    })() : Promise.resolve()
    const done = await waitFile(target, big, 900_000)
    await watcher
    const seconds = (done - t0) / 1000
    const rate = size / seconds
    const capacity = slowestStops && stoppedAt !== null
      ? (150 * MB * stoppedAt + 140 * MB * (seconds - stoppedAt)) / seconds
      : 150 * MB
    return { seconds: round(seconds), MBps: round(rate / MB), shareOfCapacity: round(rate / capacity), capacityMBps: round(capacity / MB), ...(stoppedAt === null ? {} : { slowestStoppedAtSeconds: round(stoppedAt) }) }
  } finally {
    await sys.stop(nodes)
  }
}

// ------------------------------------------------------------------ the two systems

function samepage (): System<Daemon & SyncNode> {
  let space = ''
  return {
    name: 'samepage',
    async start (root, n, caps = []) {
      const nodes: Daemon[] = []
      for (let i = 0; i < n; i++) {
        const cap = caps[i]
        const peers = nodes.flatMap(d => ['--peer', d.addrs[0] as string])
        nodes.push(await startDaemon(path.join(root, `node${i}`), path.join(root, `folder${i}`), [...peers, ...(cap === undefined ? [] : ['--max-up', `${cap}MB`])]))
      }
      return nodes
    },
    async share (nodes) {
      space = await shareFolder(nodes, 'bench')
    },
    async add (nodes, late) {
      const [first] = nodes as [Daemon]
      await until('seeders agree', async () => {
        for (const n of nodes) {
          const s = (await n.call('GET', `/v1/spaces/${space}/folder`)).status
          if (s.state !== 'idle' || s.localFiles !== 1) return false
        }
        return true
      }, 600_000)
      const { token } = await first.call('POST', `/v1/spaces/${space}/invites`, { role: 'reader' })
      await late.call('POST', '/v1/join', { token })
      await until('the late node has the space', async () => ((await late.call('GET', '/v1/spaces')) as any[]).some(s => s.id === space && s.role === 'reader'), 30_000)
      await until('the late node sees all seeders', async () => ((await late.call('GET', '/v1/peers')) as any[]).length >= nodes.length, 30_000)
      await late.call('POST', '/v1/folders', { space, path: late.folder, mode: 'receive-only' })
    },
    // Everything received, as Syncthing's connection counters count it: chunks, file records (and their parts), status.
    received: async node => await wireBytesIn(node),
    async stop (nodes, one) {
      for (const d of one === undefined ? nodes : [one]) await stopDaemon(d, one === undefined ? 'SIGTERM' : 'SIGKILL')
    }
  }
}

function syncthing (): System<st.SyncthingNode> {
  return {
    name: 'syncthing',
    async start (root, n, caps = []) {
      return await st.startSyncthings(root, n, { maxSendKbps: caps.map(c => c === undefined ? 0 : Math.round(c * MB / 1024)) })
    },
    async share (nodes) {
      await st.shareFolder(nodes)
    },
    async add (nodes, late) {
      await st.waitSynced(nodes, { timeoutMs: 600_000 })
      await st.shareFolder([...nodes, late])
    },
    received: async node => (await st.connectionBytes(node)).inBytes,
    async stop (nodes, one) {
      await st.stopSyncthings(one === undefined ? nodes : [one])
    }
  }
}

// ------------------------------------------------------------------ data and checks

function copyKeepingMtime (from: string, to: string): void {
  fs.copyFileSync(from, to)
  const { atime, mtime } = fs.statSync(from)
  fs.utimesSync(to, atime, mtime)
}

function writeRandom (file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, 'w')
  try {
    for (let done = 0; done < bytes; done += 1024 * 1024) fs.writeSync(fd, crypto.randomBytes(Math.min(1024 * 1024, bytes - done)))
  } finally {
    fs.closeSync(fd)
  }
}

function writeSmallFiles (dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `dir${String(i % 100).padStart(2, '0')}`)
    if (i < 100) fs.mkdirSync(sub, { recursive: true })
    fs.writeFileSync(path.join(sub, `file${i}.bin`), crypto.randomBytes(4096))
  }
}

/** 1 MiB of new bytes over the middle of the file (same size). */
function rewriteMiddle (file: string): void {
  const size = fs.statSync(file).size
  const fd = fs.openSync(file, 'r+')
  fs.writeSync(fd, crypto.randomBytes(1024 * 1024), 0, 1024 * 1024, Math.floor(size / 2))
  fs.closeSync(fd)
}

/** 1 MiB of new bytes inserted in the middle (the rest shifted). */
function insertMiddle (file: string): void {
  const data = fs.readFileSync(file)
  const mid = Math.floor(data.length / 2)
  const tmp = `${file}.edit`
  const fd = fs.openSync(tmp, 'w')
  fs.writeSync(fd, data, 0, mid)
  fs.writeSync(fd, crypto.randomBytes(1024 * 1024))
  fs.writeSync(fd, data, mid, data.length - mid)
  fs.closeSync(fd)
  fs.renameSync(tmp, file)
}

/**
 * Until `target` has the size and mtime of `source` (both systems set the
 * mtime last, before the rename): that moment is returned. Its bytes are
 * checked after, outside the time; if they are not yet right (an older
 * version of the same size and mtime), the wait goes on until they are.
 */
async function waitFile (target: string, source: string, timeoutMs = 600_000): Promise<number> {
  const want = fs.statSync(source)
  await until(`${target} matches`, async () => {
    const got = fs.statSync(target, { throwIfNoEntry: false })
    return got !== undefined && got.size === want.size && Math.abs(got.mtimeMs - want.mtimeMs) < 1000 && got.mtimeMs >= Math.floor(want.mtimeMs / 1000) * 1000
  }, timeoutMs, 20)
  const at = performance.now()
  if (sameBytes(target, source)) return at
  await until(`${target} has the bytes`, async () => sameBytes(target, source), timeoutMs, 100)
  return performance.now()
}

function sameBytes (a: string, b: string): boolean {
  const hash = (f: string): string => { try { return crypto.hash('sha256', fs.readFileSync(f), 'hex') } catch { return '' } }
  return hash(a) === hash(b)
}

function countFiles (dir: string): number {
  let n = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && !e.parentPath.includes('.samepage') && !e.parentPath.includes('.stfolder')) n++
  return n
}

function sameTree (a: string, b: string): boolean {
  for (const e of fs.readdirSync(a, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.parentPath.includes('.samepage') || e.parentPath.includes('.stfolder')) continue
    const rel = path.relative(a, path.join(e.parentPath, e.name))
    if (!sameBytes(path.join(a, rel), path.join(b, rel))) return false
  }
  return true
}

/** Peak RSS of each process (VmHWM, the kernel's own high-water mark), read when stopped. */
function rssSampler (nodes: readonly SyncNode[]): { stop (): number[] } {
  return {
    stop: () => nodes.map(n => {
      try {
        return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${n.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024
      } catch {
        return NaN
      }
    })
  }
}

function ratios (out: Record<string, unknown>): Record<string, unknown> {
  const get = (sys: string, ...keys: string[]): number => {
    let v: any = out[sys]
    for (const k of keys) v = v?.[k]
    return typeof v === 'number' ? v : NaN
  }
  return {
    bigSpeedup: round(get('syncthing', 'big', 'medianSeconds') / get('samepage', 'big', 'medianSeconds')),
    smallSpeedup: round(get('syncthing', 'small', 'seconds') / get('samepage', 'small', 'seconds')),
    rewriteSpeedup: round(get('syncthing', 'big', 'rewrite1MiB', 'seconds') / get('samepage', 'big', 'rewrite1MiB', 'seconds')),
    insertSpeedup: round(get('syncthing', 'big', 'insert1MiB', 'seconds') / get('samepage', 'big', 'insert1MiB', 'seconds')),
    swarmSpeedup: round(get('syncthing', 'swarm', 'seconds') / get('samepage', 'swarm', 'seconds')),
    note: 'syncthing seconds / samepage seconds: above 1, samepage is faster'
  }
}

function median (xs: readonly number[]): number {
  const sorted = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)] as number
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

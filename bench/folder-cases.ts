/**
 * The folder benchmark cases, each run the same way on either system
 * (folder-systems.ts): start the nodes, put the data on the senders' disks,
 * start the clock as the folder is shared, stop it when every receiver
 * holds the data (checked byte for byte after, outside the time). Each case
 * also reports its nodes' CPU-seconds and peak RSS (case-meter.ts). Just
 * before the data is put on the senders' disks, as many bytes as the case
 * will write are written and deleted (warm-memory.ts says why), on either
 * system alike.
 */
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { chunkingFor } from '../src/blocks/index.ts'
import { round, startMeter, withLoad } from './case-meter.ts'
import type { SyncNode, System } from './folder-systems.ts'
import { until } from './samepage-daemons.ts'
import { countFiles, sameTree, waitFile, waitFiles, waitTree } from './tree-check.ts'
import { copyKeepingMtime, insertAt, rewriteAt } from './tree-gen.ts'
import type { TreeFile } from './tree-gen.ts'
import { warmPageCache } from './warm-memory.ts'

const MB = 1e6
const MIB = 1024 * 1024
const CAPS_MB = [10, 20, 40, 80]
const IDLE_MS = 5_000
/** Away from the middle by an amount no chunk or block size divides: Syncthing's fixed blocks see a shifted tail. */
const INSERT_SHIFT = 12_345

/** A started node with one space (or folder) and no data, after IDLE_MS: its RSS now and at its peak. */
export async function idle<N extends SyncNode> (sys: System<N>, root: string): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 1)
  try {
    await sys.share(nodes)
    const meter = startMeter(nodes.map(n => n.pid))
    await sleep(IDLE_MS)
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${nodes[0]!.pid}/status`, 'utf8'))?.[1]) * 1024
    const cost = await meter.finish(0)
    return { rssMB: round(rss / MB), afterSeconds: IDLE_MS / 1000, ...cost }
  } finally {
    await sys.stop(nodes)
  }
}

/**
 * The big file between two nodes; then (with `edits`) 1 MiB rewritten in the
 * middle and 1 MiB inserted just past it, each with the bytes it cost on the
 * wire against the target: at most 1.2× the edit plus one chunk.
 */
export async function bigAndEdits<N extends SyncNode> (
  sys: System<N>, root: string, big: string, opts: { edits: boolean, log: (msg: string) => void }
): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    const size = fs.statSync(big).size
    await warmPageCache(root, 2 * size)
    await copyKeepingMtime(big, path.join(a.folder, 'big.bin'))
    const meter = startMeter(nodes.map(n => n.pid))
    const t0 = performance.now()
    await sys.share(nodes)
    const seconds = (await waitFile(path.join(b.folder, 'big.bin'), path.join(a.folder, 'big.bin')) - t0) / 1000
    const cost = await meter.finish(size)
    const result: Record<string, unknown> = { seconds: round(seconds), MBps: round(size / MB / seconds), ...cost }
    if (!opts.edits) return result
    const edits = [
      ['rewrite1MiB', Math.floor(size / 2), rewriteAt],
      ['insert1MiB', Math.floor(size / 2) + INSERT_SHIFT, insertAt]
    ] as const
    for (const [name, offset, edit] of edits) {
      opts.log(`folders: ${sys.name}: ${name}`)
      result[name] = await withLoad(async () => {
        const file = path.join(a.folder, 'big.bin')
        const before = await sys.received(b)
        const editMeter = startMeter(nodes.map(n => n.pid))
        await edit(file, offset, MIB)
        const t1 = performance.now()
        const t2 = await waitFile(path.join(b.folder, 'big.bin'), file)
        const wire = await sys.received(b) - before
        const chunk = chunkingFor(fs.statSync(file).size).avgBytes
        const target = Math.round(1.2 * MIB + chunk)
        const editCost = await editMeter.finish(0)
        const seconds = round((t2 - t1) / 1000)
        return { offset, seconds, bytesReceived: wire, timesEdit: round(wire / MIB), targetBytes: target, withinTarget: wire <= target, cpu: editCost.cpu }
      })
    }
    return result
  } finally {
    await sys.stop(nodes)
  }
}

export async function bigOnly<N extends SyncNode> (sys: System<N>, root: string, big: string): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    await warmPageCache(root, 2 * fs.statSync(big).size)
    await copyKeepingMtime(big, path.join(a.folder, 'big.bin'))
    const t0 = performance.now()
    await sys.share(nodes)
    return { seconds: round((await waitFile(path.join(b.folder, 'big.bin'), big) - t0) / 1000) }
  } finally {
    await sys.stop(nodes)
  }
}

export async function smallFiles<N extends SyncNode> (sys: System<N>, root: string, data: string, count: number): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    await warmPageCache(root, 2 * count * 4096)
    await fs.promises.cp(data, a.folder, { recursive: true })
    const meter = startMeter(nodes.map(n => n.pid))
    const t0 = performance.now()
    await sys.share(nodes)
    await until('all small files arrived', async () => countFiles(b.folder) >= count, 600_000, 100)
    const seconds = (performance.now() - t0) / 1000
    const cost = await meter.finish(count * 4096)
    const identical = await sameTree(a.folder, b.folder)
    return { seconds: round(seconds), filesPerSecond: round(count / seconds), ...cost, identical }
  } finally {
    await sys.stop(nodes)
  }
}

/** The mixed tree (tree-gen.ts) from one node to another. */
export async function mixed<N extends SyncNode> (sys: System<N>, root: string, data: string, files: readonly TreeFile[]): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 2)
  const [a, b] = nodes as [N, N]
  try {
    const bytes = files.reduce((n, f) => n + f.size, 0)
    await warmPageCache(root, 2 * bytes)
    await fs.promises.cp(data, a.folder, { recursive: true })
    const meter = startMeter(nodes.map(n => n.pid))
    const t0 = performance.now()
    await sys.share(nodes)
    const seconds = (await waitTree(b.folder, data, files) - t0) / 1000
    const cost = await meter.finish(bytes)
    return { seconds: round(seconds), MBps: round(bytes / MB / seconds), filesPerSecond: round(files.length / seconds), ...cost }
  } finally {
    await sys.stop(nodes)
  }
}

/** The big file from one seeding node to `receivers` others at once: until the last holds it. */
export async function fanout<N extends SyncNode> (sys: System<N>, root: string, big: string, receivers: number): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 1 + receivers)
  const [seed, ...rest] = nodes as [N, ...N[]]
  try {
    const size = fs.statSync(big).size
    await warmPageCache(root, (1 + receivers) * size)
    await copyKeepingMtime(big, path.join(seed.folder, 'big.bin'))
    const meter = startMeter(nodes.map(n => n.pid))
    const t0 = performance.now()
    await sys.share(nodes)
    const done = await waitFiles(rest.map(r => path.join(r.folder, 'big.bin')), big)
    const perReceiver = done.map(t => round((t - t0) / 1000))
    const seconds = Math.max(...perReceiver)
    const cost = await meter.finish(size * receivers)
    return { seconds, perReceiverSeconds: perReceiver, MBps: round(size * receivers / MB / seconds), ...cost }
  } finally {
    await sys.stop(nodes)
  }
}

/**
 * The big file to a fifth node from four seeders capped at 10, 20, 40 and
 * 80 MB/s (150 MB/s together): its rate and share of that capacity; with
 * `slowestStops`, the 10 MB/s seeder is stopped a third of the way through.
 */
export async function swarm<N extends SyncNode> (sys: System<N>, root: string, big: string, slowestStops: boolean): Promise<Record<string, unknown>> {
  const nodes = await sys.start(root, 5, [...CAPS_MB, undefined])
  const seeders = nodes.slice(0, 4)
  const fresh = nodes[4] as N
  try {
    const size = fs.statSync(big).size
    // The same bytes and mtime on every seeder: one version of one file.
    for (const s of seeders) await copyKeepingMtime(big, path.join(s.folder, 'big.bin'))
    await sys.share(seeders)
    await warmPageCache(root, size)
    // Every seeder has scanned its copy and agrees: the transfer alone is timed.
    await sys.add(seeders, fresh, 1)
    const target = path.join(fresh.folder, 'big.bin')
    const meter = startMeter(nodes.map(n => n.pid))
    const t0 = performance.now()
    let stoppedAt: number | null = null
    const watcher = slowestStops
      ? (async () => {
          await until('a third received', async () => await sys.received(fresh) > size / 3, 600_000, 50)
          stoppedAt = (performance.now() - t0) / 1000
          meter.sample()
          await sys.stop(nodes, seeders[0])
        })()
      : Promise.resolve()
    const done = await waitFile(target, big, 900_000)
    await watcher
    const seconds = (done - t0) / 1000
    const cost = await meter.finish(size)
    const rate = size / seconds
    const capacity = slowestStops && stoppedAt !== null
      ? (150 * MB * stoppedAt + 140 * MB * (seconds - stoppedAt)) / seconds
      : 150 * MB
    return {
      seconds: round(seconds),
      MBps: round(rate / MB),
      shareOfCapacity: round(rate / capacity),
      capacityMBps: round(capacity / MB),
      ...(stoppedAt === null ? {} : { slowestStoppedAtSeconds: round(stoppedAt) }),
      ...cost
    }
  } finally {
    await sys.stop(nodes)
  }
}

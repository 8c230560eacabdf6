import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DISTURBED_RULE, round, withLoad } from './case-meter.ts'
import { bigAndEdits, bigOnly, fanout, idle, mixed, smallFiles, swarm } from './folder-cases.ts'
import { samepage, syncthing } from './folder-systems.ts'
import type { System } from './folder-systems.ts'
import { mixedTree, writeSeeded, writeSmallFiles, writeTree } from './tree-gen.ts'

/**
 * Folder sync, samepage next to Syncthing (Debian's package) in the same
 * run, on the same data and machine, each node its own process on
 * 127.0.0.1 (Syncthing with discovery, relays, NAT and usage reports off):
 *
 *   idle      one node, one folder, no data, after 5 s: RSS;
 *   big       one file, 2 nodes: time to synced, MB/s (median of 3 runs);
 *   edits     after `big`: 1 MiB rewritten in the middle, then 1 MiB
 *             inserted at an unaligned offset past the middle: bytes over
 *             the wire (against 1.2× the edit plus one chunk), time;
 *   small     10,000 files of 4 KiB in 100 directories, 2 nodes;
 *   mixed     a seeded tree of files of 1 KiB to 8 MiB at depths 0–4
 *             (~500 MB, hundreds of files), 2 nodes;
 *   fanout    the big file from one node to 3 receivers at once;
 *   swarm     the big file to a fifth node from four seeders capped at 10,
 *             20, 40 and 80 MB/s (150 MB/s together): the download rate and
 *             its share of 150 MB/s; swarmSlowestStops: again with the
 *             slowest seeder stopped a third of the way through.
 *
 * Each case runs on samepage, then at once on Syncthing: both sides of a
 * ratio meet the machine in about the same state.
 *
 * Time to synced runs from the moment every node shares the folder (the
 * data already on the senders' disks, not yet scanned) until the receivers
 * hold it: both systems scan, hash, announce and transfer inside it. Every
 * case also reports its nodes' CPU-seconds and peak RSS, and the load
 * average before and after it (disturbed: see DISTURBED_RULE).
 */
export const FOLDER_CASES = ['idle', 'big', 'edits', 'small', 'mixed', 'fanout', 'swarm', 'swarmSlowestStops'] as const
export type FolderCase = typeof FOLDER_CASES[number]

export interface FolderBenchOptions {
  readonly bigMiB: number
  readonly smallFiles: number
  readonly mixedMB: number
  /** Only this case (and the data it needs); all when absent. */
  readonly only?: FolderCase
  readonly log: (msg: string) => void
}

const MB = 1e6
const BIG_RUNS = 3
const FANOUT_RECEIVERS = 3
const MIXED_SEED = 1

export async function benchFolders (opts: FolderBenchOptions): Promise<Record<string, unknown>> {
  const want = (c: FolderCase): boolean => opts.only === undefined || opts.only === c
  const needBig = want('big') || want('edits') || want('fanout') || want('swarm') || want('swarmSlowestStops')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folders-'))
  const tree = mixedTree(MIXED_SEED, opts.mixedMB * MB)
  const out: Record<string, unknown> = {
    bigMiB: opts.bigMiB,
    smallFiles: opts.smallFiles,
    mixed: { seed: MIXED_SEED, files: tree.length, bytes: tree.reduce((n, f) => n + f.size, 0) },
    fanoutReceivers: FANOUT_RECEIVERS,
    ...(opts.only === undefined ? {} : { only: opts.only }),
    disturbedRule: DISTURBED_RULE
  }
  try {
    opts.log('folders: writing the data (seeded, the same every run)')
    const big = path.join(root, 'data-big.bin')
    if (needBig) await writeSeeded(big, opts.bigMiB * 1024 * 1024, 'big')
    const small = path.join(root, 'data-small')
    if (want('small')) await writeSmallFiles(small, opts.smallFiles)
    const mixedDir = path.join(root, 'data-mixed')
    if (want('mixed')) await writeTree(mixedDir, tree, MIXED_SEED)
    const systems: System<any>[] = [samepage(), syncthing()]
    const results = new Map(systems.map(sys => [sys, {} as Record<string, unknown>]))
    for (const [sys, r] of results) out[sys.name] = r
    // Case by case, samepage then Syncthing right after it, so that both sides of a ratio meet the same machine.
    // Each run in its own directory, removed after it: the next starts with the page cache and disk as clean.
    const each = async (key: string, what: string, fn: (sys: System<any>, dir: string) => Promise<Record<string, unknown>>): Promise<void> => {
      for (const [sys, r] of results) {
        opts.log(`folders: ${sys.name}: ${what}`)
        const dir = path.join(root, sys.name, key)
        try {
          r[key] = await withLoad(async () => await fn(sys, dir))
        } finally {
          await fs.promises.rm(dir, { recursive: true, force: true })
        }
      }
    }
    if (want('idle')) await each('idle', 'idle node', async (sys, dir) => await idle(sys, dir))
    if (want('big') || want('edits')) {
      const what = `big file${want('edits') ? ', then the edits' : ''}`
      await each('big', what, async (sys, dir) => await bigAndEdits(sys, dir, big, { edits: want('edits'), log: opts.log }))
    }
    if (want('big')) {
      // Times on this shared 2-core machine vary (Syncthing's big file took 5 to 27 s in one afternoon): two more runs, and the median.
      for (let i = 1; i < BIG_RUNS; i++) await each(`big${i}`, `big file, run ${i + 1} of ${BIG_RUNS}`, async (sys, dir) => await bigOnly(sys, dir, big))
      for (const r of results.values()) {
        const again = Array.from({ length: BIG_RUNS - 1 }, (_, i) => r[`big${i + 1}`] as Record<string, unknown>)
        for (let i = 1; i < BIG_RUNS; i++) delete r[`big${i}`]
        const runs = [r.big, ...again].map(x => (x as { seconds?: number }).seconds ?? NaN)
        Object.assign(r.big as object, {
          runs,
          medianSeconds: median(runs),
          medianMBps: round(fs.statSync(big).size / MB / median(runs)),
          disturbedRuns: [r.big, ...again].filter(x => (x as { disturbed?: boolean }).disturbed === true).length,
          otherRuns: again.map(({ seconds, load, disturbed, disturbedReason, error }) => ({ seconds, load, disturbed, disturbedReason, error }))
        })
      }
    }
    if (want('small')) await each('small', `${opts.smallFiles} small files`, async (sys, dir) => await smallFiles(sys, dir, small, opts.smallFiles))
    if (want('mixed')) await each('mixed', `mixed tree, ${tree.length} files`, async (sys, dir) => await mixed(sys, dir, mixedDir, tree))
    if (want('fanout')) {
      await each('fanout', `big file from one node to ${FANOUT_RECEIVERS}`, async (sys, dir) => await fanout(sys, dir, big, FANOUT_RECEIVERS))
    }
    if (want('swarm')) await each('swarm', 'swarm of four capped seeders', async (sys, dir) => await swarm(sys, dir, big, false))
    if (want('swarmSlowestStops')) {
      await each('swarmSlowestStops', 'swarm, the slowest seeder stopping mid-transfer', async (sys, dir) => await swarm(sys, dir, big, true))
    }
    out.ratios = ratios(out)
    return out
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

const TIMED = ['big', 'small', 'mixed', 'fanout', 'swarm', 'swarmSlowestStops'] as const

function ratios (out: Record<string, unknown>): Record<string, unknown> {
  const get = (sys: string, ...keys: string[]): any => {
    let v: any = out[sys]
    for (const k of keys) v = v?.[k]
    return v
  }
  const num = (v: unknown): number => typeof v === 'number' ? v : NaN
  const speedup = (...keys: string[]): number => round(num(get('syncthing', ...keys)) / num(get('samepage', ...keys)))
  // Per node (same role on both sides: sender, receiver, seeder...), the worst.
  const rss = (c: string): number => {
    const [ours, theirs] = [get('samepage', c, 'peakRssMB'), get('syncthing', c, 'peakRssMB')] as [unknown, unknown]
    if (!Array.isArray(ours) || !Array.isArray(theirs)) return NaN
    return round(Math.max(...ours.map((x: number, i) => x / num(theirs[i]))))
  }
  const cpu = (c: string): number => round(num(get('samepage', c, 'cpu', 'secondsPerGiB')) / num(get('syncthing', c, 'cpu', 'secondsPerGiB')))
  return {
    bigSpeedup: speedup('big', 'medianSeconds'),
    smallSpeedup: speedup('small', 'seconds'),
    rewriteSpeedup: speedup('big', 'rewrite1MiB', 'seconds'),
    insertSpeedup: speedup('big', 'insert1MiB', 'seconds'),
    swarmSpeedup: speedup('swarm', 'seconds'),
    swarmSlowestStopsSpeedup: speedup('swarmSlowestStops', 'seconds'),
    mixedSpeedup: speedup('mixed', 'seconds'),
    fanoutSpeedup: speedup('fanout', 'seconds'),
    peakRss: Object.fromEntries(TIMED.map(c => [c, rss(c)])),
    idleRss: round(num(get('samepage', 'idle', 'rssMB')) / num(get('syncthing', 'idle', 'rssMB'))),
    cpuPerGiB: Object.fromEntries(TIMED.map(c => [c, cpu(c)])),
    note: 'speedups: syncthing seconds / samepage seconds (above 1, samepage is faster); peakRss (the worst node, ' +
      'same role on both sides), idleRss and cpuPerGiB: samepage / syncthing (above 1, samepage uses more)'
  }
}

function median (xs: readonly number[]): number {
  const sorted = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)] as number
}

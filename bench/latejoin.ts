import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { bundledScript, daemonLike } from './daemon-like.ts'
import { memory } from './proc-memory.ts'

/**
 * The late joiner: one node holds `entries` kv entries of `valueBytes`; a
 * node with an empty directory joins and catches up over libp2p (TCP, Noise,
 * Yamux) on 127.0.0.1. Next to it, in the same run, Hypercore doing the same:
 * one process appends as many blocks of the same size, another connects over
 * a loopback TCP socket and downloads them all. Each side is two processes;
 * preparing the data is not timed. Reported: entries per second from join
 * (or connect) to all held, peak RSS of both processes, and the CPU time
 * each spent meanwhile.
 */
export interface LateJoinOptions {
  readonly entries: number
  readonly valueBytes: number
  readonly log: (msg: string) => void
  /** false: the samepage side alone (paired runs of two samepage trees need no Hypercore). */
  readonly hypercore?: boolean
}

/** The version the issue names: 11.39 does not install here. */
const HYPERCORE_VERSION = '11.37.1'
const STEP_LIMIT_MS = 5 * 60_000

export async function benchLateJoin (opts: LateJoinOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-latejoin-'))
  try {
    opts.log(`latejoin: samepage, ${opts.entries} entries of ${opts.valueBytes} B`)
    const samepage = await samepageSide(root, opts)
    if (opts.hypercore === false) return { entries: opts.entries, valueBytes: opts.valueBytes, samepage }
    opts.log(`latejoin: hypercore@${HYPERCORE_VERSION}, the same`)
    const hypercore = await hypercoreSide(root, opts)
    const rate = (s: Record<string, unknown>): number => typeof s.entriesPerSecond === 'number' ? s.entriesPerSecond : NaN
    return {
      entries: opts.entries,
      valueBytes: opts.valueBytes,
      samepage,
      hypercore,
      rateRatioSamepageOverHypercore: rate(samepage) / rate(hypercore),
      target: 'rate ratio >= 10 (at least 5); peak RSS of each samepage process < 200 MB'
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/**
 * One side of the comparison: prepare the data (not timed), start the
 * seeder, run the joiner to the end, and read both processes' memory.
 */
async function measure (node: readonly string[], dirs: { seed: string, join: string }, env: NodeJS.ProcessEnv, args: {
  prepare: string[], joinArgs: (ready: Record<string, unknown>, prepared: Record<string, unknown>) => string[], count: (ready: Record<string, unknown>, done: Record<string, unknown>) => number
}): Promise<Record<string, unknown>> {
  const prepared = await lines(spawnChild([...node, 'prepare', dirs.seed, ...args.prepare], env), l => l.prepared !== undefined)
  const seeder = spawnChild([...node, 'seed', dirs.seed], env)
  try {
    const ready = await lines(seeder, l => l.ready === true, false)
    const seederCpu = cpuSeconds(seeder.pid as number)
    const done = await lines(spawnChild([...node, ...args.joinArgs(ready, prepared)], env), l => l.done === true)
    const seconds = done.seconds as number
    // The seeder's CPU from the joiner's start to its end (a little wider than the joiner's clock: its start-up).
    const seederCpuSeconds = Math.round((cpuSeconds(seeder.pid as number) - seederCpu) * 100) / 100
    const { done: _, seconds: __, memory, cpuSeconds: joinerCpuSeconds, ...rest } = done
    return {
      seconds, entriesPerSecond: args.count(ready, done) / seconds, ...rest,
      seeder: { atRest: ready.rest, ...peak(seeder), cpuSeconds: seederCpuSeconds }, joiner: { ...memory as object, cpuSeconds: joinerCpuSeconds }
    }
  } finally {
    seeder.kill('SIGTERM')
  }
}

async function samepageSide (root: string, opts: LateJoinOptions): Promise<Record<string, unknown>> {
  const join = path.join(root, 'samepage-join')
  // Bundled, as `samepage start` runs the daemon; no compile cache: the bundle and its preload strip no types.
  const peer = await bundledScript(path.join(import.meta.dirname, 'latejoin-peer.ts'))
  return await measure(daemonLike(peer), { seed: path.join(root, 'samepage-seed'), join }, process.env, {
    prepare: [String(opts.entries), String(opts.valueBytes)],
    joinArgs: ready => ['join', join, ready.token as string, String(ready.expect)],
    count: ready => ready.expect as number
  })
}

async function hypercoreSide (root: string, opts: LateJoinOptions): Promise<Record<string, unknown>> {
  const install = path.join(root, 'hypercore-install')
  fs.mkdirSync(install)
  fs.writeFileSync(path.join(install, 'package.json'), '{"private":true}')
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `hypercore@${HYPERCORE_VERSION}`], { cwd: install, encoding: 'utf8', timeout: STEP_LIMIT_MS })
  if (npm.status !== 0) return { error: `npm install hypercore@${HYPERCORE_VERSION} failed: ${(npm.stderr ?? '').trim().split('\n').slice(-3).join(' ')}` }
  const fetch = path.join(root, 'hypercore-fetch')
  const result = await measure([path.join(import.meta.dirname, 'hypercore-peer.mjs')], { seed: path.join(root, 'hypercore-seed'), join: fetch }, { ...process.env, HYPERCORE_DIR: install }, {
    prepare: [String(opts.entries), String(opts.valueBytes)],
    joinArgs: (ready, prepared) => ['fetch', fetch, String(ready.port), ready.key as string, String(prepared.prepared)],
    count: (_, done) => done.blocks as number
  })
  return { version: HYPERCORE_VERSION, ...result }
}

function spawnChild (args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
}

/** User + system CPU time of a running process, all its threads (/proc/PID/stat, in clock ticks of 1/100 s). */
function cpuSeconds (pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The current and peak RSS of a process that is still running. */
function peak (child: ChildProcess): { rssMB: number, peakRssMB: number } {
  return memory(child.pid as number)
}

/**
 * Reads the child's JSON lines until one passes `want`; with `toExit` it
 * also waits for a clean exit. Fails on an early exit or after STEP_LIMIT_MS.
 */
async function lines (child: ChildProcess, want: (line: Record<string, unknown>) => boolean, toExit = true): Promise<Record<string, unknown>> {
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const found = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`latejoin: ${child.spawnargs.slice(1, 3).join(' ')} over ${STEP_LIMIT_MS / 1000} s`)) }, STEP_LIMIT_MS)
    const rl = readline.createInterface({ input: child.stdout! })
    rl.on('line', text => {
      let line: Record<string, unknown>
      try { line = JSON.parse(text) } catch { return }
      if (want(line)) { clearTimeout(timer); rl.close(); resolve(line) }
    })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`latejoin: ${child.spawnargs.slice(1, 3).join(' ')} exited with ${code} before it was done`)) })
  })
  if (toExit) {
    const code = await exited
    if (code !== 0) throw new Error(`latejoin: ${child.spawnargs.slice(1, 3).join(' ')} exited with ${code}`)
  }
  return found
}

if (import.meta.main) {
  const log = (msg: string): void => { process.stderr.write(`${msg}\n`) }
  // node bench/latejoin.ts [entries] [--samepage-only]
  const hypercore = !process.argv.includes('--samepage-only')
  const entries = Number(process.argv.slice(2).find(a => !a.startsWith('--')) ?? 100_000)
  console.log(JSON.stringify(await benchLateJoin({ entries, valueBytes: 100, log, hypercore }), null, 2))
}

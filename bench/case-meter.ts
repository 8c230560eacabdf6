/**
 * What a benchmark case cost the machine, and whether the machine was quiet
 * enough for its time to mean anything: CPU-seconds (user + system) and peak
 * RSS of each node process from /proc/PID/stat and /proc/PID/status, the
 * load average before and after, and the CPU that processes outside the
 * case used while it ran (/proc/stat's busy time less the case's own).
 * Linux only, as the rest of the folder benchmarks.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

const CORES = os.cpus().length
const TICKS_PER_SECOND = ((): number => {
  const out = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout)
  return Number.isFinite(out) && out > 0 ? out : 100
})()
const LOAD_LIMIT = CORES + 0.5
/** Other processes busier than this (cores, on average over the case) disturb it. */
const OTHERS_LIMIT_CORES = 0.5
/** The nodes count as done with a transfer once they use less than this in SETTLE_STEP_MS, or after SETTLE_MAX_MS. */
const SETTLE_STEP_MS = 500
const SETTLE_QUIET_SECONDS = 0.1
const SETTLE_MAX_MS = 10_000
const GIB = 1024 ** 3

export const DISTURBED_RULE = `disturbed: the 1-minute load average before the case over cores + 0.5 (${LOAD_LIMIT}); ` +
  'or after it over cores + 0.5 + the cores the case itself kept busy on average (its nodes and the bench process: a busy ' +
  `case raises the load by itself); or processes outside the case using over ${OTHERS_LIMIT_CORES} core on average while it ` +
  'ran (/proc/stat busy time less the case\'s CPU-seconds). Times of a disturbed case say little.'

export function loadAverage (): number[] {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)
}

interface ProcSample { readonly cpuSeconds: number, readonly peakRssBytes: number }

/** CPU-seconds (all threads, user + system) and VmHWM of a live process; undefined once it is gone or a zombie. */
function readProc (pid: number): ProcSample | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // After the command name (which may hold spaces), field 3 is the state; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    if (hwm === undefined || !Number.isFinite(ticks)) return undefined
    return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssBytes: Number(hwm) * 1024 }
  } catch {
    return undefined
  }
}

/** Busy CPU-seconds of the whole machine (every core): user, nice, system, irq, softirq, steal. */
function machineBusySeconds (): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number)
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND
}

function benchCpuSeconds (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

export interface CaseCost {
  /** Peak RSS (VmHWM) of each node since it started, MB. */
  readonly peakRssMB: number[]
  readonly cpu: {
    /** Per node, in the order given, from start to finish (a node stopped early: until its last sample). */
    readonly seconds: number[]
    readonly totalSeconds: number
    /** totalSeconds per GiB that reached a receiver (counted once per receiver); absent when nothing was moved. */
    readonly secondsPerGiB?: number
    /** The bench process itself (polls, copies, checks), apart. */
    readonly benchSeconds: number
    /** What the case's nodes and the bench kept busy, in cores, on average. */
    readonly coresBusy: number
    /** What every other process on the machine kept busy meanwhile, in cores, on average. */
    readonly othersCores: number
    /** How long after the data arrived the nodes took to go quiet (their post-transfer work is counted). */
    readonly settleSeconds: number
  }
}

export interface CaseMeter {
  /** Reads every node now: a node about to be stopped keeps what it used until then. */
  sample (): void
  /** The cost since the meter started, once the nodes went quiet (at most 10 s). */
  finish (bytesMoved: number): Promise<CaseCost>
}

export function startMeter (pids: readonly number[]): CaseMeter {
  const first = pids.map(readProc)
  const last = [...first]
  const t0 = performance.now()
  const busy0 = machineBusySeconds()
  const bench0 = benchCpuSeconds()
  const sample = (): void => {
    pids.forEach((pid, i) => { last[i] = readProc(pid) ?? last[i] })
  }
  const used = (): number[] => pids.map((_, i) => (last[i]?.cpuSeconds ?? NaN) - (first[i]?.cpuSeconds ?? NaN))
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
  return {
    sample,
    async finish (bytesMoved) {
      const settleStarted = performance.now()
      sample()
      for (let before = sum(used()); performance.now() - settleStarted < SETTLE_MAX_MS;) {
        await sleep(SETTLE_STEP_MS)
        sample()
        const now = sum(used())
        if (!(now - before > SETTLE_QUIET_SECONDS)) break
        before = now
      }
      const seconds = used()
      const wall = (performance.now() - t0) / 1000
      const total = sum(seconds)
      const bench = benchCpuSeconds() - bench0
      const others = Math.max(0, machineBusySeconds() - busy0 - total - bench)
      return {
        peakRssMB: last.map(s => round((s?.peakRssBytes ?? NaN) / 1e6)),
        cpu: {
          seconds: seconds.map(round),
          totalSeconds: round(total),
          ...(bytesMoved > 0 ? { secondsPerGiB: round(total / (bytesMoved / GIB)) } : {}),
          benchSeconds: round(bench),
          coresBusy: round((total + bench) / wall),
          othersCores: round(others / wall),
          settleSeconds: round((performance.now() - settleStarted) / 1000)
        }
      }
    }
  }
}

/** A case run between two readings of the load average, marked `disturbed` (with the reason) by DISTURBED_RULE. */
export async function withLoad (run: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const before = loadAverage()
  let result: Record<string, unknown>
  try {
    result = await run()
  } catch (err) {
    result = { error: (err as Error).message }
  }
  const after = loadAverage()
  const cpu = (result.cpu ?? {}) as { coresBusy?: number, othersCores?: number }
  const reasons: string[] = []
  if ((before[0] ?? 0) > LOAD_LIMIT) reasons.push(`1-minute load ${before[0]} before, over ${LOAD_LIMIT}`)
  const afterLimit = round(LOAD_LIMIT + (cpu.coresBusy ?? 0))
  if ((after[0] ?? 0) > afterLimit) reasons.push(`1-minute load ${after[0]} after, over ${afterLimit}`)
  if ((cpu.othersCores ?? 0) > OTHERS_LIMIT_CORES) reasons.push(`other processes kept ${cpu.othersCores} cores busy`)
  const why = reasons.length > 0 ? { disturbedReason: reasons.join('; ') } : {}
  return { ...result, load: { before, after }, disturbed: reasons.length > 0, ...why }
}

export function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

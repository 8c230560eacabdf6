/**
 * The idle daemon: `samepage start` as a user runs it (bin/samepage.js, its
 * own process, an empty data directory), left alone for IDLE_SECONDS after it
 * says it is up, then its memory read from /proc: VmRSS and VmHWM, and where
 * the resident pages are (anonymous: V8's heap and malloc; file-backed: mostly
 * the node binary's own code and data, which no setting of ours changes).
 * Issue 14's target is an idle daemon under 80 MB of RSS. One start before the
 * measured ones fills Node's compile cache, as any earlier start of the same
 * code would (a first start after a change also loads Node's type stripper,
 * ~18 MB more); the installed package runs built JavaScript and never loads it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadAverage, round } from './case-meter.ts'
import { startDaemon, stopDaemon } from './samepage-daemons.ts'

const IDLE_SECONDS = 30
const TARGET_MB = 80
const MB = 1e6

export async function benchIdle (opts: { runs: number, log: (msg: string) => void }): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-idle-'))
  try {
    const warm = await startDaemon(path.join(root, 'warm'), path.join(root, 'warm-folder'))
    await stopDaemon(warm)
    const runs: Record<string, number>[] = []
    for (let i = 0; i < opts.runs; i++) {
      opts.log(`idle: daemon ${i + 1} of ${opts.runs}, ${IDLE_SECONDS} s after it is up`)
      const loadBefore = loadAverage()[0] as number
      const d = await startDaemon(path.join(root, `d${i}`), path.join(root, `folder${i}`))
      try {
        const cpuAtStart = cpuSeconds(d.pid)
        await sleep(IDLE_SECONDS * 1000)
        runs.push({ ...residentMB(d.pid), startCpuSeconds: cpuAtStart, idleCpuSeconds: round(cpuSeconds(d.pid) - cpuAtStart), loadBefore })
      } finally {
        await stopDaemon(d)
      }
    }
    const rss = runs.map(r => r.rssMB as number).sort((a, b) => a - b)
    const medianRss = rss[Math.floor(rss.length / 2)] as number
    return {
      afterSeconds: IDLE_SECONDS,
      runs,
      medianRssMB: medianRss,
      targetMB: TARGET_MB,
      underTarget: medianRss < TARGET_MB,
      note: 'rssMB = anonMB + fileMB (+ shmem); fileMB is mostly the node binary\'s pages (a bare node process holds ~35 MB of them)'
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/** VmRSS, VmHWM and RSS's split from /proc/PID/status, in MB. */
function residentMB (pid: number): Record<string, number> {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string): number => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024 / MB * 10) / 10
  return { rssMB: mb('VmRSS'), peakRssMB: mb('VmHWM'), anonMB: mb('RssAnon'), fileMB: mb('RssFile'), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]) }
}

/** User + system CPU-seconds of a live process, all threads (clock ticks of 1/100 s on Linux). */
function cpuSeconds (pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return round((Number(fields[11]) + Number(fields[12])) / 100)
}

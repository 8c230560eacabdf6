import fs from 'node:fs'

/** The current and peak RSS of a process (this one by default), from /proc. */
export function memory (pid: number | 'self' = 'self'): { rssMB: number, peakRssMB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMB: Math.round(kb('VmRSS') / 1024), peakRssMB: Math.round(kb('VmHWM') / 1024) }
}

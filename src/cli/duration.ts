import { CliError } from './client.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** "90s", "15m", "24h", "7d", "2w" -> milliseconds. */
export function parseDuration (text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim())
  if (m === null) {
    throw new CliError(`${JSON.stringify(text)} is not a duration; use a number and a unit, like 30m, 24h or 7d`, 2)
  }
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

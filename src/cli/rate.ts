import { CliError } from './client.ts'

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 }

/** "80MB", "10M", "512KiB", "1.5MB/s", "0" -> bytes per second (0: no limit). */
export function parseRate (option: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g|ki|mi|gi)?b?(?:\/s)?$/i.exec(text.trim())
  if (m === null) {
    const hint = 'use bytes per second with a unit, like 10MB, 512KiB or 0 for no limit'
    throw new CliError(`${option} ${JSON.stringify(text)} is not a rate; ${hint}`, 2)
  }
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] as number))
}

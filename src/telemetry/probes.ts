import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * What the host says of itself: load, memory, free disk, and the hottest
 * temperature sensor it exposes (thermal zones and hwmon, in millidegrees;
 * many VMs and containers expose none, which is reported as null, not 0).
 */
interface HostProbe {
  readonly load: readonly [number, number, number]
  readonly cpus: number
  readonly memory: { readonly totalBytes: number, readonly freeBytes: number, readonly rssBytes: number }
  readonly temperatureC: number | null
}

export function probeHost (): HostProbe {
  const [l1, l5, l15] = os.loadavg() as [number, number, number]
  return {
    load: [l1, l5, l15],
    cpus: os.availableParallelism(),
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem(), rssBytes: process.memoryUsage.rss() },
    temperatureC: hottestSensorC()
  }
}

/** Free and total bytes of the file system holding `dir`, or null if it cannot be read. */
export function probeDisk (dir: string): { totalBytes: number, freeBytes: number } | null {
  try {
    const s = fs.statfsSync(dir)
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize }
  } catch {
    return null
  }
}

const SENSOR_ROOTS = ['/sys/class/thermal', '/sys/class/hwmon']

/** The host's sensors, listed once: sysfs does not grow sensors while we run, and listing costs more than reading. */
let defaultSensors: string[] | undefined

function hottestSensorC (roots?: readonly string[]): number | null {
  let hottest: number | null = null
  const files = roots === undefined ? (defaultSensors ??= sensorFiles(SENSOR_ROOTS)) : sensorFiles(roots)
  for (const file of files) {
    try {
      const milli = Number(fs.readFileSync(file, 'utf8').trim())
      // Sensors that are off or absent read as 0 or negative, or as absurd values: skip them.
      if (Number.isFinite(milli) && milli > 0 && milli < 200_000) hottest = Math.max(hottest ?? -Infinity, milli / 1000)
    } catch {
      // A sensor that cannot be read right now (EIO on some drivers): the others still count.
    }
  }
  return hottest
}

function sensorFiles (roots: readonly string[]): string[] {
  const files: string[] = []
  for (const root of roots) {
    let dirs: string[]
    try { dirs = fs.readdirSync(root) } catch { continue }
    for (const d of dirs) {
      const at = path.join(root, d)
      if (d.startsWith('thermal_zone')) files.push(path.join(at, 'temp'))
      else if (d.startsWith('hwmon')) {
        try { for (const f of fs.readdirSync(at)) if (/^temp\d+_input$/.test(f)) files.push(path.join(at, f)) } catch {}
      }
    }
  }
  return files
}

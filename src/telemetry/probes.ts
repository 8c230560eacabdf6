import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * What the host says of itself: load, memory, free disk, and the hottest
 * temperature sensor it exposes (thermal zones and hwmon, in millidegrees;
 * many VMs and containers expose none, which is reported as null, not 0).
 * Every reading is total: one that fails (libuv reads the RSS from /proc, which needs a descriptor, and throws
 * EMFILE when the process has none left) is unknown this time (0, or null for the temperature), never an
 * exception out of the alert timer, which killed the whole node (review L3).
 */
interface HostProbe {
  readonly load: readonly [number, number, number]
  readonly cpus: number
  /** 0: unknown this time. */
  readonly memory: { readonly totalBytes: number, readonly freeBytes: number, readonly rssBytes: number }
  readonly temperatureC: number | null
}

export function probeHost (): HostProbe {
  const [l1, l5, l15] = reading(() => os.loadavg() as [number, number, number], [0, 0, 0])
  return {
    load: [l1, l5, l15],
    cpus: reading(() => os.availableParallelism(), 1),
    memory: {
      totalBytes: reading(() => os.totalmem(), 0),
      freeBytes: reading(() => os.freemem(), 0),
      rssBytes: reading(() => process.memoryUsage.rss(), 0)
    },
    temperatureC: reading(() => hottestSensorC(), null)
  }
}

/** Free and total bytes of the file system holding `dir`, or null if it cannot be read. */
export function probeDisk (dir: string): { totalBytes: number, freeBytes: number } | null {
  return reading(() => {
    const s = fs.statfsSync(dir)
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize }
  }, null)
}

function reading<T> (read: () => T, unknown: T): T {
  try {
    return read()
  } catch (err) {
    noteOutOfFiles(err)
    return unknown
  }
}

/** How long the open-file alert stays after the last failure: a table at its limit frees and fills again by turns. */
const OUT_OF_FILES_HOLD_MS = 60_000

/**
 * This process's descriptor table (EMFILE) or the system's (ENFILE) was last found full: when, and the
 * limit then. Process-wide, as the table is: a reading here, or an accept of the API server, notes it.
 */
let outOfFiles: { code: 'EMFILE' | 'ENFILE', atMs: number, limit: number | null } | undefined

/** Whether `err` says no descriptor was left (EMFILE, ENFILE); if so it is noted for the alert (outOfFilesNow). */
export function noteOutOfFiles (err: unknown, nowMs = Date.now()): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (code !== 'EMFILE' && code !== 'ENFILE') return false
  // The limit is read once a spell: the report walks every handle of the process, too much for each failure.
  const limit = outOfFiles !== undefined && nowMs - outOfFiles.atMs < OUT_OF_FILES_HOLD_MS
    ? outOfFiles.limit
    : openFileLimit()
  outOfFiles = { code, atMs: nowMs, limit }
  return true
}

/** The descriptor table found full in the last minute: by what code, and this process's limit (null: unknown). */
export function outOfFilesNow (nowMs = Date.now()): { code: 'EMFILE' | 'ENFILE', limit: number | null } | null {
  if (outOfFiles === undefined || nowMs - outOfFiles.atMs >= OUT_OF_FILES_HOLD_MS) return null
  return { code: outOfFiles.code, limit: outOfFiles.limit }
}

/**
 * This process's soft limit on open files (RLIMIT_NOFILE; Node raised it to the hard limit as it started), from
 * Node's diagnostic report: getrlimit, which needs no descriptor, where /proc/self/limits would need one.
 */
export function openFileLimit (): number | null {
  try {
    const report = process.report.getReport() as { userLimits?: { open_files?: { soft?: unknown } } }
    const soft = report.userLimits?.open_files?.soft
    return typeof soft === 'number' && Number.isSafeInteger(soft) ? soft : null
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
    } catch (err) {
      // A sensor that cannot be read right now (EIO on some drivers): the others still count.
      noteOutOfFiles(err)
    }
  }
  return hottest
}

function sensorFiles (roots: readonly string[]): string[] {
  const files: string[] = []
  for (const root of roots) {
    let dirs: string[]
    // No descriptor left: thrown, so that the empty list is not kept as the host's sensors for good.
    try { dirs = fs.readdirSync(root) } catch (err) { if (noteOutOfFiles(err)) throw err; continue }
    for (const d of dirs) {
      const at = path.join(root, d)
      if (d.startsWith('thermal_zone')) files.push(path.join(at, 'temp'))
      else if (d.startsWith('hwmon')) {
        try {
          for (const f of fs.readdirSync(at)) if (/^temp\d+_input$/.test(f)) files.push(path.join(at, f))
        } catch (err) { if (noteOutOfFiles(err)) throw err }
      }
    }
  }
  return files
}

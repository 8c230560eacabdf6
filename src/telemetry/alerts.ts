import { printable } from '../ids/index.ts'
import { REPORT_LIMITS } from './report.ts'
import type { AlertKind, AlertReport } from './report.ts'

/**
 * Alerts a node raises about itself, from thresholds in config.json
 * ("alerts": {...}). Pure: the facts and the time come in, the open alerts
 * go out, each keeping the time it was first raised.
 */
export interface AlertThresholds {
  /** The hottest sensor at or above this many °C. */
  readonly temperatureC: number
  /** Free space on the data directory's disk (and each folder's) below this percentage. */
  readonly diskFreePercent: number
  /** Free memory (os.freemem) below this percentage. */
  readonly memoryFreePercent: number
  /** A peer we were linked with (or told to keep) unreachable this long. */
  readonly peerUnreachableSeconds: number
  /** A folder that needs data and made no progress this long. */
  readonly folderStuckSeconds: number
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  temperatureC: 85,
  diskFreePercent: 5,
  memoryFreePercent: 3,
  peerUnreachableSeconds: 60,
  folderStuckSeconds: 300
}

interface AlertFacts {
  readonly temperatureC: number | null
  readonly disks: readonly { readonly path: string, readonly totalBytes: number, readonly freeBytes: number }[]
  readonly memory: { readonly totalBytes: number, readonly freeBytes: number }
  /** The descriptor table found full lately (probes.ts outOfFilesNow): this process's (EMFILE) or the system's. */
  readonly outOfFiles?: { readonly code: 'EMFILE' | 'ENFILE', readonly limit: number | null } | null
  /** Peers we lost or cannot reach, with the time they became unreachable. */
  readonly unreachable: readonly { readonly peer: string, readonly sinceMs: number }[]
  /** Folders that need data, with the time of their last progress. */
  readonly waiting: readonly WaitingFolder[]
}

interface WaitingFolder {
  readonly name: string
  readonly needBytes: number
  readonly needFiles: number
  readonly lastProgressMs: number
}

export function evaluateAlerts (
  facts: AlertFacts, t: AlertThresholds, previous: readonly AlertReport[], nowMs: number
): AlertReport[] {
  const open: { kind: AlertKind, subject: string, detail: string, sinceMs?: number }[] = []
  if (facts.temperatureC !== null && facts.temperatureC >= t.temperatureC) {
    const detail = `${facts.temperatureC.toFixed(1)} °C, threshold ${t.temperatureC} °C`
    open.push({ kind: 'overheating', subject: 'host', detail })
  }
  for (const d of facts.disks) {
    if (d.totalBytes <= 0) continue
    const pct = 100 * d.freeBytes / d.totalBytes
    if (pct >= t.diskFreePercent) continue
    const detail = `${pct.toFixed(1)}% free (${mib(d.freeBytes)} of ${mib(d.totalBytes)}), ` +
      `threshold ${t.diskFreePercent}%`
    open.push({ kind: 'disk-full', subject: d.path, detail })
  }
  if (facts.memory.totalBytes > 0) {
    const pct = 100 * facts.memory.freeBytes / facts.memory.totalBytes
    const detail = `${pct.toFixed(1)}% free, threshold ${t.memoryFreePercent}%`
    if (pct < t.memoryFreePercent) open.push({ kind: 'memory-low', subject: 'host', detail })
  }
  const full = facts.outOfFiles ?? null
  if (full !== null) open.push({ kind: 'open-files', subject: 'host', detail: outOfFiles(full) })
  for (const u of facts.unreachable) {
    const s = Math.floor((nowMs - u.sinceMs) / 1000)
    if (s < t.peerUnreachableSeconds) continue
    const detail = `unreachable for ${s} s, threshold ${t.peerUnreachableSeconds} s`
    open.push({ kind: 'peer-unreachable', subject: u.peer, detail, sinceMs: u.sinceMs })
  }
  for (const f of facts.waiting) {
    const s = Math.floor((nowMs - f.lastProgressMs) / 1000)
    if (s < t.folderStuckSeconds) continue
    const detail = `${f.needFiles} files (${mib(f.needBytes)}) needed, no progress for ${s} s, ` +
      `threshold ${t.folderStuckSeconds} s`
    open.push({ kind: 'folder-stuck', subject: f.name, detail })
  }
  return open.map(a => {
    // A subject can be a peer's text (a folder is named after its space's genesis name, which its creator chose):
    // made printable and cut here, once, so the API, the log and the published record all say the same safe text.
    // A detail is this node's own words and numbers, kept whole for the API (the record cuts it).
    const subject = printable(a.subject, REPORT_LIMITS.text)
    const before = previous.find(p => p.kind === a.kind && p.subject === subject)
    return { kind: a.kind, subject, detail: a.detail, sinceMs: before?.sinceMs ?? a.sinceMs ?? nowMs }
  })
}

/** Whether two alert lists name different alerts (details such as "for 61 s" do not count). */
export function alertsChanged (a: readonly AlertReport[], b: readonly AlertReport[]): boolean {
  const names = (l: readonly AlertReport[]): string => l.map(x => `${x.kind}\u0000${x.subject}`).sort().join('\u0001')
  return names(a) !== names(b)
}

/**
 * What to do about a full descriptor table (connections, files and readings of this node fail meanwhile). Short
 * enough to go whole in the status record (REPORT_LIMITS.text), which every node's `samepage alerts` shows.
 */
function outOfFiles (o: { readonly code: 'EMFILE' | 'ENFILE', readonly limit: number | null }): string {
  if (o.code === 'ENFILE') return 'the system\'s open-file table is full: raise fs.file-max'
  return `at its open-file limit${o.limit === null ? '' : ` (${o.limit})`}: raise LimitNOFILE / ulimit -n`
}

function mib (bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`
}

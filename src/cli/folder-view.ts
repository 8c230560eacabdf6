import type { ConflictInfo, FolderInfo } from '../node/index.ts'
import type { ApiClient } from './client.ts'
import { shown } from './program.ts'
import { bytes, isoTime, rate } from '../api/index.ts'
import { printable, quotedIfUnsafe } from '../ids/index.ts'

export type { ConflictInfo, FolderInfo }

/** One line: in sync, or what is left. */
export function folderLine (f: FolderInfo): string {
  const s = f.status
  const problems = s.errors.length > 0 ? `, ${s.errors.length} not synced` : ''
  const conflicts = s.conflicts > 0 ? `, ${s.conflicts} conflicts` : ''
  const changed = s.localChanges.count > 0 ? `, ${s.localChanges.count} changed here` : ''
  if (s.needFiles === 0) {
    // A receive-only folder holding changes of its own differs from the space: never "in sync"; nor one with a path
    // not synced (a file not written, or one the scan could not read).
    const state = s.state === 'idle' && changed === '' && problems === '' ? 'in sync' : s.state
    return `${state}: ${s.localFiles} files, ${bytes(s.localBytes)}${conflicts}${changed}${problems}`
  }
  const eta = s.etaSeconds === null ? '' : `, ETA ${s.etaSeconds} s`
  const toGo = `${s.needFiles} files, ${bytes(s.needBytes)} to go at ${rate(s.rateBytesPerSecond)}`
  return `${s.state}: ${toGo}${eta}${conflicts}${changed}${problems}`
}

/** An error may quote a whole path (up to 4 KiB, PATH_BYTES_MAX) and the system's words: kept whole up to this. */
const ERROR_CHARS_MAX = 4400

export function folderReport (f: FolderInfo): string {
  const s = f.status
  const lines = [`${shown(f.name)}  ${f.path}  ${f.mode}`, `  ${folderLine(f)}`]
  if (s.lastSyncedMs !== null) lines.push(`  last in sync ${isoTime(s.lastSyncedMs)}`)
  // A path is a member's choice (any name but NUL and backslash): whole, but escaped if it holds a control character.
  for (const e of s.errors) lines.push(`  ${quotedIfUnsafe(e.path)}: ${printable(e.error, ERROR_CHARS_MAX)}`)
  const { count, paths } = s.localChanges
  if (count > 0) {
    const listed = paths.slice(0, 10).map(c => `${quotedIfUnsafe(c.path)} (${c.change})`)
    const more = count > listed.length ? ` and ${count - listed.length} more` : ''
    lines.push(`  changed here, not sent: ${listed.join('; ')}${more} (samepage folder revert puts back the space's)`)
  }
  if (s.skipped.length > 0) {
    const more = s.skipped.length > 10 ? ` and ${s.skipped.length - 10} more` : ''
    const listed = s.skipped.slice(0, 10)
      .map(x => `${quotedIfUnsafe(x.path)} (${printable(x.problem, ERROR_CHARS_MAX)})`)
    lines.push(`  not shared: ${listed.join('; ')}${more}`)
  }
  return lines.join('\n')
}

/** `samepage conflicts`: each conflicted path, its current version, its copies and the versions still unresolved. */
export function conflictsText (conflicts: readonly ConflictInfo[]): string {
  if (conflicts.length === 0) return 'no conflicts'
  // Paths and copies' names come from members' records: escaped as in folderReport.
  const lines = (c: ConflictInfo): string[] => [
    quotedIfUnsafe(c.path),
    `  current: ${c.current.id} by ${c.current.author.slice(0, 12)} (${bytes(c.current.size)})`,
    ...c.copies.map(p => `  copy: ${quotedIfUnsafe(p)}`),
    ...c.versions.map(v =>
      `  unresolved: ${v.id} by ${v.author.slice(0, 12)} (${bytes(v.size)}), to be kept as ${quotedIfUnsafe(v.copy)}`)
  ]
  const hint = '\nkeep one: samepage resolve SPACE PATH (a current or unresolved id, or a copy)'
  return conflicts.map(c => lines(c).join('\n')).join('\n') + hint
}

/** `samepage resolve`: the path and the conflict copies it removed, escaped as in conflictsText. */
export function resolvedText (r: { readonly path: string, readonly removed: readonly string[] }): string {
  const copies = r.removed.length === 0 ? '' : `; removed ${r.removed.map(quotedIfUnsafe).join(', ')}`
  return `${quotedIfUnsafe(r.path)} keeps the chosen version on every node${copies}`
}

/** A progress bar of the folder's transfer, until nothing is left to fetch (Ctrl-C leaves it syncing). */
export async function watchFolder (api: ApiClient, path: string): Promise<void> {
  // Only --watch draws a bar: the other commands do not load it.
  const { default: cliProgress } = await import('cli-progress')
  const bar = new cliProgress.SingleBar({
    format: '{bar} {percentage}% | {done} of {total} | {rate}/s | ETA {eta_formatted} | {files} files left',
    hideCursor: true
  }, cliProgress.Presets.shades_classic)
  let started = false
  let total = 0
  for (;;) {
    const f = await api.call('GET', path) as FolderInfo
    const s = f.status
    if (s.needBytes > 0 && (!started || s.needBytes > total)) {
      total = Math.max(total, s.needBytes)
      if (!started) bar.start(total, 0, {}); else bar.setTotal(total)
      started = true
    }
    const payload = {
      done: bytes(total - s.needBytes),
      total: bytes(total),
      rate: bytes(s.rateBytesPerSecond),
      files: s.needFiles
    }
    if (started) bar.update(total - s.needBytes, payload)
    if (s.needFiles === 0 && s.state === 'idle') {
      if (started) bar.stop()
      console.log(folderLine(f))
      return
    }
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

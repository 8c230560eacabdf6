import path from 'node:path'

/**
 * Conflict copies, named as Syncthing names them:
 * `notes.sync-conflict-20261201-213000-ABCDEF0.txt` for the version of
 * `notes.txt` that lost, by its mtime (UTC) and its author's key. Every node
 * derives the same name from the same version, so the copies agree.
 */
const MARK = '.sync-conflict-'
const PATTERN = /^(.*)\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}(\.[^./]*)?$/

export function conflictCopyPath (
  filePath: string,
  version: { readonly mtimeMs: number, readonly author: string }
): string {
  const dir = path.posix.dirname(filePath)
  const base = path.posix.basename(filePath)
  const dot = base.lastIndexOf('.')
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, '']
  const t = new Date(version.mtimeMs).toISOString() // 2026-12-01T21:30:00.000Z
  const day = `${t.slice(0, 4)}${t.slice(5, 7)}${t.slice(8, 10)}`
  const stamp = `${day}-${t.slice(11, 13)}${t.slice(14, 16)}${t.slice(17, 19)}`
  const name = `${stem}${MARK}${stamp}-${version.author.slice(0, 7).toUpperCase()}${ext}`
  return dir === '.' ? name : `${dir}/${name}`
}

/** The path a conflict copy keeps a version of, or null if `p` is not a conflict copy. */
export function isConflictCopy (p: string): string | null {
  if (!p.includes(MARK)) return null
  const m = PATTERN.exec(p)
  return m === null ? null : `${m[1] as string}${m[2] ?? ''}`
}

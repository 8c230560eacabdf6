import { bytesEqual, FILE_MODE_BITS } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import type { LocalChange, RecordedFile, RecordedVersion } from './folder-types.ts'
import type { ScannedFile } from './scanner.ts'
import { conflictCopyPath } from './conflict-name.ts'
import type { KnownFile } from './folder-state.ts'
import type { FsStats } from './folder-fs.ts'

/**
 * Comparisons of versions and files on disk (pure): the words the planner
 * (plan.ts) decides in.
 */

type Content = Pick<RecordedVersion | ScannedFile, 'size' | 'mode' | 'chunks'>

/** Same bytes and mode: a version and a file (or two versions) that need no copy of each other. */
export function sameContent (a: Content, b: Content): boolean {
  if (a.size !== b.size || a.mode !== b.mode || a.chunks.length !== b.chunks.length) return false
  for (let i = 0; i < a.chunks.length; i++) {
    const x = a.chunks[i] as FileChunk
    const y = b.chunks[i] as FileChunk
    if (x[1] !== y[1] || !bytesEqual(x[0], y[0])) return false
  }
  return true
}

/**
 * Losing versions whose content differs from the winner's (a deletion that lost, or a same-content twin, needs no
 * copy).
 */
export function realConflicts (v: RecordedFile): RecordedVersion[] {
  return v.conflicts.filter(c => !c.deleted && !sameContent(c, v.current))
}

/**
 * Why the file on disk at `v.path` (`local`) must not be replaced yet, or
 * null: it holds a losing version whose conflict copy is not on disk yet
 * (it may be the only source of that version: replacing it could lose the
 * version for good), or, where local changes are kept, it is a change not
 * on record (its record was refused; it is recorded first).
 */
export function whyKept (
  v: RecordedFile,
  local: ScannedFile,
  known: KnownFile | undefined,
  scanned: ReadonlyMap<string, ScannedFile>,
  keepLocalChanges: boolean
): string | null {
  if (keepLocalChanges && (known === undefined || !sameStat(known, local))) {
    return 'the change here is not on record, so it is not replaced (it is recorded first)'
  }
  for (const c of realConflicts(v)) {
    if (!sameContent(c, local)) continue
    const copyPath = conflictCopyPath(v.path, c)
    const there = scanned.get(copyPath)
    if (there !== undefined && sameContent(c, there)) continue
    return `its conflict copy ${copyPath} is written first (the file here holds that version)`
  }
  return null
}

type FileStat = Pick<ScannedFile, 'size' | 'mtimeMs' | 'ino' | 'mode'>

/** The file on disk is the one this node last synced or recorded (size, mtime, inode and permission bits unchanged). */
export function sameStat (known: FileStat, now: FileStat): boolean {
  return known.size === now.size && known.mtimeMs === now.mtimeMs && known.ino === now.ino && known.mode === now.mode
}

/** What is on disk now (`st`, an lstat; null: nothing) is still the file a scan saw as `scanned` (none: nothing). */
export function stillAsScanned (scanned: FileStat | undefined, st: FsStats | null): boolean {
  if (st === null || scanned === undefined) return st === null && scanned === undefined
  return st.isFile() && sameStat(scanned, statOf('', st))
}

/** A file's stat as a scan records it (whole milliseconds, the permission bits). */
export function statOf (p: string, st: FsStats): Omit<ScannedFile, 'chunks'> {
  return { path: p, size: st.size, mode: st.mode & FILE_MODE_BITS, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino }
}

/** Looks up the versions of a path that later ones superseded, of a size and mode (FolderHost.superseded). */
export type SupersededLookup = (path: string, size: number, mode: number) => readonly RecordedVersion[]

/**
 * The superseded version `file` holds, if the records show one (its id). A file this node knows nothing of (a folder
 * added again, or over an older copy of its files) that holds an old version is that version, not a change made here:
 * known as it, the newer records apply to it (a deletion deletes it, an edit replaces it) as if the folder had been
 * here all along. It was recorded as a new version superseding nothing: a file another member had deleted came back on
 * every node, and one they had edited left a stale conflict copy everywhere (a review's probe).
 *
 * Its modification time must be the version's too: an old copy keeps it (a synced file is written with its version's
 * time, a recorded one was scanned with it), while a file a user makes again with the same bytes (an empty
 * `.gitkeep`, a standard config file) has a time of its own, and is a new file that a deletion on record must not take.
 */
export function heldVersion (lookup: SupersededLookup | undefined, file: ScannedFile): string | undefined {
  return lookup?.(file.path, file.size, file.mode).find(old => old.mtimeMs === file.mtimeMs && sameContent(old, file))
    ?.id
}

/**
 * What this receive-only node changed at `v.path` against the space, or null: its file is not the version it knows
 * (or it knows none) nor the current one; or, still knowing the current version, it deleted the file. A known file
 * missing while a newer version is recorded is no change: that version is written.
 */
export function localChange (
  v: RecordedFile, local: ScannedFile | undefined, known: KnownFile | undefined
): LocalChange['change'] | null {
  if (local === undefined) {
    return known !== undefined && !v.current.deleted && known.id === v.current.id ? 'deleted' : null
  }
  if (known !== undefined && sameStat(known, local)) return null
  return v.current.deleted || !sameContent(v.current, local) ? 'changed' : null
}

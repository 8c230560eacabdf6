import { conflictList } from './conflict-list.ts'
import { conflictCopyPath } from './conflict-name.ts'
import { shadowedPaths } from './file-layout.ts'
import type { NewVersion, RecordedFile } from './folder-types.ts'
import type { FolderView } from './plan.ts'
import type { ScannedFile } from './scanner.ts'
import { sameContent, sameStat } from './versions.ts'

/**
 * A user's resolution of a conflict (pure, as plan.ts): keep one version of
 * a path in conflict. `keep` names what the conflict lists: the id of the
 * version under the name, the id of a concurrent version, or a conflict
 * copy on disk (after step 4 of a pass a copy is all that is left of a
 * losing version). The plan is one commit, then the disk:
 *
 *   - a record with the kept content superseding every head of the path
 *     (none when the path already has one head with that content), and a
 *     deletion superseding every head of each copy that is on record, so
 *     every node ends the conflict alike, as after any edit;
 *   - the kept content written under the name (from the file here that
 *     holds it: the safe writer copies its chunks, nothing is fetched);
 *   - the copies of the path removed here.
 *
 * It runs on what the last pass saw, which is what the conflict list showed.
 */
export type KeepRefusalCode = 'NO_CONFLICT' | 'BAD_INPUT' | 'NOT_ON_DISK' | 'CANNOT_KEEP'

interface KeepRefusal { readonly refused: KeepRefusalCode, readonly message: string }

interface KeepPlan {
  /** The file here holding the kept content, or null when the kept version is a deletion. */
  readonly kept: ScannedFile | null
  /** What is recorded, in one commit: the path's new version (first, if any), then the copies' deletions. */
  readonly records: readonly NewVersion[]
  /** Whether `records` starts with the path's new version. */
  readonly recordsPath: boolean
  /** Whether the kept content is still to be written under the name (it is in a copy, not the file). */
  readonly write: boolean
  /** The conflict copies of the path on disk here, to remove (after the write). */
  readonly remove: readonly string[]
}

export function planKeep (at: FolderView, p: string, keep: string, nowMs: number): KeepPlan | KeepRefusal {
  const conflict = conflictList(at.views, at.scanned.keys()).find(c => c.path === p)
  const v = at.views.get(p)
  if (conflict === undefined || v === undefined) {
    return { refused: 'NO_CONFLICT', message: `${p} is not in conflict in this folder; samepage conflicts lists those` }
  }
  if (shadowedPaths(at.views.values()).has(p)) {
    return {
      refused: 'CANNOT_KEEP',
      message: `${p} is set aside: other records make it a directory, so no version can be kept under its name; ` +
        'move the copy you want elsewhere'
    }
  }
  const local = at.scanned.get(p)
  const known = at.known.get(p)
  if (local !== undefined && (known === undefined || !sameStat(known, local))) {
    const message = `${p} has a change here not yet recorded; wait for the sync, then choose`
    return { refused: 'NOT_ON_DISK', message }
  }
  const kept = keptFile(at, v, keep, conflict.copies)
  if (kept === 'unknown') {
    const choices = [conflict.current.id, ...conflict.versions.map(x => x.id), ...conflict.copies]
    return {
      refused: 'BAD_INPUT',
      message: `${keep} is not one of the versions of ${p} in conflict; keep one of: ${choices.join(', ')}`
    }
  }
  if (kept === undefined) {
    return {
      refused: 'NOT_ON_DISK',
      message: `the bytes of that version of ${p} are not on this node yet; wait for the sync ` +
        '(samepage folder status SPACE), then choose again'
    }
  }
  const heads = [v.current, ...v.conflicts]
  const settled = heads.length === 1 && (kept === null ? v.current.deleted : sameContent(v.current, kept))
  const records: NewVersion[] = []
  if (!settled) {
    const supersedes = heads.map(h => Buffer.from(h.id, 'hex'))
    const { size, mode, mtimeMs, chunks } = kept ?? { size: 0, mode: v.current.mode, mtimeMs: nowMs, chunks: [] }
    records.push({ path: p, size, mode, mtimeMs, deleted: kept === null, chunks, supersedes })
  }
  const recordsPath = records.length > 0
  for (const c of conflict.copies) {
    const copy = at.views.get(c)
    if (copy === undefined || copy.current.deleted) continue
    const supersedes = [copy.current, ...copy.conflicts].map(h => Buffer.from(h.id, 'hex'))
    records.push({ path: c, size: 0, mode: copy.current.mode, mtimeMs: nowMs, deleted: true, chunks: [], supersedes })
  }
  return { kept, records, recordsPath, write: kept !== null && kept.path !== p, remove: conflict.copies }
}

/**
 * The file here that holds the version `keep` names (null: a deletion, nothing to hold); undefined when its bytes are
 * not here yet; 'unknown' when the conflict lists no such version.
 */
function keptFile (at: FolderView, v: RecordedFile, keep: string, copies: readonly string[]):
ScannedFile | null | undefined | 'unknown' {
  const local = at.scanned.get(v.path)
  if (keep === v.current.id) {
    if (v.current.deleted) return local === undefined ? null : undefined
    return at.known.get(v.path)?.id === v.current.id ? local : undefined
  }
  if (copies.includes(keep)) return at.scanned.get(keep)
  const version = v.conflicts.find(c => c.id === keep && !c.deleted && !sameContent(c, v.current))
  if (version === undefined) return 'unknown'
  const copy = at.scanned.get(conflictCopyPath(v.path, version))
  if (copy !== undefined && sameContent(version, copy)) return copy
  return local !== undefined && sameContent(version, local) ? local : undefined
}

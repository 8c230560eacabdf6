import { bytesEqual } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import type { RecordedFile, RecordedVersion } from './folder.ts'
import type { ScannedFile } from './scanner.ts'
import { conflictCopyPath } from './conflict-name.ts'

/** Same bytes and mode: a version and a file (or two versions) that need no copy of each other. */
export function sameContent (a: Pick<RecordedVersion, 'size' | 'mode' | 'chunks'>, b: Pick<ScannedFile, 'size' | 'mode' | 'chunks'>): boolean {
  if (a.size !== b.size || a.mode !== b.mode || a.chunks.length !== b.chunks.length) return false
  for (let i = 0; i < a.chunks.length; i++) {
    const x = a.chunks[i] as FileChunk
    const y = b.chunks[i] as FileChunk
    if (x[1] !== y[1] || !bytesEqual(x[0], y[0])) return false
  }
  return true
}

/** Losing versions whose content differs from the winner's (a deletion that lost, or a same-content twin, needs no copy). */
export function realConflicts (v: RecordedFile): RecordedVersion[] {
  return v.conflicts.filter(c => !c.deleted && !sameContent(c, v.current))
}

/**
 * The copy path of a losing version of `v` that the file on disk (`local`)
 * holds and whose conflict copy is not on disk yet (`scanned`), or null:
 * replacing that file now could lose the version for good.
 */
export function uncopiedLoser (v: RecordedFile, local: ScannedFile, scanned: ReadonlyMap<string, ScannedFile>): string | null {
  for (const c of realConflicts(v)) {
    if (!sameContent(c, local)) continue
    const copyPath = conflictCopyPath(v.path, c)
    const there = scanned.get(copyPath)
    if (there === undefined || !sameContent(c, there)) return copyPath
  }
  return null
}

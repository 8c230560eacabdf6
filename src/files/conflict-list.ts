import { conflictCopyPath, isConflictCopy } from './conflict-name.ts'
import { shadowedPaths } from './file-layout.ts'
import type { ConflictInfo, RecordedFile, RecordedVersion, VersionSummary } from './folder-types.ts'
import { realConflicts } from './versions.ts'

/**
 * The conflicts a folder shows (pure): every path with concurrent versions
 * still unresolved in the space, or conflict copies on disk. A path set
 * aside for a directory (file-layout.ts) has every version as a copy.
 */
export function conflictList (views: ReadonlyMap<string, RecordedFile>, onDisk: Iterable<string>): ConflictInfo[] {
  const copies = new Map<string, string[]>()
  for (const p of onDisk) {
    const of = isConflictCopy(p)
    if (of !== null) copies.set(of, [...copies.get(of) ?? [], p])
  }
  const out: ConflictInfo[] = []
  const shadowed = shadowedPaths(views.values())
  for (const [p, v] of views) {
    const losers = shadowed.has(p) ? [v.current, ...realConflicts(v)] : realConflicts(v)
    const versions = losers.map(c => ({ ...summary(c), copy: conflictCopyPath(p, c) }))
    const here = copies.get(p) ?? []
    if (versions.length === 0 && here.length === 0) continue
    out.push({ path: p, current: summary(v.current), versions, copies: here })
  }
  return out
}

function summary (v: RecordedVersion): VersionSummary {
  return { id: v.id, author: v.author, mtimeMs: v.mtimeMs, size: v.size }
}

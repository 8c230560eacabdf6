import type { ChunkIndex } from './chunk-index.ts'
import { conflictCopyPath } from './conflict-name.ts'
import { sameStat } from './folder-state.ts'
import type { KnownFile } from './folder-state.ts'
import type { NewVersion, RecordedFile, RecordedVersion } from './folder.ts'
import { renameInFolder } from './safe-path.ts'
import type { ScannedFile } from './scanner.ts'
import { realConflicts, sameContent } from './versions.ts'

/**
 * A path that other current records make a directory (file-layout.ts) on
 * this node: nothing is written under its name; each of its versions is a
 * conflict copy beside it. This node's own unchanged copy of one is just
 * renamed to its copy's name (no byte fetched); the others are written like
 * any conflict copy. Once every copy is here, a send-receive node records
 * the path deleted, superseding its versions, which ends it everywhere.
 */
export interface SetAsideHost {
  readonly root: string
  /** The folder as this pass sees it, and what this node knows of each file: updated here when a file is renamed. */
  readonly scanned: Map<string, ScannedFile>
  readonly known: Map<string, KnownFile>
  readonly index: ChunkIndex
  readonly errors: Map<string, string>
  describe (err: NodeJS.ErrnoException): string
  /** Records versions in one commit; null when refused (the reason is in errors). */
  record (versions: readonly NewVersion[]): string[] | null
}

/** The copies still to write for `v` (the caller writes them as conflict copies); `moved` when a local file was renamed to its copy. */
export async function setAside (host: SetAsideHost, v: RecordedFile): Promise<{ moved: boolean, toWrite: { version: RecordedVersion, path: string, expect: ScannedFile | null }[] }> {
  let moved = false
  const toWrite: { version: RecordedVersion, path: string, expect: ScannedFile | null }[] = []
  for (const h of [v.current, ...realConflicts(v)]) {
    const copyPath = conflictCopyPath(v.path, h)
    const there = host.scanned.get(copyPath)
    if (there !== undefined && sameContent(h, there)) continue
    const local = host.scanned.get(v.path)
    const known = host.known.get(v.path)
    if (there === undefined && local !== undefined && known !== undefined && sameStat(known, local) && sameContent(h, local)) {
      try {
        await renameInFolder(host.root, v.path, copyPath)
        const renamed = { ...local, path: copyPath }
        host.scanned.delete(v.path)
        host.known.delete(v.path)
        host.scanned.set(copyPath, renamed)
        host.index.add(renamed)
        moved = true
      } catch (err) {
        host.errors.set(v.path, host.describe(err as NodeJS.ErrnoException))
      }
      continue
    }
    toWrite.push({ version: h, path: copyPath, expect: there ?? null })
  }
  if (host.scanned.has(v.path)) host.errors.set(v.path, 'not written: a file is here on this node where other records make a directory; it is set aside as a conflict copy once its content is recorded')
  else host.errors.delete(v.path)
  return { moved, toWrite }
}

/** Once every version of a set-aside path has its copy here, a deletion superseding them all ends the conflict (send-receive nodes). */
export function resolveSetAside (host: SetAsideHost, list: readonly RecordedFile[]): boolean {
  let changed = false
  for (const v of list) {
    if (host.scanned.has(v.path)) continue
    const copied = [v.current, ...realConflicts(v)].every(h => {
      const there = host.scanned.get(conflictCopyPath(v.path, h))
      return there !== undefined && sameContent(h, there)
    })
    if (!copied) continue
    const heads = [v.current, ...v.conflicts].map(x => Buffer.from(x.id, 'hex'))
    host.record([{ path: v.path, size: 0, mode: v.current.mode, mtimeMs: v.current.mtimeMs, deleted: true, supersedes: heads, chunks: [] }])
    changed = true
  }
  return changed
}

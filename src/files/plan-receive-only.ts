import { conflictCopyPath } from './conflict-name.ts'
import { shadowedPaths } from './file-layout.ts'
import type { Adoption, FolderView, Rename } from './plan.ts'
import { heldVersion, localChange, sameContent, sameStat } from './versions.ts'

/**
 * Receive-only, before planRemoteChanges (as Syncthing's receive-only folders): a change made here is neither recorded
 * nor written over unawares. It is listed in the folder's status (planRemoteChanges, localChange) until a new version
 * of its path is to be written, or the user reverts (`folder revert`); then the file is first renamed to a conflict
 * copy named by its mtime and this node's key (`author`), kept on this node only (never recorded: nothing here is),
 * and the space's version is written under the name. A file whose copy name is taken stays, listed.
 *
 * Files that are no change are adopted first: one whose bytes are still the known version's (only its stat moved on),
 * and one this node knows nothing of that holds a version the space superseded (heldVersion): that old version is
 * replaced by the current one without a copy. Pure, as plan.ts.
 */
export function planReceiverAsides (at: FolderView, ignores: (path: string) => boolean, opts: {
  readonly author: string
  readonly revert: boolean
}): { adopt: Adoption[], asides: Rename[] } {
  const adopt: Adoption[] = []
  const asides: Rename[] = []
  const shadowed = shadowedPaths(at.views.values())
  for (const v of at.views.values()) {
    const local = at.scanned.get(v.path)
    if (local === undefined || ignores(v.path) || shadowed.has(v.path)) continue
    const known = at.known.get(v.path)
    if (known !== undefined && !sameStat(known, local) && sameContent(known, local)) {
      adopt.push({ file: local, id: known.id })
      continue
    }
    const old = known === undefined && !(!v.current.deleted && sameContent(v.current, local))
      ? heldVersion(at.superseded, local)
      : undefined
    if (old !== undefined) {
      adopt.push({ file: local, id: old })
      continue
    }
    if (localChange(v, local, known) !== 'changed') continue
    const replaced = !v.current.deleted && known?.id !== v.current.id
    if (!replaced && !opts.revert) continue
    const to = conflictCopyPath(v.path, { mtimeMs: local.mtimeMs, author: opts.author })
    if (!at.scanned.has(to)) asides.push({ from: v.path, to, file: local })
  }
  return { adopt, asides }
}

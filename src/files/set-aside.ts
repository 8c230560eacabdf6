import { describeWriteError } from './folder-errors.ts'
import { adopt } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import type { FolderView, Rename } from './plan.ts'
import { planReceiverAsides } from './plan-receive-only.ts'
import { renameInFolder } from './safe-path.ts'

/**
 * A path that other current records make a directory (file-layout.ts) on
 * this node: nothing is written under its name; each of its versions is a
 * conflict copy beside it. This node's own unchanged copy of one is just
 * renamed to its copy's name (no byte fetched: planned by
 * planSetAsideRenames, done here); the others are written like any conflict
 * copy. Once every copy is here, a send-receive node records the path
 * deleted, superseding its versions (planSetAsideEnds), which ends it
 * everywhere. Returns whether any file moved.
 */
export async function renameAside (state: PassState, renames: readonly Rename[]): Promise<boolean> {
  let moved = false
  for (const r of renames) {
    try {
      await renameInFolder(state.fs, state.root, r.from, r.to)
      const renamed = { ...r.file, path: r.to }
      state.scanned.delete(r.from)
      state.known.delete(r.from)
      state.scanned.set(r.to, renamed)
      state.index.add(renamed, false) // its bytes were last read by some earlier scan
      moved = true
    } catch (err) {
      state.errors.set(r.from, describeWriteError(err as NodeJS.ErrnoException))
    }
  }
  return moved
}

/** A conflict copy's author mark when the host names no key (a test's): any seven hex digits match the pattern. */
const NO_AUTHOR = '0000000'

/**
 * Receive-only, before the writes: the changes made here that give way to a version now (or to `revert`) are renamed
 * to their copies, kept on this node only; files found to be no change are adopted (plan-receive-only.ts). Returns
 * whether what this node knows changed.
 */
export async function setLocalChangesAside (state: PassState, view: FolderView, ignores: (path: string) => boolean,
  opts: { readonly revert: boolean, readonly author: string | undefined }): Promise<boolean> {
  const plan = planReceiverAsides(view, ignores, { author: opts.author ?? NO_AUTHOR, revert: opts.revert })
  for (const a of plan.adopt) adopt(state, a.file, a.id)
  return await renameAside(state, plan.asides) || plan.adopt.length > 0
}

import { describeWriteError } from './folder-errors.ts'
import type { PassState } from './pass-state.ts'
import type { Rename } from './plan.ts'
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

import path from 'node:path'
import { describeWriteError } from './folder-errors.ts'
import type { PassState } from './pass-state.ts'
import { rmdirInFolder, unlinkInFolder } from './safe-path.ts'

/**
 * Deletes a file the planner found deleted on record (and unchanged here);
 * directories left empty go too, as they went on the node that deleted the
 * file. Returns false (the path shows why) when the file system refused.
 */
export async function deleteFile (state: PassState, p: string): Promise<boolean> {
  try {
    await unlinkInFolder(state.fs, state.root, p)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      state.errors.set(p, describeWriteError(err as NodeJS.ErrnoException))
      return false
    }
  }
  state.known.delete(p)
  state.scanned.delete(p)
  state.errors.delete(p)
  for (let dir = path.posix.dirname(p); dir !== '.' && dir !== ''; dir = path.posix.dirname(dir)) {
    if (!await rmdirInFolder(state.fs, state.root, dir)) break
  }
  return true
}

import path from 'node:path'
import { describeWriteError } from './folder-errors.ts'
import type { PassState } from './pass-state.ts'
import { lstatInFolder, rmdirInFolder, unlinkInFolder } from './safe-path.ts'
import type { ScannedFile } from './scanner.ts'
import { stillAsScanned } from './versions.ts'

/**
 * Deletes `file`, a file the planner found deleted on record (and unchanged here), or a conflict copy a user's keep
 * removes, only if it is still the file the scan saw: a pass deletes after all its writes, hours after its scan with a
 * big fetch, and a user's edit since must not go with it. A file changed since is left, with an error that schedules
 * a pass soon; that pass records the change (its stat differs from the known one), and a file wins over a deletion,
 * so the edit stands everywhere. Returns false when the file is left or the file system refused (the path shows why).
 *
 * Directories left empty go too, on a receiver only: they were made here by this node's writes, to hold files of the
 * space, so a deletion (a member's `rm -r` of a tree, most often) takes them as it took them on the member's node.
 * On the node whose user deleted or moved the file nothing removes a directory: the user left it there, maybe on
 * purpose (an inbox to fill again), and only files are shared (README, "Folders"), so it stays on that node alone.
 * Removing it there too would make the trees alike in that case, by undoing what the user just did on their own disk.
 */
export async function deleteFile (state: PassState, file: ScannedFile): Promise<boolean> {
  const p = file.path
  try {
    if (!await unlinkInFolder(state.fs, state.root, p, st => stillAsScanned(file, st))) {
      state.errors.set(p, CHANGED_SINCE_SCAN)
      return false
    }
  } catch (err) {
    // A directory of its path gone: so is the file.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      state.errors.set(p, describeWriteError(err as NodeJS.ErrnoException, 'not deleted'))
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

/** The file at `p` is still what the last scan saw there (nothing, if it saw nothing); false if it cannot be told. */
export async function unchangedSinceScan (state: PassState, p: string): Promise<boolean> {
  const st = await lstatInFolder(state.fs, state.root, p).catch(() => undefined)
  return st !== undefined && stillAsScanned(state.scanned.get(p), st)
}

/** Begins with "waiting:": the next pass's planning clears it, whether or not its mode records the change. */
const CHANGED_SINCE_SCAN = 'waiting: not deleted: it changed here after the scan that planned its deletion, so it ' +
  'stays (where this folder sends, the change is recorded next, and a file wins over a deletion)'

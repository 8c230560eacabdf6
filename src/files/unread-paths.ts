import type { Ignore } from 'ignore'
import { lastingError, ScannedFiles } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import type { ScannedFile, ScanProblem } from './scanner.ts'

/**
 * The paths the last scan could not read (scanner.ts `unread`: a file the system refused to read, or that changed
 * under every read; a directory it refused to list, and so every file under it). The scan says nothing of them: not
 * that they are gone, nor what they hold. So, until a scan reads them, each stands as this node knew it (the previous
 * scan's file, or what the last run knew): no change and no deletion is recorded for it (it may hold changes no read
 * saw), and no record is written over it or deleted there. A path that is ignored or cannot be shared is another
 * thing: no longer shared from here (plan.ts `notShared`).
 *
 * Each shows why in the folder's status, as a lasting error (retryable() in pass-state.ts): a pass every few seconds
 * would scan the whole folder again for one file of another user; the change that lifts it (a write, a chmod) brings
 * a pass of its own through the watcher, and the periodic rescan tries again anyway.
 */
export class UnreadPaths {
  /** This scan's paths, with the error each shows. */
  #shown = new Map<string, string>()

  /** `p` is one of them, or under one (a directory not listed). */
  readonly covers = (p: string): boolean => {
    if (this.#shown.size === 0) return false
    for (let end = p.length; end > 0; end = p.lastIndexOf('/', end - 1)) {
      if (this.#shown.has(p.slice(0, end))) return true
    }
    return false
  }

  /**
   * What step 2 (records to files) leaves alone: the paths `rules` ignore, and these, neither written nor deleted
   * there this pass (though, unlike an ignored one, not forgotten).
   */
  orIgnoredBy (rules: Ignore): (path: string) => boolean {
    return p => rules.ignores(p) || this.covers(p)
  }

  /**
   * A scan ended: the files on disk are the ones it read (`files`), and each path it could not read as `before`
   * had it (the scan's `previous`: a file to be read again whatever its stat is not there, and the next scan reads
   * it). Errors of this scan's paths are shown, those of the last scan's paths, read now, go.
   */
  scanned (
    state: PassState,
    before: ReadonlyMap<string, ScannedFile>,
    files: readonly ScannedFile[],
    unread: readonly ScanProblem[]
  ): ScannedFiles {
    for (const [p, error] of this.#shown) {
      if (state.errors.get(p) === error) state.errors.delete(p)
    }
    this.#shown = new Map(unread.map(u => [u.path, u.problem]))
    for (const [p, error] of this.#shown) lastingError(state, p, error)
    const now = new ScannedFiles(files.map(f => [f.path, f]))
    if (this.#shown.size > 0) {
      for (const [p, f] of before) if (!now.has(p) && this.covers(p)) now.set(p, f)
    }
    return now
  }
}

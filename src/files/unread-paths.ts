import type { Ignore } from 'ignore'
import { lastingError, ScannedFiles } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import type { ScannedFile, ScanProblem } from './scanner.ts'
import type { SupersededLookup } from './versions.ts'

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
  readonly covers = (p: string): boolean => within(this.#shown, p)

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

/** `p` is one of `paths`, or under one of them ('' is the whole folder). */
function within (paths: ReadonlyMap<string, unknown> | ReadonlySet<string>, p: string): boolean {
  if (paths.size === 0) return false
  if (paths.has('')) return true
  for (let end = p.length; end > 0; end = p.lastIndexOf('/', end - 1)) {
    if (paths.has(p.slice(0, end))) return true
  }
  return false
}

/**
 * Where the older-copy rule applies (versions.ts heldVersion: a file this node knows nothing of that holds a version
 * the space superseded, with its bytes and mtime, is that version, and the newer records apply to it). At a folder's
 * first pass (nothing known: it was added, or added again) to every file (''); after it only to the paths that pass
 * could not read, and the files under a directory it could not list, until a pass reads them. Not to a running
 * folder's other new files: a file restored from the trash after its deletion would be deleted again (a review's
 * probe). The rule used to end with the first pass whatever it left unread: an old copy read later was recorded as
 * this node's new version, and a file other members had deleted came back on every node (another probe).
 *
 * Kept with what the node knows of its copy (folder-state.ts), so a restart before the read keeps it. At most
 * OLDER_COPY_PATHS paths: past that, the deepest ones are taken by their directory, up to the whole folder, so the
 * rule covers a few new files more than it must (as a first pass does) rather than missing an old copy.
 */
export class OlderCopyPaths {
  readonly #lookup: SupersededLookup | undefined
  #paths: ReadonlySet<string> = new Set([''])

  constructor (lookup: SupersededLookup | undefined) { this.#lookup = lookup }

  /** A folder starting: with nothing known, a first pass (every file); else the paths kept when it last ran. */
  start (firstPass: boolean, kept: readonly string[]): void {
    this.#paths = firstPass ? new Set(['']) : bounded(new Set(kept))
  }

  /** To be kept with the folder's state. */
  get paths (): string[] { return [...this.#paths] }

  /** The lookup a pass uses: none where the rule does not apply. */
  lookup (): SupersededLookup | undefined {
    const lookup = this.#lookup
    const paths = this.#paths
    if (lookup === undefined || paths.size === 0) return undefined
    if (paths.has('')) return lookup
    return (p, size, mode) => within(paths, p) ? lookup(p, size, mode) : []
  }

  /** A pass got through its scan, which could not read `unread`: whether the paths changed (to be saved). */
  passed (unread: readonly ScanProblem[]): boolean {
    const before = this.#paths
    if (before.size === 0) return false
    const now = new Set(unread.map(u => u.path))
    // Still unread and covered: an unread path the rule covered, and a path it covered under one now unread.
    const still = new Set([...now].filter(p => within(before, p)))
    for (const p of before) if (within(now, p)) still.add(p)
    this.#paths = bounded(still)
    return this.#paths.size !== before.size || [...this.#paths].some(p => !before.has(p))
  }
}

const OLDER_COPY_PATHS = 1_000

/** At most OLDER_COPY_PATHS paths: the deepest taken by their directory, again while too many ('': all of them). */
function bounded (paths: Set<string>): Set<string> {
  let out = paths
  const depth = (p: string): number => p === '' ? -1 : p.split('/').length - 1
  while (out.size > OLDER_COPY_PATHS) {
    const deepest = [...out].reduce((d, p) => Math.max(d, depth(p)), -1)
    if (deepest <= 0) return new Set([''])
    out = new Set([...out].map(p => depth(p) === deepest ? p.slice(0, p.lastIndexOf('/')) : p))
  }
  return out
}

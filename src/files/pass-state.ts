import type { ChunkIndex } from './chunk-index.ts'
import type { FolderFs } from './folder-fs.ts'
import type { KnownFile } from './folder-state.ts'
import type { FolderTotals } from './folder-types.ts'
import type { ScannedFile } from './scanner.ts'

/**
 * What the executor of a pass changes as it acts, shared by its parts
 * (folder.ts, write-jobs.ts, set-aside.ts, delete-file.ts): the files on
 * disk as this pass sees them, what this node knows of each, the chunk
 * index, and the error each path shows. The planner (plan.ts) reads the
 * same maps, read-only, between the steps. Every part reaches the disk
 * through `fs` (folder-fs.ts).
 */
export interface PassState {
  readonly root: string
  readonly fs: FolderFs
  scanned: ScannedFiles
  readonly known: Map<string, KnownFile>
  readonly errors: Map<string, string>
  readonly index: ChunkIndex
  /**
   * Errors that trying again cannot lift, by path: the record of the version is wrong, or its name clashes by case or
   * cannot be held by this disk, and only new records or a change on disk lift them (each brings a pass of its own:
   * the records' arrival, the watcher, the 60 s rescan). A folder with only these is not passed again every few
   * seconds.
   */
  readonly lasting: Map<string, string>
  /**
   * Sizes of chunks that hashed right at another size than a record said, by hash: at most SIZES_LEARNED_MAX, the
   * oldest forgotten. A version naming one at a wrong size is refused without a fetch (refutedHere in write-jobs.ts).
   */
  readonly sizesLearned: Map<string, number>
  /** The folder's file system ignores case (probed at the first pass: folder-errors.ts ignoresCase). */
  caseInsensitive?: boolean | undefined
  /** A write found a name refused that was not asked before its fetch: every name is asked now (name-check.ts). */
  probeEveryName?: boolean
}

/** Chunk sizes remembered (SIZES_LEARNED_MAX × ~150 bytes): one forgotten is fetched once more, and learned again. */
const SIZES_LEARNED_MAX = 4096

/** The pass state of a folder at `root` before its first scan. */
export function emptyPassState (root: string, fs: FolderFs, index: ChunkIndex): PassState {
  return { root, fs, scanned: new ScannedFiles(), known: new Map(), errors: new Map(), index, lasting: new Map(),
    sizesLearned: new Map() }
}

/** The chunk of hash `hashHex` is `size` bytes: it hashed right at that size, where a record said another. */
export function learnSize (state: PassState, hashHex: string, size: number): void {
  state.sizesLearned.delete(hashHex)
  state.sizesLearned.set(hashHex, size)
  if (state.sizesLearned.size > SIZES_LEARNED_MAX) {
    state.sizesLearned.delete(state.sizesLearned.keys().next().value as string)
  }
}

/** An error of `path` that only new records lift. */
export function lastingError (state: PassState, path: string, error: string): void {
  state.errors.set(path, error)
  state.lasting.set(path, error)
}

/** Some error may go by trying again (lasting errors that no longer stand are forgotten here). */
export function retryable (state: PassState): boolean {
  for (const [p, error] of state.lasting) if (state.errors.get(p) !== error) state.lasting.delete(p)
  return state.errors.size > state.lasting.size
}

/**
 * The files on disk by path, with their bytes summed as they change: a folder's status is asked every half second
 * while it syncs (and by the API and the telemetry), and summing a million files' sizes each time walked them all.
 */
export class ScannedFiles extends Map<string, ScannedFile> {
  #bytes = 0

  constructor (files: Iterable<readonly [string, ScannedFile]> = []) {
    // Added here, not by Map's constructor: that one calls set() before this class's fields exist.
    super()
    for (const [p, f] of files) this.set(p, f)
  }

  /** The sizes of the files, summed. */
  get bytes (): number { return this.#bytes }

  override set (p: string, file: ScannedFile): this {
    this.#bytes += file.size - (super.get(p)?.size ?? 0)
    return super.set(p, file)
  }

  override delete (p: string): boolean {
    this.#bytes -= super.get(p)?.size ?? 0
    return super.delete(p)
  }

  override clear (): void {
    this.#bytes = 0
    super.clear()
  }
}

/** This node now knows the file on disk as the version `id`. */
export function adopt (state: PassState, file: ScannedFile, id: string): void {
  state.known.set(file.path, { ...file, id })
}

/** The folder's totals with `add` counted in. */
export function addTotals (t: FolderTotals, add: Partial<FolderTotals>): FolderTotals {
  return {
    filesIn: t.filesIn + (add.filesIn ?? 0),
    filesOut: t.filesOut + (add.filesOut ?? 0),
    bytesIn: t.bytesIn + (add.bytesIn ?? 0),
    bytesOut: t.bytesOut + (add.bytesOut ?? 0)
  }
}

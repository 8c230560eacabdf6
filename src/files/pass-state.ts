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

import type { NewVersion } from '../files/index.ts'
import { DecodedVersions } from '../space/index.ts'
import type { AppendLocal, FileState, SpaceReplica } from '../space/index.ts'

/** How long a folder's decoded records are kept after the last time they were read or written. */
const DECODED_KEPT_MS = 10_000

/**
 * A shared folder's file records as its node reads and writes them (issue 14). A folder pass reads the whole files
 * view each time entries arrive (10,000 small files: five reads on a receiver, ~0.2-0.3 s each), though most versions
 * are the ones it read last time. The versions decoded last and those this node records are kept, by entry id, for
 * the next read (space/view-reads.ts DecodedVersions): it then looks up and decodes only what it has not seen.
 * Nothing is kept once the folder has not touched its records for DECODED_KEPT_MS: an idle folder holds none.
 */
export class FolderRecords {
  readonly #decoded = new DecodedVersions()
  readonly #keptMs: number
  #release: NodeJS.Timeout | undefined

  constructor (keptMs = DECODED_KEPT_MS) {
    this.#keptMs = keptMs
  }

  /** Every path's versions, in path order. */
  list (replica: SpaceReplica): FileState[] {
    this.#touched()
    return replica.filesList(this.#decoded)
  }

  /** Records versions in one commit through `append`; their record ids. */
  record (replica: SpaceReplica, versions: readonly NewVersion[], append: AppendLocal): string[] {
    this.#touched()
    return replica.recordFileVersions(versions, append, this.#decoded)
  }

  /** Drops what is kept at once (the folder is removed). */
  close (): void {
    clearTimeout(this.#release)
    this.#decoded.clear()
  }

  /** The records were touched: what is kept is dropped #keptMs from now, unless they are touched again. */
  #touched (): void {
    clearTimeout(this.#release)
    this.#release = setTimeout(() => { this.#decoded.clear() }, this.#keptMs)
    this.#release.unref()
  }
}

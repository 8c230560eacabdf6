import type { RecordedFile } from './folder-types.ts'

/**
 * The space's file records as one folder pass reads them (issue 14, memory). Reading them decodes every
 * record of the space (10,000 files: ~17 MB of objects that turn to garbage and ~1 s of CPU), and a pass
 * read them three times: to record local changes, to plan the writes, to count conflicts at its end. Within
 * a pass the first decode is reused until something may have changed the records: a record of this folder's
 * own, or entries stored from a peer (FolderSync.recordsChanged), which may come during any await.
 * A change from elsewhere on this node in the middle of a pass is seen by the next pass, as one just after it
 * would be. The decode is dropped at the end of a pass; the node may reuse its versions for the next one for a while
 * (space/view-reads.ts DecodedVersions), never in an idle folder.
 */
export class PassViews {
  readonly #read: () => Map<string, RecordedFile>
  #views: Map<string, RecordedFile> | null = null

  constructor (read: () => Map<string, RecordedFile>) {
    this.#read = read
  }

  /** The records by path: the pass's last decode while they have not changed since, else a new one. */
  get (): Map<string, RecordedFile> {
    this.#views ??= this.#read()
    return this.#views
  }

  /** The records may have changed, or the pass is over: the decode is dropped, the next get() decodes anew. */
  forget (): void {
    this.#views = null
  }
}

import { setImmediate as nextTurn } from 'node:timers/promises'
import type { NewVersion, RecordedFile } from './folder-types.ts'
import { adopt } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import { planFileChanges, planLocalChanges } from './plan.ts'
import type { ScannedFile } from './scanner.ts'
import type { SupersededLookup } from './versions.ts'

/**
 * Step 1 of a pass (local changes become records) as the scan goes (issue 14). A first scan of a big folder used to
 * hash every file before the first record went out, and a peer waited that long before pulling a byte (10,000 files
 * of 4 KiB: ~1.8 s; a 503 MB tree: its whole hashing). Now the files the scan reads are handed over as each is
 * finished (scanner.ts `found`) and, every EARLY_BYTES of data (and for the first EARLY_COUNT_BATCHES batches of
 * RECORDS_PER_COMMIT small files), planned (planFileChanges), put in the chunk index (a record's chunks are served
 * from the moment it is out) and recorded.
 * What needs the whole scan (deletions, and any file not read: unchanged since the last scan) is still decided at its
 * end, by planLocalChanges over everything, for which the early ones are known already under the stat they have.
 *
 * A file's record is the scan's view of it, as before: a file that changes after it was read is found by the next
 * scan (the watcher), or by the chunk index when a peer asks (it no longer hashes as scanned).
 *
 * The space's records are decoded once for the early batches (a decode of 10,000 records costs ~1 s): the folder's
 * own records since touch only paths already recorded, which no later batch holds and which the end's plan skips
 * (known, same stat), so that decode stays right for every other path until entries come from elsewhere
 * (`arrivals`); then it is decoded again, at most EARLY_DECODES_MAX times in all, after which the rest waits for the
 * end of the scan, as it all did before. The end's plan looks records up only for a deletion or a file not recorded
 * yet: after a first scan recorded everything early, it decodes nothing (the writes that follow decode them, as
 * always), where a plan over a decode of its own would decode all of them once more.
 */
interface RecordingHost {
  readonly state: PassState
  /** The space's records as the pass decodes them (pass-views.ts). */
  views (): ReadonlyMap<string, RecordedFile>
  /** The versions the records superseded, for a file this node knows nothing of (versions.ts heldVersion). */
  readonly superseded?: SupersededLookup | undefined
  /** Counts the times entries came from elsewhere (FolderSync.recordsChanged): a decode from before one is stale. */
  arrivals (): number
  /** Records versions in one commit; null if refused (each path then shows why, and none is recorded). */
  record (versions: readonly NewVersion[]): string[] | null
}

type Planned = readonly { readonly version: NewVersion, readonly file: ScannedFile | null }[]

/** File records committed together (one fsync): a folder of many small files is recorded in few commits. */
const RECORDS_PER_COMMIT = 256
/** Data read since the last batch that makes a batch (of any number of files: each commit still holds 256 at most). */
const EARLY_BYTES = 128 * 1024 * 1024
/**
 * Batches of RECORDS_PER_COMMIT files that go before EARLY_BYTES of them were read: only the first few. A receiver
 * pays for each batch it meets apart (every round of its pass decodes and plans all the records), and a stream of
 * small files sent 256 at a time cost both nodes more CPU than it saved (10,000 files of 4 KiB: ~24 against ~22
 * CPU-seconds in all, no faster): after these, small files go EARLY_BYTES at a time, or at the end of the scan.
 */
const EARLY_COUNT_BATCHES = 4
/** Decodes of the records for early batches in one scan (the end's plan needs one more if entries came since). */
const EARLY_DECODES_MAX = 2

export class ScanRecording {
  readonly #host: RecordingHost
  readonly #reread: ReadonlySet<string>
  #queue: ScannedFile[] = []
  #queuedBytes = 0
  #early = true
  #views: ReadonlyMap<string, RecordedFile> | null = null
  #viewsAt = 0
  #decodes = 0
  #countBatches = 0
  /**
   * Commits planned and not made yet, and the loop making them a turn apart (finish() waits for it). The flush of
   * 9,000 small files at the end of a scan made 36 commits in one go: for ~0.5 s nothing the node sent left it, not
   * even the announcement of the first commit, and a receiver waited that long to start writing them.
   */
  readonly #toCommit: Planned[] = []
  #committing: Promise<void> | null = null
  /** What failed in a commit made a turn later (finish() throws it: the pass fails, as from a commit made at once). */
  #failure: Error | undefined
  /** The scan failed: files it still finds (its other reads go on a while) are not recorded by this pass. */
  #stopped = false
  /** Paths whose record was refused in this pass: they show why, and are not tried again until the next pass. */
  readonly #refused = new Set<string>()
  /** What this node knows of its files changed (it is saved at the end of the pass). */
  changed = false

  constructor (host: RecordingHost, reread: ReadonlySet<string>) {
    this.#host = host
    this.#reread = reread
  }

  /** The scanner's `found`: a file just scanned; read ones (new or changed, most likely) go out in batches. */
  readonly found = (file: ScannedFile, read: boolean): void => {
    if (!read || !this.#early || this.#stopped) return
    this.#queue.push(file)
    this.#queuedBytes += file.size
    const byCount = this.#queue.length >= RECORDS_PER_COMMIT && this.#countBatches < EARLY_COUNT_BATCHES
    if (byCount) this.#countBatches++
    if (byCount || this.#queuedBytes >= EARLY_BYTES) this.#flush()
  }

  /**
   * The scan is over (`state.scanned` is its result): what the early batches left, and deletions, are recorded
   * (RECORDS_PER_COMMIT a commit, yielding between commits so that chunks are served meanwhile); nothing for a path
   * it could not read (`unread`).
   */
  async finish (notShared: readonly string[], unread: (path: string) => boolean): Promise<boolean> {
    // The last batch like the others (the index rebuilt from the scan holds its files already).
    if (this.#early && this.#queue.length > 0) this.#flush(false)
    await this.#allCommitted()
    const state = this.#host.state
    // Decoded only if a file or a deletion needs its path's records: after a first scan, most often none does.
    const views = { get: (p: string) => (this.#fresh() ? this.#current() : this.#host.views()).get(p) }
    const at = { scanned: state.scanned, known: state.known, views, superseded: this.#host.superseded }
    const plan = planLocalChanges(at, { reread: this.#reread, notShared, unread, nowMs: Date.now() })
    for (const a of plan.adopt) adopt(state, a.file, a.id)
    for (const p of plan.forget) state.known.delete(p)
    this.changed ||= plan.adopt.length > 0 || plan.forget.length > 0
    this.#commit(plan.records.filter(r => r.file === null || !this.#refused.has(r.file.path)))
    await this.#allCommitted()
    return this.changed
  }

  /** `index`: put the files in the chunk index first (the end's rebuild put them there already). */
  #flush (index = true): void {
    if (!this.#fresh() && this.#decodes >= EARLY_DECODES_MAX) {
      this.#early = false // entries keep coming: the end's plan takes the rest, with one decode
      return
    }
    const state = this.#host.state
    const files = this.#queue
    this.#queue = []
    this.#queuedBytes = 0
    // Decoded only if some file needs a look at its path's records (planFileChanges asks only for those).
    const views = { get: (p: string) => this.#current().get(p) }
    const plan = planFileChanges(files, { known: state.known, views, superseded: this.#host.superseded }, this.#reread)
    for (const a of plan.adopt) adopt(state, a.file, a.id)
    this.changed ||= plan.adopt.length > 0
    // In the index before any record names them: a peer may ask as soon as it is out.
    if (index) for (const f of files) state.index.add(f, true)
    this.#commit(plan.records)
  }

  /**
   * RECORDS_PER_COMMIT a commit, in order: the first at once if none waits (an early batch of one commit is out before
   * the scan reads on), each other after a turn of the event loop, in which what the last one made goes out.
   */
  #commit (records: Planned): void {
    for (let from = 0; from < records.length; from += RECORDS_PER_COMMIT) {
      this.#toCommit.push(records.slice(from, from + RECORDS_PER_COMMIT))
    }
    if (this.#committing !== null || this.#toCommit.length === 0) return
    this.#commitOne(this.#toCommit.shift() as Planned)
    if (this.#toCommit.length > 0) this.#committing = this.#commitRest()
  }

  /**
   * The scan failed: no more files are taken, commits not made yet are dropped (their files are recorded by the next
   * pass, as this node does not know them), and it resolves once none is under way: nothing of this pass is recorded
   * beside the next one.
   */
  async stop (): Promise<void> {
    this.#stopped = true
    this.#toCommit.length = 0
    await this.#committing
  }

  /** Every commit planned is made; throws what failed in one made a turn later. */
  async #allCommitted (): Promise<void> {
    await this.#committing
    if (this.#failure !== undefined) throw this.#failure
  }

  async #commitRest (): Promise<void> {
    try {
      while (this.#toCommit.length > 0) {
        await nextTurn()
        const next = this.#toCommit.shift()
        if (next !== undefined) this.#commitOne(next)
      }
    } catch (err) {
      // Nobody awaits a loop started during the scan: kept for finish(), never an unhandled rejection.
      this.#failure ??= err as Error
      this.#toCommit.length = 0
    } finally {
      this.#committing = null
    }
  }

  #commitOne (records: Planned): void {
    const ids = this.#host.record(records.map(r => r.version))
    if (ids === null) {
      for (const r of records) this.#refused.add(r.version.path)
      return
    }
    this.changed = true
    records.forEach((r, i) => { if (r.file !== null) adopt(this.#host.state, r.file, ids[i] as string) })
  }

  #fresh (): boolean {
    return this.#views !== null && this.#viewsAt === this.#host.arrivals()
  }

  #current (): ReadonlyMap<string, RecordedFile> {
    if (!this.#fresh()) {
      this.#viewsAt = this.#host.arrivals()
      this.#views = this.#host.views()
      this.#decodes++
    }
    return this.#views as ReadonlyMap<string, RecordedFile>
  }
}

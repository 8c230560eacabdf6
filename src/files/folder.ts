import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { AsyncSubscription } from '@parcel/watcher'
import type { ChunkFetcher, FetchProgress } from '../blocks/index.ts'
import { inWorkArea } from '../codec/index.ts'
import { ChunkIndex } from './chunk-index.ts'
import { conflictList } from './conflict-list.ts'
import { deleteFile } from './delete-file.ts'
import { keepVersion, KeepRefused } from './keep-version.ts'
import type { KeepOutcome } from './keep-version.ts'
import { checkFolder, checkFolderMarker, describePassError, ignoresCase } from './folder-errors.ts'
import { nodeFolderFs } from './folder-fs.ts'
import { knownHeld, loadFolderState, saveFolderState } from './folder-state.ts'
import type { KnownStore } from './folder-state.ts'
import type { ConflictInfo, FolderMode, FolderOptions, FolderStatus, FolderTotals } from './folder-types.ts'
import type { LocalChange, NewVersion, RecordedFile, WriteJob } from './folder-types.ts'
import { addTotals, adopt, emptyPassState, retryable, ScannedFiles } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import { folderStatus } from './folder-status.ts'
import { PassViews } from './pass-views.ts'
import { planRemoteChanges, planResolutions, planSetAsideEnds, planSetAsideRenames } from './plan.ts'
import type { FolderView } from './plan.ts'
import { MODE_RULES } from './plan-modes.ts'
import type { ModeRules } from './plan-modes.ts'
import { PassTimer } from './pass-timer.ts'
import { readIgnoreRules, scanFolder, WORK_AREA } from './scanner.ts'
import type { ScanProblem } from './scanner.ts'
import { ScanRecording } from './scan-records.ts'
import { OlderCopyPaths, UnreadPaths } from './unread-paths.ts'
import { renameAside, setLocalChangesAside } from './set-aside.ts'
import { dropHopeless, forgetStale, stillToReplace, writeJobs } from './write-jobs.ts'

/**
 * One shared folder on this node: a space bound to a local directory. Each pass (after a change on disk, a change in
 * the space, or a periodic rescan) does two things, in this order:
 *
 *   1. Local changes become file records (not in receive-only mode): a file whose stat differs from the one this
 *      node knows is a new version superseding the known one; a known file gone is a deletion.
 *   2. Records become files (not in send-only mode): the current version of each path is written by the safe
 *      writer, chunks copied from local files where they exist (a rename moves no data) and fetched from peers
 *      otherwise; conflict copies are made for concurrent versions that lost; deletions go last, so their chunks
 *      can still be copied.
 *
 * A concurrent edit keeps both versions: the winner (space/: a file over a deletion, then the newer mtime) under the
 * name, the loser as a conflict copy, on every node. Then a send-receive node records a version that supersedes
 * both, so the conflict is resolved once, everywhere the same.
 *
 * Every decision is the planner's (plan.ts, pure, per mode plan-modes.ts); this class only executes the plans: it
 * scans, writes (write-jobs.ts), renames (set-aside.ts), deletes (delete-file.ts), records through its host, and
 * keeps the timers, the watcher and the status. Every call to the disk goes through one FolderFs (folder-fs.ts:
 * node:fs, or a test's fake).
 */
export class FolderSync extends EventEmitter<{ progress: [FolderStatus] }> {
  readonly root: string
  readonly mode: FolderMode
  readonly #rules: ModeRules
  readonly #opts: FolderOptions
  readonly #known: KnownStore
  readonly #state: PassState
  readonly #olderCopies: OlderCopyPaths // where a file known of nothing may be an old version (a first pass: all)
  #skipped: ScanProblem[] = []
  readonly #unread = new UnreadPaths() // the paths the last scan could not read: kept as this node knew them
  #phase: FolderStatus['state'] = 'starting'
  #need = { files: 0, bytes: 0 }
  #fetch: ChunkFetcher | null = null
  #lastFetched: FetchProgress = { bytesReceived: 0, rateBytesPerSecond: 0, peers: [] }
  #lastSyncedMs: number | null = null
  /** Bytes in: of the passes ended; the pass under way adds its fetcher's count (status()). */
  #totals: FolderTotals = { filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0 }
  /** Paths in conflict as of the last pass (status() is asked often; the full list reads the whole view). */
  #conflictCount = 0
  /** Receive-only: the paths changed or deleted here as of the last pass; `#revert`: the pass puts them back. */
  #localChanges: readonly LocalChange[] = []
  #revert = false
  #subscription: AsyncSubscription | undefined
  readonly #passTimer = new PassTimer(() => { void this.#run() })
  #rescan: NodeJS.Timeout | undefined
  #progressTimer: NodeJS.Timeout | undefined
  #running: Promise<void> | null = null
  #againMs = Infinity // a pass asked for while one ran: the soonest asked, at least WATCH_SETTLE_MS (RETRY_MS kept)
  #recordsAgain = false // entries came during the pass: another follows unless step 2's last round began after them
  #arrivalsApplied = -1 // #arrivals when step 2's last round began (it decodes the records after that)
  #recordsArrived = false // entries came since the pass last looked at the records (recordsChanged)
  #arrivals = 0 // times entries came (recordsChanged): a scan's early records decode the records again after one
  /** The space's records as this pass decoded them (pass-views.ts). */
  readonly #passViews = new PassViews(() => this.#views())
  #stopped = false
  /** Files that no longer hashed as scanned when a peer asked: the next scan reads them whatever their stat. */
  readonly #reread = new Set<string>()

  constructor (opts: FolderOptions) {
    super()
    this.#opts = opts
    this.root = path.resolve(opts.root)
    this.mode = opts.mode
    this.#rules = MODE_RULES[opts.mode]
    this.#olderCopies = new OlderCopyPaths(opts.host.superseded?.bind(opts.host))
    this.#known = opts.knownStore ?? {
      load: () => loadFolderState(opts.stateFile),
      save: (known, olderCopies) => { saveFolderState(opts.stateFile, known, olderCopies) }
    }
    const fs = opts.fs ?? nodeFolderFs
    // A file found changed while serving it is read again in a pass soon (even if its stat looks the same).
    const index = new ChunkIndex(this.root, p => { this.#reread.add(p); this.schedule(WATCH_SETTLE_MS) }, fs)
    this.#state = emptyPassState(this.root, fs, index)
  }

  /** Checks the folder can be used (throws FolderProblem naming what is wrong), then watches it and runs a pass. */
  async start (): Promise<void> {
    const { known: loaded, olderCopies } = this.#known.load()
    const known = knownHeld(loaded, this.#opts.host.holds)
    this.#olderCopies.start(known.size === 0, olderCopies) // a running folder's unknown file is new (a restore, too)
    await checkFolder(this.root, this.#state.fs, known.size > 0)
    for (const [p, k] of known) this.#state.known.set(p, k)
    // What the last run knew stands in for a previous scan: unchanged files are not read again.
    this.#state.scanned = new ScannedFiles(known)
    if (this.#opts.watch !== false) {
      try {
        // Loaded with the first folder, not with the daemon (an idle daemon's RSS: docs/architecture.md, "Memory").
        const { default: watcher } = await import('@parcel/watcher')
        const settle = (): void => { this.schedule(WATCH_SETTLE_MS) }
        this.#subscription = await watcher.subscribe(this.root, settle, { ignore: [WORK_AREA] })
      } catch {
        // No watcher here (inotify limits, its addon missing): the periodic rescan still finds every change, later.
      }
    }
    this.#rescan = setInterval(() => { this.schedule(0) }, this.#opts.rescanMs ?? RESCAN_MS)
    this.#rescan.unref()
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.#stopped = true
    this.#passTimer.cancel()
    clearInterval(this.#rescan)
    clearInterval(this.#progressTimer)
    await this.#subscription?.unsubscribe().catch(() => {})
    this.#fetch?.close()
    await this.#running?.catch(() => {})
    this.#state.index.close()
    this.#phase = 'stopped'
  }

  /** A pass after `delayMs` (a burst waits at most 1 s: pass-timer.ts); a change during a pass runs one after it. */
  schedule (delayMs = 50): void {
    if (this.#stopped) return
    if (this.#running !== null) { this.#againMs = Math.min(this.#againMs, Math.max(delayMs, WATCH_SETTLE_MS)); return }
    this.#passTimer.schedule(delayMs)
  }

  /** Entries were stored from a peer: the pass under way decodes the records again; one follows (#recordsAgain). */
  recordsChanged (delayMs: number): void {
    this.#recordsArrived = true
    this.#arrivals++
    this.#passViews.forget()
    if (this.#running !== null) { this.#recordsAgain = true; return }
    this.schedule(delayMs)
  }

  /** Runs a pass now and resolves when the folder has been through one (tests, and `folder add`). */
  async sync (): Promise<void> {
    while (this.#running !== null) await this.#running
    this.#passTimer.cancel()
    await this.#run()
  }

  status (): FolderStatus {
    const fetched = this.#fetch?.progress() ?? this.#lastFetched
    return folderStatus({ root: this.root, mode: this.mode, phase: this.#phase, scanned: this.#state.scanned,
      need: this.#need, fetched, fetching: this.#fetch !== null, conflicts: this.#conflictCount,
      errors: this.#state.errors, skipped: this.#skipped, localChanges: this.#localChanges,
      lastSyncedMs: this.#lastSyncedMs, totals: this.#totals })
  }

  /** Receive-only: a pass that puts back what was changed here (set-aside.ts); what still differs is in the status. */
  async revert (): Promise<void> {
    this.#revert = true
    try { await this.sync() } finally { this.#revert = false }
  }

  conflicts (): ConflictInfo[] {
    return conflictList(this.#views(), this.#state.scanned.keys())
  }

  /** Ends the conflict at `p` keeping the version `keep` names (keep-version.ts), between passes; a pass follows. */
  async keep (p: string, keep: string): Promise<KeepOutcome> {
    if (!this.#rules.recordsLocalChanges) {
      throw new KeepRefused('RECEIVE_ONLY', 'this folder is receive-only: it records nothing, so it cannot choose ' +
        'a version; resolve the conflict on a node that sends, or keep a copy outside the folder')
    }
    while (this.#running !== null) await this.#running
    if (this.#stopped) throw new KeepRefused('NOT_WRITTEN', 'the folder is stopped')
    this.#passTimer.cancel()
    const state = this.#state
    const host = {
      state,
      nowMs: Date.now(),
      views: () => this.#views(),
      record: (versions: readonly NewVersion[]) => {
        const ids = this.#opts.host.record(versions)
        this.#tally({ filesOut: versions.length })
        return ids
      },
      write: async (jobs: WriteJob[]) => { await this.#writeAll(jobs) }
    }
    const run = keepVersion(host, p, keep).finally(() => { this.#save() })
    // Held as a pass is: no pass starts meanwhile; the one after shows the folder as it now is.
    this.#running = run.then(() => {}, () => {}).finally(() => { this.#running = null; this.schedule(0) })
    return await run
  }

  /** A chunk's bytes from this folder's files (for a peer), hashed and found right; "changed" if moved on; or null. */
  async readChunk (hashHex: string): Promise<Uint8Array | 'changed' | null> {
    const bytes = await this.#state.index.serve(hashHex)
    if (bytes instanceof Uint8Array) this.#tally({ bytesOut: bytes.length })
    return bytes
  }

  #tally (add: Partial<FolderTotals>): void { this.#totals = addTotals(this.#totals, add) }
  #save (): void { this.#known.save(this.#state.known, this.#olderCopies.paths) }

  // ------------------------------------------------------------------ a pass

  async #run (): Promise<void> {
    if (this.#stopped || this.#running !== null) return
    this.#againMs = Infinity
    this.#recordsAgain = false
    this.#running = this.#pass().catch(err => {
      this.#state.errors.set('.', `the folder could not be synced: ${describePassError(err, this.root)}`)
      this.schedule(RETRY_MS)
    }).finally(() => {
      this.#passViews.forget()
      this.#running = null
      const unapplied = this.#recordsAgain && !(this.#rules.appliesRecords && this.#arrivalsApplied === this.#arrivals)
      if (unapplied || this.#againMs < Infinity) this.schedule(unapplied ? WATCH_SETTLE_MS : this.#againMs)
    })
    await this.#running
  }

  async #pass (): Promise<void> {
    const state = this.#state
    // The folder's marker before the scan, and again after it, before a file it missed is taken as deleted.
    const marked = async (): Promise<void> => { await checkFolderMarker(this.root, state.fs, state.known.size > 0) }
    await marked()
    state.caseInsensitive ??= await ignoresCase(this.root, state.fs)
    this.#phase = 'scanning'
    state.errors.delete('.')
    const reread = new Set(this.#reread)
    this.#reread.clear()
    const previous = reread.size === 0 ? state.scanned : new Map([...state.scanned].filter(([p]) => !reread.has(p)))
    // Step 1 starts during the scan: new files are recorded (and served) in batches as they are hashed.
    const recording = this.#rules.recordsLocalChanges ? this.#recording(reread) : null
    const opts = { previous, fs: state.fs, ...recording === null ? {} : { found: recording.found } }
    const scan = await scanFolder(this.root, opts).then(async s => { await marked(); return s }).catch(async err => {
      await recording?.stop()
      if (recording?.changed === true) this.#save()
      throw err
    })
    state.scanned = this.#unread.scanned(state, previous, scan.files, scan.unread)
    this.#skipped = scan.skipped
    state.index.rebuild(scan.files, scan.read)
    let changed = recording !== null && await recording.finish(this.#skipped.map(s => s.path), this.#unread.covers)
    if (this.#rules.appliesRecords) changed = await this.#applyRounds() || changed
    if (this.#olderCopies.passed(scan.unread) || changed) this.#save()
    this.#conflictCount = conflictList(this.#passViews.get(), state.scanned.keys()).length
    this.#phase = 'idle'
    const synced = this.#need.files === 0 && state.errors.size === 0 && this.#localChanges.length === 0
    if (synced) this.#lastSyncedMs = Date.now()
    this.emit('progress', this.status())
    if (retryable(state)) this.schedule(RETRY_MS)
  }

  /** Step 1: what changed on disk since this node last synced each file becomes records (scan-records.ts). */
  #recording (reread: ReadonlySet<string>): ScanRecording {
    const host = {
      state: this.#state,
      views: () => this.#passViews.get(),
      superseded: this.#olderCopies.lookup(),
      arrivals: () => this.#arrivals,
      record: (versions: readonly NewVersion[]) => this.#record(versions)
    }
    return new ScanRecording(host, reread)
  }

  /** Records versions in one commit; on a refusal, each path shows why, and none is recorded. */
  #record (versions: readonly NewVersion[]): string[] | null {
    this.#passViews.forget()
    try {
      const ids = this.#opts.host.record(versions)
      for (const v of versions) this.#state.errors.delete(v.path)
      this.#tally({ filesOut: versions.length })
      return ids
    } catch (err) {
      for (const v of versions) this.#state.errors.set(v.path, `not shared: ${(err as Error).message}`)
      return null
    }
  }

  /**
   * Step 2, again while records arrived during its writes (bounded): a receiver's first look often sees part of a big
   * folder, recorded 256 files a commit. The rest is written at once, not after the watcher reports this pass's writes
   * and a new pass scans again (10,000 small files: 0.7-1.4 s idle, and a scan). A file changed meanwhile is caught
   * as in any long pass, by the writer's check before the rename.
   */
  async #applyRounds (): Promise<boolean> {
    let changed = false
    for (let round = 0; round < APPLY_ROUNDS && !this.#stopped; round++) {
      this.#recordsArrived = false
      this.#arrivalsApplied = this.#arrivals
      const applied = await this.#applyRecords()
      changed = applied.changed || changed
      if (!applied.wrote || !this.#recordsArrived) break
    }
    return changed
  }

  /** Step 2: the current version of every path onto disk; conflict copies; then deletions; then resolutions. */
  async #applyRecords (): Promise<{ changed: boolean, wrote: boolean }> {
    const state = this.#state
    const rules = await readIgnoreRules(this.root, state.fs)
    const ignores = this.#unread.orIgnoredBy(rules)
    const renames = planSetAsideRenames(this.#view(), ignores)
    let changed = await renameAside(state, renames)
    const { author } = this.#opts.host
    const receiver = this.#rules.reportsLocalChanges ? { revert: this.#revert, author } : undefined
    if (receiver !== undefined) changed = await setLocalChangesAside(state, this.#view(), ignores, receiver) || changed
    const view = this.#view()
    const plan = planRemoteChanges(view, ignores, receiver)
    this.#localChanges = plan.localChanges
    for (const a of plan.adopt) adopt(state, a.file, a.id)
    for (const e of plan.setAsideErrors) {
      if (e.error === null) state.errors.delete(e.path)
      else state.errors.set(e.path, e.error)
    }
    const jobs = await dropHopeless(state, plan.jobs, this.#opts.diskReserveBytes, plan.deletions)
    changed = changed || jobs.length > 0 || plan.deletions.length > 0
    // Each deletion as the scan saw its file: one changed during the writes is left (deleteFile).
    const deleting = plan.deletions.flatMap(p => state.scanned.get(p) ?? [])
    // Every conflict copy is written before any file is replaced (not beside it): the version a copy
    // keeps may be the very file about to be replaced, and this node's only source of it.
    const copies = jobs.filter(j => j.copy)
    if (copies.length > 0) await this.#writeAll(copies)
    const files = jobs.filter(j => !j.copy && stillToReplace(state, j, view, this.#rules))
    if (files.length > 0) await this.#writeAll(files)
    for (const f of deleting) changed = await deleteFile(state, f) || changed
    await forgetStale(state, plan, renames.map(r => r.from))
    if (this.#rules.resolvesConflicts) {
      // The same maps as `view`, changed by the writes and deletions since.
      for (const r of planResolutions(view, plan.resolutions)) {
        const id = this.#record([r.version])?.[0]
        if (id !== undefined && r.file !== undefined) adopt(state, r.file, id)
        changed = true
      }
      for (const v of planSetAsideEnds(view, plan.setAside)) { this.#record([v]); changed = true }
    }
    return { changed, wrote: copies.length + files.length > 0 }
  }

  async #writeAll (jobs: WriteJob[]): Promise<void> {
    this.#phase = 'syncing'
    this.#need = { files: jobs.length, bytes: jobs.reduce((n, j) => n + j.version.size, 0) }
    const fetch = this.#fetch = this.#opts.host.fetcher()
    this.#progressTimer = setInterval(() => { this.emit('progress', this.status()) }, PROGRESS_MS)
    this.#progressTimer.unref()
    try {
      await writeJobs(this.#state, jobs, fetch, {
        stopped: () => this.#stopped,
        done: job => {
          this.#need = { files: this.#need.files - 1, bytes: this.#need.bytes - job.version.size }
          // A job that failed leaves its path's error (write-jobs.ts).
          if (!this.#state.errors.has(job.path)) this.#tally({ filesIn: 1 })
        }
      })
    } finally {
      clearInterval(this.#progressTimer)
      this.#lastFetched = fetch.progress()
      fetch.close()
      this.#fetch = null
      this.#tally({ bytesIn: this.#lastFetched.bytesReceived })
    }
  }

  /** The planner's input as of now: the disk, what this node knows, and the space's records (this pass's decode). */
  #view (): FolderView {
    const { scanned, known } = this.#state
    return { scanned, known, views: this.#passViews.get(), superseded: this.#olderCopies.lookup() }
  }

  /** The space's records by path, none in the work area (one stored before that rule is never written). */
  #views (): Map<string, RecordedFile> {
    return new Map(this.#opts.host.files().filter(v => !inWorkArea(v.path)).map(v => [v.path, v]))
  }
}

/** Looks at the records a pass takes at most (#applyRounds): records that keep arriving still let the pass end. */
const APPLY_ROUNDS = 4
const RESCAN_MS = 60_000
const RETRY_MS = 5_000
const WATCH_SETTLE_MS = 250
const PROGRESS_MS = 500

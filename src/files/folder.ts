import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import watcher from '@parcel/watcher'
import type { AsyncSubscription } from '@parcel/watcher'
import { FILE_MODE_BITS, inWorkArea, toHex } from '../codec/index.ts'
import { hasCode, SamepageError } from '../ids/index.ts'
import type { FileBody, FileChunk } from '../codec/index.ts'
import { ChunkIndex } from './chunk-index.ts'
import { conflictCopyPath, isConflictCopy } from './conflict-name.ts'
import { loadFolderState, sameStat, saveFolderState } from './folder-state.ts'
import type { KnownFile } from './folder-state.ts'
import { partPath, writeFileVersion } from './safe-writer.ts'
import { linkInPath, rmdirInFolder, unlinkInFolder } from './safe-path.ts'
import { shadowedPaths } from './file-layout.ts'
import { resolveSetAside, setAside } from './set-aside.ts'
import type { SetAsideHost } from './set-aside.ts'
import { realConflicts, sameContent, whyKept } from './versions.ts'
import { diskReserveBytes } from './disk-reserve.ts'
import { readIgnoreRules, scanFolder, WORK_AREA } from './scanner.ts'
import type { ScannedFile, ScanProblem } from './scanner.ts'

/**
 * One shared folder on this node: a space bound to a local directory.
 * Each pass (after a change on disk, a change in the space, or a periodic
 * rescan) does two things, in this order:
 *
 *   1. Local changes become file records (not in receive-only mode): a
 *      file whose stat differs from the one this node knows is a new
 *      version superseding the known one; a known file gone is a deletion.
 *   2. Records become files (not in send-only mode): the current version of
 *      each path is written by the safe writer, chunks copied from local
 *      files where they exist (a rename moves no data) and fetched from
 *      peers otherwise; conflict copies are made for concurrent versions
 *      that lost; deletions go last, so their chunks can still be copied.
 *
 * A concurrent edit keeps both versions: the winner (space/: a file over a
 * deletion, then the newer mtime) under the name, the loser as a conflict
 * copy, on every node. Then a send-receive node records a version that
 * supersedes both, so the conflict is resolved once, everywhere the same.
 */
export type FolderMode = 'send-receive' | 'send-only' | 'receive-only'
export const FOLDER_MODES: readonly FolderMode[] = ['send-receive', 'send-only', 'receive-only']

/** A version as the space's files view gives it. */
export interface RecordedVersion {
  readonly id: string
  readonly author: string
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly deleted: boolean
  readonly chunks: readonly FileChunk[]
  /** Why its chunk list cannot be read yet (a big file's part not held): it is not written, and waits. */
  readonly problem?: string | undefined
}
export interface RecordedFile { readonly path: string, readonly current: RecordedVersion, readonly conflicts: readonly RecordedVersion[] }
export type NewVersion = Omit<FileBody, 't'>

/** Chunk downloads for one pass (net/'s BlockFetch). */
export interface ChunkFetcher {
  /** get() answers only bytes it has hashed and found right. */
  readonly verifies: boolean
  plan (chunks: readonly FileChunk[]): void
  get (hash: Uint8Array, size: number): Promise<Uint8Array>
  release (chunks: readonly FileChunk[]): void
  close (): void
  progress (): { bytesReceived: number, rateBytesPerSecond: number, peers: readonly PeerTransfer[] }
}

/** One peer in a transfer: its measured rate, requests in flight, what it delivered. */
export interface PeerTransfer { readonly peer: string, readonly rateBytesPerSecond: number | null, readonly inFlight: number, readonly bytesReceived: number }

/** What the folder needs of its node: the space's file records, and the network. */
export interface FolderHost {
  files (): readonly RecordedFile[]
  /** Appends file records to the space in one commit; returns their entry ids (hex). Throws if this node may not write. */
  record (versions: readonly NewVersion[]): string[]
  fetcher (): ChunkFetcher
}

export interface FolderOptions {
  readonly root: string
  readonly mode: FolderMode
  /** Where this node keeps what it knows of its copy (outside the folder). */
  readonly stateFile: string
  readonly host: FolderHost
  /** Watch the folder for changes (default true); a rescan runs every rescanMs anyway. */
  readonly watch?: boolean
  readonly rescanMs?: number
  /** Free bytes a write must leave on the folder's disk (disk-reserve.ts; default from the disk's size). */
  readonly diskReserveBytes?: number
}

export interface FolderError { readonly path: string, readonly error: string }

export interface FolderStatus {
  readonly root: string
  readonly mode: FolderMode
  readonly state: 'starting' | 'scanning' | 'syncing' | 'idle' | 'stopped'
  readonly localFiles: number
  readonly localBytes: number
  /** Files (and conflict copies) this node still has to write, and their bytes. */
  readonly needFiles: number
  readonly needBytes: number
  /** Chunk bytes received from peers in the current (or last) pass, and the rate now. */
  readonly bytesReceived: number
  readonly rateBytesPerSecond: number
  /** The peers of the current (or last) transfer, fastest first as the scheduler sees them. */
  readonly peers: readonly PeerTransfer[]
  readonly etaSeconds: number | null
  readonly conflicts: number
  readonly errors: readonly FolderError[]
  readonly skipped: readonly ScanProblem[]
  readonly lastSyncedMs: number | null
}

export interface ConflictInfo {
  readonly path: string
  /** The version under the name. */
  readonly current: { readonly id: string, readonly author: string, readonly mtimeMs: number, readonly size: number }
  /** Concurrent versions still unresolved in the space (each becomes a conflict copy). */
  readonly versions: readonly { readonly id: string, readonly author: string, readonly mtimeMs: number, readonly size: number, readonly copy: string }[]
  /** Conflict copies of this path on disk. */
  readonly copies: readonly string[]
}

interface WriteJob { readonly version: RecordedVersion, readonly path: string, readonly expect: ScannedFile | null, readonly copy: boolean }

/** Files written at once: many small files are bound by file system round trips (open, write, fsync, rename), not bytes. */
const WRITERS = 32
/** File records committed together (one fsync): a folder of many small files is recorded in few commits. */
const RECORDS_PER_COMMIT = 256
const RESCAN_MS = 60_000
const RETRY_MS = 5_000
const WATCH_SETTLE_MS = 250
const PROGRESS_MS = 500

export class FolderSync extends EventEmitter<{ progress: [FolderStatus] }> {
  readonly root: string
  readonly mode: FolderMode
  readonly #opts: FolderOptions
  readonly #index: ChunkIndex
  #known = new Map<string, KnownFile>()
  #scanned = new Map<string, ScannedFile>()
  #skipped: ScanProblem[] = []
  readonly #errors = new Map<string, string>()
  #state: FolderStatus['state'] = 'starting'
  #need = { files: 0, bytes: 0 }
  #fetch: ChunkFetcher | null = null
  #lastFetched: ReturnType<ChunkFetcher['progress']> = { bytesReceived: 0, rateBytesPerSecond: 0, peers: [] }
  #lastSyncedMs: number | null = null
  /** Paths in conflict as of the last pass (status() is asked often; the full list reads the whole view). */
  #conflictCount = 0
  #subscription: AsyncSubscription | undefined
  #timer: NodeJS.Timeout | undefined
  #rescan: NodeJS.Timeout | undefined
  #progressTimer: NodeJS.Timeout | undefined
  #running: Promise<void> | null = null
  #again = false
  #stopped = false
  /** Files whose bytes no longer hashed as scanned when a peer asked for them: the next scan reads them whatever their stat. */
  readonly #reread = new Set<string>()

  constructor (opts: FolderOptions) {
    super()
    this.#opts = opts
    this.root = path.resolve(opts.root)
    this.mode = opts.mode
    // A file found changed while serving it is read again in a pass soon (even if its stat looks the same).
    this.#index = new ChunkIndex(this.root, p => { this.#reread.add(p); this.schedule(WATCH_SETTLE_MS) })
  }

  /** Checks the folder can be used (throws FolderProblem naming what is wrong), then watches it and runs a first pass. */
  async start (): Promise<void> {
    await checkFolder(this.root)
    this.#known = loadFolderState(this.#opts.stateFile)
    // What the last run knew stands in for a previous scan: unchanged files are not read again.
    this.#scanned = new Map([...this.#known].map(([p, k]) => [p, k]))
    if (this.#opts.watch !== false) {
      try {
        this.#subscription = await watcher.subscribe(this.root, () => { this.schedule(WATCH_SETTLE_MS) }, { ignore: [WORK_AREA] })
      } catch {
        // No watcher here (inotify limits): the periodic rescan still finds every change, later.
      }
    }
    this.#rescan = setInterval(() => { this.schedule(0) }, this.#opts.rescanMs ?? RESCAN_MS)
    this.#rescan.unref()
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearInterval(this.#rescan)
    clearInterval(this.#progressTimer)
    await this.#subscription?.unsubscribe().catch(() => {})
    this.#fetch?.close()
    await this.#running?.catch(() => {})
    this.#index.close()
    this.#state = 'stopped'
  }

  /** Runs a pass after `delayMs` (or sooner, if one was already due); a change during a pass runs another after it. */
  schedule (delayMs = 50): void {
    if (this.#stopped) return
    if (this.#running !== null) { this.#again = true; return }
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => { void this.#run() }, delayMs)
    this.#timer.unref()
  }

  /** Runs a pass now and resolves when the folder has been through one (tests, and `folder add`). */
  async sync (): Promise<void> {
    while (this.#running !== null) await this.#running
    clearTimeout(this.#timer)
    await this.#run()
  }

  status (): FolderStatus {
    const fetched = this.#fetch?.progress() ?? this.#lastFetched
    let localBytes = 0
    for (const f of this.#scanned.values()) localBytes += f.size
    const rate = this.#state === 'syncing' ? fetched.rateBytesPerSecond : 0
    return {
      root: this.root,
      mode: this.mode,
      state: this.#state,
      localFiles: this.#scanned.size,
      localBytes,
      needFiles: this.#need.files,
      needBytes: this.#need.bytes,
      bytesReceived: fetched.bytesReceived,
      rateBytesPerSecond: rate,
      peers: fetched.peers.map(p => ({ peer: p.peer, rateBytesPerSecond: p.rateBytesPerSecond, inFlight: p.inFlight, bytesReceived: p.bytesReceived })),
      etaSeconds: this.#need.bytes === 0 ? 0 : rate > 0 ? Math.ceil(this.#need.bytes / rate) : null,
      conflicts: this.#conflictCount,
      errors: [...this.#errors].map(([p, error]) => ({ path: p, error })),
      skipped: this.#skipped,
      lastSyncedMs: this.#lastSyncedMs
    }
  }

  conflicts (): ConflictInfo[] {
    const copies = new Map<string, string[]>()
    for (const p of this.#scanned.keys()) {
      const of = isConflictCopy(p)
      if (of !== null) copies.set(of, [...copies.get(of) ?? [], p])
    }
    const out: ConflictInfo[] = []
    const views = this.#views()
    const shadowed = shadowedPaths(views.values())
    const summary = (v: RecordedVersion): { id: string, author: string, mtimeMs: number, size: number } => ({ id: v.id, author: v.author, mtimeMs: v.mtimeMs, size: v.size })
    for (const [p, v] of views) {
      // A path set aside for a directory (file-layout.ts): every version of it is a conflict copy.
      const losers = shadowed.has(p) ? [v.current, ...realConflicts(v)] : realConflicts(v)
      const versions = losers.map(c => ({ ...summary(c), copy: conflictCopyPath(p, c) }))
      const onDisk = copies.get(p) ?? []
      if (versions.length > 0 || onDisk.length > 0) out.push({ path: p, current: summary(v.current), versions, copies: onDisk })
    }
    return out
  }

  /** A chunk's bytes from this folder's files (for a peer), hashed and found right; "changed" if the file moved on since its scan; or null. */
  async readChunk (hashHex: string): Promise<Uint8Array | 'changed' | null> {
    return await this.#index.serve(hashHex)
  }

  // ------------------------------------------------------------------ a pass

  async #run (): Promise<void> {
    if (this.#stopped || this.#running !== null) return
    this.#again = false
    this.#running = this.#pass().catch(err => {
      this.#errors.set('.', `the folder could not be synced: ${(err as Error).message}`)
      this.schedule(RETRY_MS)
    }).finally(() => {
      this.#running = null
      if (this.#again) this.schedule(WATCH_SETTLE_MS)
    })
    await this.#running
  }

  async #pass (): Promise<void> {
    this.#state = 'scanning'
    this.#errors.delete('.')
    const reread = new Set(this.#reread)
    this.#reread.clear()
    const previous = reread.size === 0 ? this.#scanned : new Map([...this.#scanned].filter(([p]) => !reread.has(p)))
    const scan = await scanFolder(this.root, { previous })
    this.#scanned = new Map(scan.files.map(f => [f.path, f]))
    this.#skipped = scan.skipped
    this.#index.rebuild(scan.files)
    let changed = false
    if (this.mode !== 'receive-only') changed = this.#recordLocalChanges(scan.skipped, reread)
    if (this.mode !== 'send-only') changed = await this.#applyRecords() || changed
    if (changed) saveFolderState(this.#opts.stateFile, this.#known)
    this.#conflictCount = this.conflicts().length
    this.#state = 'idle'
    if (this.#need.files === 0 && this.#errors.size === 0) this.#lastSyncedMs = Date.now()
    this.emit('progress', this.status())
    if (this.#errors.size > 0) this.schedule(RETRY_MS)
  }

  /** Step 1: what changed on disk since this node last synced each file becomes records. */
  #recordLocalChanges (skipped: readonly ScanProblem[], reread: ReadonlySet<string>): boolean {
    const views = this.#views()
    let changed = false
    const toRecord: { version: NewVersion, file: ScannedFile | null }[] = []
    for (const f of this.#scanned.values()) {
      const known = this.#known.get(f.path)
      // Read again because its bytes moved on under the same stat (a rewrite within the same millisecond): its content decides.
      if (known !== undefined && sameStat(known, f) && (!reread.has(f.path) || sameContent(known, f))) continue
      const v = views.get(f.path)
      if (v !== undefined && !v.current.deleted && sameContent(v.current, f)) {
        this.#adopt(f, v.current.id)
        changed = true
        continue
      }
      toRecord.push({ file: f, version: { path: f.path, size: f.size, mode: f.mode, mtimeMs: f.mtimeMs, deleted: false, supersedes: supersedes(known, v), chunks: f.chunks } })
    }
    const notShared = skipped.map(s => s.path)
    for (const [p, known] of [...this.#known]) {
      if (this.#scanned.has(p)) continue
      this.#known.delete(p)
      changed = true
      // Ignored or unusable now: no longer shared from here, but not deleted anywhere else.
      if (notShared.some(s => p === s || p.startsWith(`${s}/`))) continue
      const v = views.get(p)
      if (v === undefined || v.current.deleted) continue
      toRecord.push({ file: null, version: { path: p, size: 0, mode: known.mode, mtimeMs: Date.now(), deleted: true, supersedes: supersedes(known, v), chunks: [] } })
    }
    for (let from = 0; from < toRecord.length; from += RECORDS_PER_COMMIT) {
      const batch = toRecord.slice(from, from + RECORDS_PER_COMMIT)
      const ids = this.#record(batch.map(b => b.version))
      if (ids === null) continue
      changed = true
      batch.forEach((b, i) => { if (b.file !== null) this.#adopt(b.file, ids[i] as string) })
    }
    return changed
  }

  /** Records versions in one commit; on a refusal, each path shows why, and none is recorded. */
  #record (versions: readonly NewVersion[]): string[] | null {
    try {
      const ids = this.#opts.host.record(versions)
      for (const v of versions) this.#errors.delete(v.path)
      return ids
    } catch (err) {
      for (const v of versions) this.#errors.set(v.path, `not shared: ${(err as Error).message}`)
      return null
    }
  }

  /** Step 2: the current version of every path onto disk; conflict copies; then deletions. */
  async #applyRecords (): Promise<boolean> {
    const views = this.#views()
    const jobs: WriteJob[] = []
    const deletions: string[] = []
    const resolutions: RecordedFile[] = []
    const shadowed = shadowedPaths(views.values())
    const asideNow: RecordedFile[] = []
    let changed = false
    // What this node ignores it neither sends nor receives (as Syncthing).
    const rules = await readIgnoreRules(this.root)
    for (const v of views.values()) {
      if (rules.ignores(v.path)) continue
      if (shadowed.has(v.path)) {
        const copies = await setAside(this.#setAsideHost(), v)
        changed = copies.moved || changed
        for (const c of copies.toWrite) jobs.push({ ...c, copy: true })
        asideNow.push(v)
        continue
      }
      const local = this.#scanned.get(v.path) ?? null
      const known = this.#known.get(v.path)
      const losers = realConflicts(v)
      for (const c of losers) {
        const copyPath = conflictCopyPath(v.path, c)
        const there = this.#scanned.get(copyPath)
        if (there === undefined || !sameContent(c, there)) jobs.push({ version: c, path: copyPath, expect: there ?? null, copy: true })
      }
      if (losers.length > 0) resolutions.push(v)
      if (v.current.deleted) {
        if (local !== null && known !== undefined && sameStat(known, local)) deletions.push(v.path)
        continue
      }
      if (known?.id === v.current.id) continue
      if (local !== null && sameContent(v.current, local)) { this.#adopt(local, v.current.id); continue }
      jobs.push({ version: v.current, path: v.path, expect: local, copy: false })
    }
    await this.#dropHopeless(jobs)
    changed = changed || jobs.length > 0 || deletions.length > 0
    // Every conflict copy is written before any file is replaced (not beside it): the version a copy
    // keeps may be the very file about to be replaced, and this node's only source of it.
    const copies = jobs.filter(j => j.copy)
    if (copies.length > 0) await this.#writeAll(copies)
    const files = jobs.filter(j => !j.copy && this.#stillToReplace(j, views))
    if (files.length > 0) await this.#writeAll(files)
    for (const p of deletions) changed = await this.#delete(p) || changed
    if (this.mode === 'send-receive') {
      changed = this.#resolve(resolutions) || changed
      changed = resolveSetAside(this.#setAsideHost(), asideNow) || changed
    }
    return changed
  }

  /** After the copies: whether a file job still replaces what is on disk (versions.ts, whyKept); a path a copy just filled with this very content is adopted. */
  #stillToReplace (job: WriteJob, views: ReadonlyMap<string, RecordedFile>): boolean {
    const now = this.#scanned.get(job.path)
    if (now !== undefined && now !== job.expect && sameContent(job.version, now)) { this.#adopt(now, job.version.id); return false }
    const v = views.get(job.path)
    const why = job.expect === null || v === undefined ? null : whyKept(v, job.expect, this.#known.get(job.path), this.#scanned, this.mode !== 'receive-only')
    if (why === null) return true
    const refused = this.#errors.get(job.path)
    this.#errors.set(job.path, `${refused?.startsWith('not shared:') === true ? `${refused}; ` : 'waiting: '}${why}`)
    return false
  }

  /**
   * Jobs that cannot succeed now are not started, so that a retry does not
   * fetch a file again only to fail again: a directory where the file goes,
   * or less free space than the files need.
   */
  async #dropHopeless (jobs: WriteJob[]): Promise<void> {
    let free = Infinity
    let reserve = 0
    try {
      const st = await fs.promises.statfs(this.root)
      free = st.bavail * st.bsize
      reserve = diskReserveBytes(st.blocks * st.bsize, this.#opts.diskReserveBytes)
    } catch {
      // No statfs here: the writes find out.
    }
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as WriteJob
      const there = await fs.promises.lstat(path.join(this.root, job.path)).catch(() => null)
      let error: string | null = null
      const link = await linkInPath(this.root, job.path)
      if (job.version.problem !== undefined) error = `waiting: ${job.version.problem}`
      else if (link !== null) error = `not written: ${link}`
      else if (there?.isDirectory() === true) error = describeWriteError(Object.assign(new Error(''), { code: 'EISDIR' }))
      else if (job.version.size > free) error = `${describeWriteError(Object.assign(new Error(''), { code: 'ENOSPC' }))}: it needs ${job.version.size} bytes, ${free} are free`
      else if (free - job.version.size < reserve) error = `not written: it would leave less than the ${reserve} bytes kept free for this node's store (it needs ${job.version.size} bytes, ${free} are free); free some space, or lower diskReserveBytes in config.json (it is tried again)`
      if (error === null) { free -= job.version.size; continue }
      this.#errors.set(job.path, error)
      jobs.splice(i--, 1)
    }
  }

  async #writeAll (jobs: WriteJob[]): Promise<void> {
    this.#state = 'syncing'
    this.#need = { files: jobs.length, bytes: jobs.reduce((n, j) => n + j.version.size, 0) }
    const fetch = this.#fetch = this.#opts.host.fetcher()
    this.#progressTimer = setInterval(() => { this.emit('progress', this.status()) }, PROGRESS_MS)
    this.#progressTimer.unref()
    try {
      // Every chunk the pass will fetch, planned at once (not file by file as writers start), so that
      // many small files pipeline as well as one big one. Writers correct the plan for what they find locally.
      // A job with a part file from an earlier try plans for itself, after it has seen what the part holds.
      const expected = jobs.map(j => fs.existsSync(partPath(this.root, j.version.id)) ? [] : j.version.chunks.filter(c => !this.#index.has(toHex(c[0]))))
      fetch.plan(expected.flat())
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < jobs.length && !this.#stopped) {
          const k = next++
          const job = jobs[k] as WriteJob
          await this.#write(job, fetch, expected[k] as FileChunk[])
          this.#need = { files: this.#need.files - 1, bytes: this.#need.bytes - job.version.size }
        }
      }
      await Promise.all(Array.from({ length: Math.min(WRITERS, jobs.length) }, worker))
      // Jobs never started (the folder stopped): their share of the plan goes.
      for (let k = next; k < jobs.length; k++) fetch.release(expected[k] as FileChunk[])
    } finally {
      clearInterval(this.#progressTimer)
      this.#lastFetched = fetch.progress()
      fetch.close()
      this.#fetch = null
    }
  }

  async #write (job: WriteJob, fetch: ChunkFetcher, expected: readonly FileChunk[]): Promise<void> {
    const { version } = job
    const target = path.join(this.root, job.path)
    // What this writer holds in the fetcher's plan and has not taken yet.
    let outstanding = new ChunkBag(expected)
    try {
      await writeFileVersion(this.root, { id: version.id, path: job.path, size: version.size, mode: version.mode, mtimeMs: version.mtimeMs, chunks: version.chunks }, {
        local: async (hash, size) => await this.#index.read(toHex(hash), size),
        plan: chunks => {
          // The plan made for it, corrected for what it found locally or in its part file.
          const planned = new ChunkBag(expected)
          fetch.plan(chunks.filter(c => !planned.take(c[0])))
          fetch.release(planned.rest())
          outstanding = new ChunkBag(chunks)
        },
        fetch: async (hash, size) => {
          const bytes = await fetch.get(hash, size)
          outstanding.take(hash)
          return bytes
        },
        fetchVerifies: fetch.verifies,
        beforeRename: async () => {
          const now = await fs.promises.lstat(target).catch(() => null)
          if (now?.isDirectory() === true) throw Object.assign(new Error(`${job.path} is a directory here`), { code: 'EISDIR' })
          const same = now === null ? job.expect === null : job.expect !== null && now.isFile() && sameStat(job.expect, statOf(job.path, now))
          if (!same) throw new Error('it changed on this node while the new version was fetched; the local change is recorded next, as a conflict')
        }
      })
      this.#errors.delete(job.path)
      const st = statOf(job.path, await fs.promises.stat(target))
      const written: ScannedFile = { ...st, chunks: version.chunks }
      this.#scanned.set(job.path, written)
      this.#index.add(written)
      if (!job.copy) this.#adopt(written, version.id)
    } catch (err) {
      fetch.release(outstanding.rest())
      this.#errors.set(job.path, describeWriteError(err as NodeJS.ErrnoException))
      // A file system's refusal (full, a clash of names, permissions): the part file goes, to leave the room it took.
      // A transfer cut short (no peer has a chunk now, or the link broke) keeps it, for the resume.
      if (typeof (err as NodeJS.ErrnoException).code === 'string') await fs.promises.rm(partPath(this.root, version.id), { force: true }).catch(() => {})
    }
  }

  async #delete (p: string): Promise<boolean> {
    try {
      await unlinkInFolder(this.root, p)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { this.#errors.set(p, describeWriteError(err as NodeJS.ErrnoException)); return false }
    }
    this.#known.delete(p)
    this.#scanned.delete(p)
    this.#errors.delete(p)
    // Directories left empty by the deletion go too (as they went on the node that deleted the file).
    for (let dir = path.posix.dirname(p); dir !== '.' && dir !== ''; dir = path.posix.dirname(dir)) {
      if (!await rmdirInFolder(this.root, dir)) break
    }
    return true
  }

  /**
   * Once the winner is under the name and every loser has its copy, a
   * version superseding them all (with the winner's content) ends the
   * conflict. Nodes doing this at once write the same content: versions
   * with the same content are not a conflict.
   */
  #resolve (resolutions: readonly RecordedFile[]): boolean {
    let changed = false
    for (const v of resolutions) {
      const onDisk = this.#scanned.get(v.path)
      const ready = v.current.deleted ? onDisk === undefined : this.#known.get(v.path)?.id === v.current.id
      if (!ready || realConflicts(v).some(c => this.#scanned.get(conflictCopyPath(v.path, c)) === undefined)) continue
      const c = v.current
      const id = this.#record([{ path: v.path, size: c.size, mode: c.mode, mtimeMs: c.mtimeMs, deleted: c.deleted, supersedes: [v.current, ...v.conflicts].map(x => Buffer.from(x.id, 'hex')), chunks: c.chunks }])?.[0]
      if (id !== undefined && onDisk !== undefined) this.#adopt(onDisk, id)
      changed = true
    }
    return changed
  }

  #setAsideHost (): SetAsideHost {
    return { root: this.root, scanned: this.#scanned, known: this.#known, index: this.#index, errors: this.#errors, describe: describeWriteError, record: versions => this.#record(versions) }
  }

  #adopt (file: ScannedFile, id: string): void {
    this.#known.set(file.path, { ...file, id })
  }

  /** The space's records by path; a path no record may name (the work area: a record stored before that rule) is never written. */
  #views (): Map<string, RecordedFile> {
    return new Map(this.#opts.host.files().filter(v => !inWorkArea(v.path)).map(v => [v.path, v]))
  }
}

/** Chunks counted by hash (the same chunk may be in a file more than once). */
class ChunkBag {
  readonly #byHash = new Map<string, FileChunk[]>()

  constructor (chunks: readonly FileChunk[]) {
    for (const c of chunks) {
      const k = toHex(c[0])
      const list = this.#byHash.get(k)
      if (list === undefined) this.#byHash.set(k, [c]); else list.push(c)
    }
  }

  /** Takes one chunk of this hash out, if there is one left. */
  take (hash: Uint8Array): boolean {
    return this.#byHash.get(toHex(hash))?.pop() !== undefined
  }

  rest (): FileChunk[] {
    return [...this.#byHash.values()].flat()
  }
}

/** The versions a new record replaces: the one this node had, and any other head with the same content (the same version, recorded twice). */
function supersedes (known: KnownFile | undefined, v: RecordedFile | undefined): Uint8Array[] {
  if (known === undefined) return []
  const ids = new Set([known.id])
  if (v !== undefined) for (const h of [v.current, ...v.conflicts]) if (!h.deleted && sameContent(h, known)) ids.add(h.id)
  return [...ids].map(id => Buffer.from(id, 'hex'))
}

function statOf (p: string, st: fs.Stats): Omit<ScannedFile, 'chunks'> {
  return { path: p, size: st.size, mode: st.mode & FILE_MODE_BITS, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino }
}

function describeWriteError (err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOSPC': return 'not written: the disk is full; free some space (nothing was half-written; it is tried again)'
    case 'EDQUOT': return 'not written: over the disk quota; free some space'
    case 'ENOTDIR': return 'not written: a part of its path is a file on this node, not a directory'
    case 'EISDIR': return 'not written: a directory has its name on this node'
    case 'ENAMETOOLONG': return 'not written: its name is too long for this file system'
    case 'EACCES': case 'EPERM': case 'EROFS': return `not written: no permission here (${err.code}); check the folder's permissions`
    default: return hasCode(err, 'NO_SOURCE') ? `waiting: ${err.message}` : `not written: ${err.message}`
  }
}

/** A folder is usable: it exists, is a directory, and this process can write its work area. */
export class FolderProblem extends SamepageError<'BAD_FOLDER'> {
  constructor (message: string) {
    super('BAD_FOLDER', message)
  }
}

export async function checkFolder (root: string): Promise<void> {
  const st = await fs.promises.stat(root).catch(() => null)
  if (st === null) throw new FolderProblem(`${root} does not exist; create it first (mkdir -p ${root})`)
  if (!st.isDirectory()) throw new FolderProblem(`${root} is not a directory`)
  try {
    await fs.promises.access(root, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK)
    await fs.promises.mkdir(path.join(root, WORK_AREA, 'tmp'), { recursive: true })
  } catch {
    throw new FolderProblem(`${root} is not writable by this node (user ${process.getuid?.() ?? '?'}); fix its permissions`)
  }
}

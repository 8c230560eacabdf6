import fs from 'node:fs'
import path from 'node:path'

/**
 * Durability of the commits SQLite made without their own fsync (WAL mode,
 * PRAGMA synchronous=NORMAL: a commit writes its frames to the -wal file
 * and returns). One fdatasync of the -wal file, on libuv's thread pool so
 * the event loop goes on committing, makes durable every commit that
 * returned before that sync started:
 *   - frames still in the WAL file are what the sync writes out;
 *   - frames a checkpoint already copied are durable in the database file:
 *     under NORMAL (as under FULL) SQLite syncs the WAL before a checkpoint
 *     and the database file after a complete one, and only after a complete
 *     one may a writer restart the WAL (syncing its new header) or truncate it.
 * The file stays the same inode while the store is open (SQLite deletes it
 * only when the last connection closes), so the descriptor opened here
 * reaches every frame. A commit that returned while a sync was running
 * waits for the next one, which then covers every commit made meanwhile;
 * a caller that names how many commits it needs covered (`upTo`, the
 * store's count) joins the running sync when that sync was asked for after
 * as many (the durable gate and a group's acknowledgement ask for one
 * commit's sync one after the other: one fsync serves both).
 *
 * A failed sync is final for this process: the kernel may have dropped the
 * pages it could not write, and a later fsync would succeed without them,
 * so no later commit is reported durable, nor made (failure()), until a
 * restart reads the database back from the disk.
 */

/** Syncs the file open at `fd` (fdatasync on the thread pool; tests inject a slow or failing one). */
export type Fsync = (fd: number) => Promise<void>

interface Waiters {
  /** The most commits a caller of this batch had made when it asked: the batch's sync covers at least these. */
  upTo: number
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

export class WalSync {
  readonly #walFile: string
  readonly #fsync: Fsync
  #fd: number | undefined
  /** A sync is running: commits made since it started wait for the next (#next). */
  #running = false
  /** Those waiting for a sync that has not started yet, and those of the one running. */
  #next: Waiters | undefined
  #current: Waiters | undefined
  #failure: unknown
  #closed = false

  constructor (dbFile: string, fsync: Fsync = defaultFsync) {
    this.#walFile = `${dbFile}-wal`
    this.#fsync = fsync
  }

  /** Why commits are refused: a sync of the WAL failed (see above); undefined while it never did. */
  failure (): unknown {
    return this.#failure
  }

  /**
   * Resolves once every commit that returned before this call is durable; rejects if the sync failed.
   * `upTo`: how many commits the caller had made (a count that only grows); a running sync asked for after as
   * many covers them.
   */
  async synced (upTo = Infinity): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#closed) return // close() synced everything
    const current = this.#current
    if (current !== undefined && upTo <= current.upTo) {
      await current.promise
      return
    }
    this.#next ??= waiters()
    const { promise } = this.#next
    if (upTo !== Infinity) this.#next.upTo = Math.max(this.#next.upTo, upTo)
    if (!this.#running) this.#start()
    await promise
  }

  /** Syncs what still waits (the store is closing), then lets the descriptor go once no sync runs. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    const next = this.#next
    this.#next = undefined
    if (next !== undefined) {
      try {
        fs.fdatasyncSync(this.#open())
        next.resolve()
      } catch (err) {
        this.#failure ??= err
        next.reject(err)
      }
    }
    if (!this.#running) this.#release()
  }

  #start (): void {
    const batch = this.#next
    if (batch === undefined) return
    this.#next = undefined
    this.#running = true
    this.#current = batch
    const done = (err?: unknown): void => {
      this.#running = false
      this.#current = undefined
      if (err === undefined) {
        batch.resolve()
      } else {
        this.#failure ??= err
        batch.reject(err)
      }
      if (this.#closed) {
        this.#release()
      } else if (this.#failure !== undefined) {
        this.#next?.reject(this.#failure)
        this.#next = undefined
      } else {
        this.#start()
      }
    }
    let sync: Promise<void>
    try {
      sync = this.#fsync(this.#open())
    } catch (err) {
      done(err)
      return
    }
    sync.then(() => { done() }, (err: unknown) => { done(err ?? new Error('store: the WAL sync failed')) })
  }

  /** The descriptor of the -wal file; the first time, its directory is synced too, so the file's name is durable. */
  #open (): number {
    if (this.#fd !== undefined) return this.#fd
    const fd = fs.openSync(this.#walFile, 'r+') // writable: some systems sync only a descriptor open for writing
    try {
      syncDirectory(path.dirname(this.#walFile))
    } catch (err) {
      fs.closeSync(fd)
      throw err
    }
    this.#fd = fd
    return fd
  }

  #release (): void {
    if (this.#fd === undefined) return
    fs.closeSync(this.#fd)
    this.#fd = undefined
  }
}

async function defaultFsync (fd: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    fs.fdatasync(fd, err => { if (err === null) resolve(); else reject(err) })
  })
}

function syncDirectory (dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function waiters (): Waiters {
  let resolve: () => void = () => {}
  let reject: (e: unknown) => void = () => {}
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  promise.catch(() => {}) // a failure reaches every caller through synced(); none is left unhandled here
  return { upTo: -1, promise, resolve, reject }
}

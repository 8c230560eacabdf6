import { Worker } from 'node:worker_threads'

/**
 * WAL checkpoints beside the event loop. SQLite's automatic checkpoint runs
 * inside the COMMIT that crosses its threshold: on the main thread, it read
 * a thousand pages from the WAL, wrote them into the database file and
 * synced both files (10–40 ms with the event loop stopped, every ~1,400 live
 * writes). Here a worker thread with its own connection
 * (wal-checkpoint-worker.ts) runs a PASSIVE checkpoint every few commits
 * instead: it copies what was committed when it began and never blocks a
 * writer. The main connection keeps its own automatic checkpoint, at a
 * higher threshold (WAL_PAGES_BOUND), as the bound on the WAL's size: the
 * WAL starts over only when a writer finds every frame copied, and under
 * steady writes a commit nearly always lands while the thread's checkpoint
 * runs, so that bound is where the main thread copies the few frames left
 * (and syncs) and the WAL starts over: once per ~10,000 pages instead of
 * copying all of every 1,000. If the thread cannot run, the main connection
 * goes back to SQLite's default threshold.
 *
 * Durability is unchanged (wal-sync.ts): a checkpoint syncs the WAL before
 * it copies and the database file after, whichever connection runs it, and
 * the WAL restarts only after a complete one. The thread starts with the
 * first checkpoint, stops after IDLE_STOP_MS without one (an idle daemon
 * does not carry it), and close() waits for it to close its connection, so
 * that the main connection, closing last, checkpoints and removes the WAL.
 */

/** The main connection's own automatic checkpoint (WAL pages of 4 KiB): only reached if the thread falls behind. */
export const WAL_PAGES_BOUND = 10_000
/** Commits between checkpoints (a group commit of ~50 live writes adds ~35 pages): ~1,000 pages a checkpoint. */
const COMMITS_PER_CHECKPOINT = 16
const IDLE_STOP_MS = 10_000
/** How long close() waits for the thread to let its connection go (a checkpoint under way finishes first). */
const CLOSE_WAIT_MS = 10_000

interface Thread { readonly worker: Worker, readonly closed: Int32Array }

type Reply = { readonly done: { readonly log: number, readonly checkpointed: number } } | { readonly failed: string }

export class WalCheckpoints {
  readonly #file: string
  /** Called once if the thread cannot checkpoint: the main connection goes back to SQLite's default threshold. */
  readonly #fallBack: () => void
  #thread: Thread | undefined
  #running = false
  #commits = 0
  #failed = false
  #idle: NodeJS.Timeout | undefined
  /** Checkpoints the thread completed (tests wait for one). */
  done = 0

  constructor (dbFile: string, fallBack: () => void) {
    this.#file = dbFile
    this.#fallBack = fallBack
  }

  /** After each commit of the main connection: every COMMITS_PER_CHECKPOINT, one checkpoint (never two at once). */
  committed (): void {
    if (this.#failed || ++this.#commits < COMMITS_PER_CHECKPOINT || this.#running) return
    this.#commits = 0
    this.#running = true
    clearTimeout(this.#idle)
    this.#start().worker.postMessage('checkpoint')
  }

  /** Stops the thread, waiting (bounded) until its connection is closed. */
  close (): void {
    this.#failed = true // no thread again
    clearTimeout(this.#idle)
    const thread = this.#stop()
    if (thread !== undefined) Atomics.wait(thread.closed, 0, 0, CLOSE_WAIT_MS)
  }

  #start (): Thread {
    if (this.#thread !== undefined) return this.#thread
    const file = new URL(import.meta.url.endsWith('.ts') ? './wal-checkpoint-worker.ts' : './wal-checkpoint-worker.js',
      import.meta.url)
    const closed = new SharedArrayBuffer(4)
    const worker = new Worker(file, { workerData: { file: this.#file, closed } })
    worker.unref()
    const thread: Thread = { worker, closed: new Int32Array(closed) }
    worker.on('message', (reply: Reply) => { this.#replied(thread, reply) })
    worker.on('error', (err: Error) => { this.#fail(thread, err.message) })
    worker.on('exit', code => { if (code !== 0) this.#fail(thread, `exit ${code}`) })
    this.#thread = thread
    return thread
  }

  #replied (thread: Thread, reply: Reply): void {
    if (thread !== this.#thread) return
    if ('failed' in reply) {
      this.#fail(thread, reply.failed)
      return
    }
    this.#running = false
    this.done++
    // Commits landed while it copied: the next commit asks again, so the WAL can empty and restart.
    if (reply.done.checkpointed < reply.done.log) this.#commits = COMMITS_PER_CHECKPOINT
    this.#idle = setTimeout(() => { if (!this.#running) this.#stop() }, IDLE_STOP_MS).unref()
  }

  #fail (thread: Thread, why: string): void {
    if (thread !== this.#thread || this.#failed) return
    console.error(`samepage store: the checkpoint thread failed (${why}); checkpoints run on the main thread again`)
    this.#failed = true
    this.#running = false
    this.#stop()
    this.#fallBack()
  }

  #stop (): Thread | undefined {
    const thread = this.#thread
    this.#thread = undefined
    this.#running = false
    thread?.worker.postMessage('close')
    return thread
  }
}

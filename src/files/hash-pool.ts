import crypto from 'node:crypto'
import { Worker } from 'node:worker_threads'

/**
 * SHA-256 of file chunks on a second thread, so that scanning a big file
 * uses two cores: the main thread reads and cuts, the worker hashes (on
 * this machine, cutting runs at ~780 MB/s and hashing at ~1 GB/s, each on
 * one core). A window's bytes are moved to the worker, not copied: the
 * caller gives up the buffer. One worker per process, started on first use,
 * keeping the process alive only while it has work.
 *
 * A few ranges of a few KiB are hashed here instead: posting them costs more
 * than hashing them, and a node that only ever meets small files (10,000 of
 * 4 KiB) never starts the thread, whose own V8 heap cost ~30 MB of RSS.
 */
const HASH_HERE_MAX_BYTES = 64 * 1024
/** A thread with nothing to hash for this long is stopped, its heap returned; the next big window starts another. */
const IDLE_STOP_MS = 30_000
let worker: Worker | null = null
let idleStop: NodeJS.Timeout | null = null
let nextId = 0
const waiting = new Map<number, { resolve: (d: Uint8Array[]) => void, reject: (e: Error) => void }>()

function theWorker (): Worker {
  if (worker !== null) return worker
  const file = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url)
  const w = new Worker(file)
  w.unref()
  w.on('message', ({ id, digests }: { id: number, digests: Uint8Array }) => {
    const job = waiting.get(id)
    waiting.delete(id)
    const n = digests.length / 32
    job?.resolve(Array.from({ length: n }, (_, i) => digests.subarray(32 * i, 32 * i + 32)))
    if (waiting.size === 0) {
      w.unref()
      idleStop = setTimeout(() => {
        if (worker !== w || waiting.size > 0) return
        worker = null
        void w.terminate()
      }, IDLE_STOP_MS).unref()
    }
  })
  const fail = (err: Error): void => {
    if (worker !== w) return // a thread stopped for idleness, or one already replaced
    worker = null
    for (const job of waiting.values()) job.reject(err)
    waiting.clear()
  }
  w.on('error', fail)
  w.on('exit', code => { if (code !== 0) fail(new Error(`the hashing thread stopped (${code})`)) })
  worker = w
  return w
}

/** The SHA-256 of each [start, end) of `window`; `window` must not be used after (its memory moves to the worker). */
export function hashRanges (window: Buffer, ranges: readonly (readonly [number, number])[]): Promise<Uint8Array[]> {
  if (ranges.length === 0) return Promise.resolve([])
  if (ranges.reduce((n, [start, end]) => n + end - start, 0) <= HASH_HERE_MAX_BYTES) {
    return Promise.resolve(ranges.map(([start, end]) => crypto.hash('sha256', window.subarray(start, end), 'buffer')))
  }
  const id = nextId++
  const bytes = new Uint8Array(window.buffer, window.byteOffset, window.byteLength)
  const done = new Promise<Uint8Array[]>((resolve, reject) => { waiting.set(id, { resolve, reject }) })
  if (idleStop !== null) clearTimeout(idleStop)
  idleStop = null
  const w = theWorker()
  if (waiting.size === 1) w.ref()
  // Only a buffer of its own can be moved; a pooled one (small windows) is copied.
  const own = window.byteOffset === 0 && window.buffer.byteLength === window.byteLength
  w.postMessage({ id, bytes, ranges }, own ? [bytes.buffer as ArrayBuffer] : [])
  return done
}

import crypto from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { chunkCheck } from './chunk-check.ts'

/**
 * SHA-256 of file chunks on a second thread, so that scanning a big file
 * uses two cores: the main thread reads and cuts, the worker hashes (on
 * this machine, cutting runs at ~780 MB/s and hashing at ~1 GB/s, each on
 * one core). A window's bytes are moved to the worker, not copied: the
 * caller gives up the buffer, which comes back for a later read (windowOf).
 * One worker per process, started on first use, keeping the process alive
 * only while it has work.
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
/**
 * Windows hashed and done with (back from the worker, or hashed here), for the next reads (windowOf). A fresh
 * window per read made the scan of a 1 GiB file allocate 1 GiB of buffers outside the heap, and V8 starts a full
 * collection for every ~64 MiB of those: reused, a scan allocates a few windows in all. (A small file's window is
 * about its size, scanner.ts scanWindowBytes: with 16 files read at once, 4 spares did not spare full ones.) At
 * most 4 wait, and 16 MiB in all (the windows of a file of many GiB are not kept), the oldest dropped first; all are
 * dropped after IDLE_STOP_MS without a scan.
 */
const SPARE_WINDOWS_MAX = 4
const SPARE_BYTES_MAX = 16 * 1024 * 1024
const spareWindows: Buffer[] = []
let dropSpares: NodeJS.Timeout | null = null

function keepSpare (window: Buffer): void {
  if (window.length > SPARE_BYTES_MAX) return
  let bytes = window.length
  for (const w of spareWindows) bytes += w.length
  while (spareWindows.length >= SPARE_WINDOWS_MAX || bytes > SPARE_BYTES_MAX) bytes -= spareWindows.shift()?.length ?? 0
  spareWindows.push(window)
  if (dropSpares !== null) dropSpares.refresh()
  else dropSpares = setTimeout(() => { spareWindows.length = 0; dropSpares = null }, IDLE_STOP_MS).unref()
}
/** Each range's SHA-256 and, if asked, its CRC-32 (empty if not asked). */
export interface RangeHashes {
  readonly digests: Uint8Array[]
  readonly checks: Uint32Array
}
const NO_CHECKS = new Uint32Array(0)
const waiting = new Map<number, { resolve: (d: RangeHashes) => void, reject: (e: Error) => void }>()

function theWorker (): Worker {
  if (worker !== null) return worker
  const file = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url)
  const w = new Worker(file)
  w.unref()
  w.on('message', ({ id, digests, checks, window }: {
    id: number, digests: Uint8Array, checks: Uint32Array, window?: Uint8Array
  }) => {
    if (window !== undefined) keepSpare(Buffer.from(window.buffer, window.byteOffset, window.byteLength))
    const job = waiting.get(id)
    waiting.delete(id)
    const n = digests.length / 32
    job?.resolve({ digests: Array.from({ length: n }, (_, i) => digests.subarray(32 * i, 32 * i + 32)), checks })
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

/**
 * A buffer of `bytes` bytes to read a window into: one the worker gave back if it has that size, else a new one.
 * Its bytes are whatever was there: the caller fills what it uses.
 */
export function windowOf (bytes: number): Buffer {
  const at = spareWindows.findIndex(w => w.length === bytes)
  if (at < 0) return Buffer.allocUnsafe(bytes)
  return spareWindows.splice(at, 1)[0] as Buffer
}

/**
 * The SHA-256 of each [start, end) of `window`, and with `checks` its CRC-32 too (what serving compares a chunk read
 * again with: files/chunk-index.ts); `window` must not be used after (its memory moves to the worker, or is read into
 * again by a later windowOf).
 */
export function hashRanges (
  window: Buffer, ranges: readonly (readonly [number, number])[], checks = false
): Promise<RangeHashes> {
  // Only a buffer of its own can be moved or reused; a slice of Node's shared pool (a small buffer) is copied.
  const own = window.byteOffset === 0 && window.buffer.byteLength === window.byteLength
  if (ranges.length === 0) return Promise.resolve({ digests: [], checks: NO_CHECKS })
  if (ranges.reduce((n, [start, end]) => n + end - start, 0) <= HASH_HERE_MAX_BYTES) {
    const digests = ranges.map(([start, end]) => crypto.hash('sha256', window.subarray(start, end), 'buffer'))
    const crc = ([start, end]: readonly [number, number]): number => chunkCheck(window.subarray(start, end))
    const crcs = checks ? Uint32Array.from(ranges, crc) : NO_CHECKS
    if (own) keepSpare(window)
    return Promise.resolve({ digests, checks: crcs })
  }
  const id = nextId++
  const bytes = new Uint8Array(window.buffer, window.byteOffset, window.byteLength)
  const done = new Promise<RangeHashes>((resolve, reject) => { waiting.set(id, { resolve, reject }) })
  if (idleStop !== null) clearTimeout(idleStop)
  idleStop = null
  const w = theWorker()
  if (waiting.size === 1) w.ref()
  w.postMessage({ id, bytes, ranges, checks }, own ? [bytes.buffer as ArrayBuffer] : [])
  return done
}

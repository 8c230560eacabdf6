import { Worker } from 'node:worker_threads'

/**
 * SHA-256 of file chunks on a second thread, so that scanning a big file
 * uses two cores: the main thread reads and cuts, the worker hashes (on
 * this machine, cutting runs at ~780 MB/s and hashing at ~1 GB/s, each on
 * one core). A window's bytes are moved to the worker, not copied: the
 * caller gives up the buffer. One worker per process, started on first use,
 * keeping the process alive only while it has work.
 */
let worker: Worker | null = null
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
    if (waiting.size === 0) w.unref()
  })
  const fail = (err: Error): void => {
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
  const id = nextId++
  const bytes = new Uint8Array(window.buffer, window.byteOffset, window.byteLength)
  const done = new Promise<Uint8Array[]>((resolve, reject) => { waiting.set(id, { resolve, reject }) })
  const w = theWorker()
  if (waiting.size === 1) w.ref()
  // Only a buffer of its own can be moved; a pooled one (small windows) is copied.
  const own = window.byteOffset === 0 && window.buffer.byteLength === window.byteLength
  w.postMessage({ id, bytes, ranges }, own ? [bytes.buffer as ArrayBuffer] : [])
  return done
}

import crypto from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/**
 * The hashing thread: given a window of a file and the chunks cut in it, it
 * answers their SHA-256s, while the main thread cuts the next window (the
 * scanner) or sends the previous chunk (a chunk verified before it is
 * served); see hash-pool.ts.
 */
interface Job { readonly id: number, readonly bytes: Uint8Array, readonly ranges: readonly (readonly [number, number])[], readonly keep?: boolean }

parentPort?.on('message', (job: Job) => {
  const out = new Uint8Array(32 * job.ranges.length)
  job.ranges.forEach(([start, end], i) => { out.set(crypto.hash('sha256', job.bytes.subarray(start, end), 'buffer'), 32 * i) })
  // keep: the caller still needs the bytes (a chunk verified before it is served): they move back.
  if (job.keep === true) parentPort?.postMessage({ id: job.id, digests: out, bytes: job.bytes }, [out.buffer, job.bytes.buffer as ArrayBuffer])
  else parentPort?.postMessage({ id: job.id, digests: out }, [out.buffer])
})

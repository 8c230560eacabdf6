import crypto from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/**
 * The scanner's hashing thread: given a window of a file and the chunks cut
 * in it, it answers their SHA-256s, while the main thread cuts the next
 * window (see hash-pool.ts), and hands the window back for the next read.
 */
interface Job {
  readonly id: number
  readonly bytes: Uint8Array
  readonly ranges: readonly (readonly [number, number])[]
}

parentPort?.on('message', (job: Job) => {
  const out = new Uint8Array(32 * job.ranges.length)
  job.ranges.forEach(([start, end], i) => {
    out.set(crypto.hash('sha256', job.bytes.subarray(start, end), 'buffer'), 32 * i)
  })
  // The window goes back with its digests (moved, not copied): the scanner reads the next window into it.
  const window = job.bytes
  parentPort?.postMessage({ id: job.id, digests: out, window }, [out.buffer, window.buffer as ArrayBuffer])
})

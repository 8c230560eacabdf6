import crypto from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { chunkCheck } from './chunk-check.ts'

/**
 * The scanner's hashing thread: given a window of a file and the chunks cut
 * in it, it answers their SHA-256s (and CRC-32s, if asked), while the main
 * thread cuts the next window (see hash-pool.ts), and hands the window back
 * for the next read.
 */
interface Job {
  readonly id: number
  readonly bytes: Uint8Array
  readonly ranges: readonly (readonly [number, number])[]
  readonly checks: boolean
}

parentPort?.on('message', (job: Job) => {
  const out = new Uint8Array(32 * job.ranges.length)
  const checks = new Uint32Array(job.checks ? job.ranges.length : 0)
  job.ranges.forEach(([start, end], i) => {
    const range = job.bytes.subarray(start, end)
    out.set(crypto.hash('sha256', range, 'buffer'), 32 * i)
    if (job.checks) checks[i] = chunkCheck(range)
  })
  // The window goes back with its digests (moved, not copied): the scanner reads the next window into it.
  const window = job.bytes
  parentPort?.postMessage({ id: job.id, digests: out, checks, window },
    [out.buffer, checks.buffer, window.buffer as ArrayBuffer])
})

import crypto from 'node:crypto'
import { parentPort } from 'node:worker_threads'

/**
 * The scanner's hashing thread: given a window of a file and the chunks cut
 * in it, it answers their SHA-256s, while the main thread cuts the next
 * window (see hash-pool.ts).
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
  parentPort?.postMessage({ id: job.id, digests: out }, [out.buffer])
})

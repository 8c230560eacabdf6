import crypto from 'node:crypto'
import { chunk, CHUNKING } from '../src/blocks/index.ts'

/**
 * Content-defined chunking (src/blocks/chunker.ts), one core: cutting and
 * hashing rates on random data, the chunk sizes it gives, and what an edit
 * in the middle of a file costs in new chunk bytes (what would cross the
 * wire): 1 MiB inserted and 1 MiB rewritten. Median of three runs.
 */
export function benchChunking (opts: { mebibytes: number }): Record<string, unknown> {
  const data = crypto.randomBytes(opts.mebibytes * 1024 * 1024)
  const runs: { chunkMBps: number, sha256MBps: number, chunks: number }[] = []
  for (let r = 0; r < 3; r++) {
    let t = performance.now()
    const chunks = chunk(data)
    const chunkMs = performance.now() - t
    t = performance.now()
    for (const c of chunks) crypto.hash('sha256', c, 'buffer')
    const hashMs = performance.now() - t
    runs.push({ chunkMBps: data.length / 1e6 / (chunkMs / 1000), sha256MBps: data.length / 1e6 / (hashMs / 1000), chunks: chunks.length })
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1] as number
  const hex = (c: Uint8Array): string => crypto.hash('sha256', c, 'hex')
  const before = new Set(chunk(data).map(hex))
  const extra = crypto.randomBytes(1024 * 1024)
  const mid = Math.floor(data.length / 2)
  const edits: Record<string, unknown> = {}
  for (const [name, edited] of Object.entries({
    insert1MiB: Buffer.concat([data.subarray(0, mid), extra, data.subarray(mid)]),
    rewrite1MiB: Buffer.concat([data.subarray(0, mid), extra, data.subarray(mid + extra.length)])
  })) {
    const newBytes = chunk(edited).filter(c => !before.has(hex(c))).reduce((n, c) => n + c.length, 0)
    edits[name] = { newChunkBytes: newBytes, overEditedBytes: newBytes / extra.length }
  }
  return {
    mebibytes: opts.mebibytes,
    options: CHUNKING,
    chunkMBps: median(runs.map(r => r.chunkMBps)),
    sha256MBps: median(runs.map(r => r.sha256MBps)),
    meanChunkBytes: data.length / (runs[0]?.chunks ?? 1),
    edits,
    target: 'new chunk bytes on an insert <= 1.2 x inserted bytes + one chunk'
  }
}

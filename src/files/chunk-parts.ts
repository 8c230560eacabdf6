import { createHash } from 'node:crypto'
import { FILE_CHUNKS_MAX, FILE_PARTS_MAX } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'

/**
 * A big file's chunk list in parts (file.part records), cut where the
 * chunks themselves say, as the chunker cuts bytes: after a chunk whose hash
 * has its low ten bits zero (one part per ~1,024 chunks), or at
 * FILE_CHUNKS_MAX. An edit changes the chunks around it, so it changes the
 * part around it and no other: an edited version lists the parts it did not
 * change again, by their positions, and records only the new ones.
 */
export const PART_BOUNDARY_MASK = 0x3ff

export function splitIntoParts (chunks: readonly FileChunk[]): FileChunk[][] {
  const parts: FileChunk[][] = []
  let part: FileChunk[] = []
  for (const c of chunks) {
    part.push(c)
    const h = c[0]
    const low = ((h[30] as number) << 8 | (h[31] as number)) & PART_BOUNDARY_MASK
    if (low === 0 || part.length === FILE_CHUNKS_MAX) {
      parts.push(part)
      part = []
    }
  }
  if (part.length > 0) parts.push(part)
  return parts
}

/** Whether a chunk list must go in parts (more than one record holds inline). */
export function needsParts (chunks: readonly FileChunk[]): boolean {
  return chunks.length > FILE_CHUNKS_MAX
}

/** The most chunks a file may have: FILE_PARTS_MAX full parts. */
export const FILE_CHUNKS_LIMIT = FILE_CHUNKS_MAX * FILE_PARTS_MAX

/** A part's identity for reuse: SHA-256 over its chunks' hashes and sizes. */
export function partKey (part: readonly FileChunk[]): string {
  const h = createHash('sha256')
  const size = Buffer.alloc(8)
  for (const [hash, n] of part) {
    h.update(hash)
    size.writeUIntBE(n, 2, 6)
    h.update(size)
  }
  return h.digest('hex')
}

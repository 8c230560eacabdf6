import { createHash } from 'node:crypto'
import { FILE_CHUNKS_MAX } from '../codec/index.ts'
import type { Body, Entry, FileBody, FileChunk, Position } from '../codec/index.ts'
import { entryIdOf } from '../ids/index.ts'
import type { LocalBodies } from './local-writes.ts'
import type { ReplicaState } from './state.ts'

/**
 * File versions as records. A file record lists its chunks inline up to
 * FILE_CHUNKS_MAX; a bigger list goes in `file.part` entries before the
 * record, which names them by position. The positions are
 * allocated where the entries are signed: the bodies are built from the
 * position of the first entry of the commit (LocalBodies), never predicted
 * beforehand.
 *
 * Parts are cut where the chunks themselves say, as the chunker cuts bytes:
 * after a chunk whose hash has its low bits zero, or at FILE_CHUNKS_MAX. An
 * edit changes the chunks around it, so it changes the part around it and no
 * other: an edited version lists the parts this replica recorded before in
 * the same epoch again, by their positions, and records only the new ones.
 *
 * What an edit costs beyond its chunks is that part (~40 bytes per chunk it
 * lists) and the record (~15 bytes per part it names), so parts are small:
 * ~128 chunks (PART_CHUNKS_AVG), and more only for a file of more than
 * 65,536 chunks, which then has ~512 parts (PARTS_AIMED, half of
 * FILE_PARTS_MAX). At ~1,024 chunks per part, an insertion of 1 MiB in a
 * file of 1 GiB (3,610 chunks) recorded two new parts listing 1,870 chunks:
 * 78 KB of metadata on top of 1.45 MB of chunks (issue 14).
 */
const PART_CHUNKS_AVG = 128
const PARTS_AIMED = 512
/** The low 16 bits of a chunk's hash are read: no part averages more chunks than that allows. */
const PART_CHUNKS_AVG_MAX = 1 << 16

/**
 * Parts remembered for reuse, per space, the oldest forgotten first: a key and a position each (~200 bytes of memory),
 * at ~128 chunks per part enough for the big files of terabytes of data.
 */
const PARTS_REMEMBERED = 100_000

/** A version to record: its file record without `t`, with its whole chunk list (the parts are made here). */
export type NewFileVersion = Omit<FileBody, 't'>

/** Appends bodies in one commit through whoever drives the replica (it announces them), returning the entries. */
export type AppendLocal = (bodies: LocalBodies) => readonly Entry[]

/**
 * Records `versions` in one commit through `append`: the parts they need
 * and their file records. Returns the ids of the file records (hex), one per
 * version, in order.
 */
export function recordFileVersions (
  s: ReplicaState, versions: readonly NewFileVersion[], append: AppendLocal
): string[] {
  let fresh = new Map<string, Position>()
  const entries = append(first => {
    const planned = fileVersionBodies(s.recordedParts, versions, first)
    fresh = planned.fresh
    return planned.bodies
  })
  // Remembered only once committed: a refused write leaves no part to be named later.
  const known = s.recordedParts
  for (const [key, pos] of fresh) known.set(key, pos)
  const excess = known.size - PARTS_REMEMBERED
  if (excess > 0) for (const key of [...known.keys()].slice(0, excess)) known.delete(key)

  return entries.filter(e => e.body.t === 'file').map(e => entryIdOf(e.id))
}

/**
 * The bodies recording `versions` when the first of them is signed at
 * `first`: each big file's new parts, then its record. A part recorded
 * before in the same epoch (`known`) or earlier in this commit is named
 * again, not recorded anew. `fresh`: the parts recorded here, by content.
 */
export function fileVersionBodies (
  known: ReadonlyMap<string, Position>, versions: readonly NewFileVersion[], first: Position
): { bodies: Body[], fresh: Map<string, Position> } {
  const bodies: Body[] = []
  const fresh = new Map<string, Position>()
  for (const v of versions) {
    if (!needsParts(v.chunks)) {
      bodies.push({ t: 'file', ...v })
      continue
    }
    const parts = splitIntoParts(v.chunks).map(chunks => {
      const key = partKey(chunks)
      const held = known.get(key) ?? fresh.get(key)
      if (held !== undefined && held.epoch === first.epoch) return held
      const pos = { epoch: first.epoch, seq: first.seq + bodies.length }
      bodies.push({ t: 'file.part', chunks })
      fresh.set(key, pos)
      return pos
    })
    bodies.push({ t: 'file', ...v, chunks: [], parts })
  }
  return { bodies, fresh }
}

function splitIntoParts (chunks: readonly FileChunk[]): FileChunk[][] {
  const mask = partBoundaryMask(chunks.length)
  const parts: FileChunk[][] = []
  let part: FileChunk[] = []
  for (const c of chunks) {
    part.push(c)
    const h = c[0]
    const low = ((h[30] as number) << 8 | (h[31] as number)) & mask
    if (low === 0 || part.length === FILE_CHUNKS_MAX) {
      parts.push(part)
      part = []
    }
  }
  if (part.length > 0) parts.push(part)
  return parts
}

/**
 * The mask of the hash bits that end a part when zero, for a list of `chunkCount` chunks: a part averages
 * PART_CHUNKS_AVG chunks, or the power of two that keeps a longer list at ~PARTS_AIMED parts. A list that grows
 * past a step is cut anew once, as any edit of its every part would be.
 */
export function partBoundaryMask (chunkCount: number): number {
  let avg = PART_CHUNKS_AVG
  while (avg < PART_CHUNKS_AVG_MAX && chunkCount > avg * PARTS_AIMED) avg *= 2
  return avg - 1
}

/** Whether a chunk list must go in parts (more than one record holds inline). */
function needsParts (chunks: readonly FileChunk[]): boolean {
  return chunks.length > FILE_CHUNKS_MAX
}

/** A part's identity for reuse: SHA-256 over its chunks' hashes and sizes. */
function partKey (part: readonly FileChunk[]): string {
  const h = createHash('sha256')
  const size = Buffer.alloc(8)
  for (const [hash, n] of part) {
    h.update(hash)
    size.writeUIntBE(n, 2, 6)
    h.update(size)
  }
  return h.digest('hex')
}

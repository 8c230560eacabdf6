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
 * after a chunk whose hash has its low ten bits zero (one part per ~1,024
 * chunks), or at FILE_CHUNKS_MAX. An edit changes the chunks around it, so
 * it changes the part around it and no other: an edited version lists the
 * parts this replica recorded before in the same epoch again, by their
 * positions, and records only the new ones.
 */
const PART_BOUNDARY_MASK = 0x3ff

/** Parts remembered for reuse, per space (about 60 KB of chunk list each): the oldest are forgotten first. */
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

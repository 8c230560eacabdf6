/**
 * File versions with chunk-list parts (src/space/file-versions.ts): the
 * parts and the record go in one commit, at the positions they are signed
 * at, and an edited big file records only the parts it changed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FILE_CHUNK_BYTES_MAX, FILE_CHUNKS_MAX, FILE_PARTS_MAX, sha256, toHex } from '../../src/codec/index.ts'
import type { Entry, FileChunk } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import type { NewFileVersion } from '../../src/space/index.ts'
import { fileVersionBodies, partBoundaryMask } from '../../src/space/file-versions.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { entryIdOf } from '../../src/ids/index.ts'

const W = seededKey(71, 'writer')
const CHUNK = 1000

function chunks (from: number, n: number, salt = ''): FileChunk[] {
  return Array.from({ length: n }, (_, i) => [sha256(Buffer.from(`${salt}chunk ${from + i}`)), CHUNK] as const)
}

function version (path: string, list: readonly FileChunk[], supersedes: readonly Uint8Array[] = []): NewFileVersion {
  return { path, size: list.length * CHUNK, mode: 0o644, mtimeMs: T0, deleted: false, supersedes, chunks: list }
}

function setup (): { replica: SpaceReplica, written: Entry[][], record: (v: readonly NewFileVersion[]) => string[] } {
  const replica = SpaceReplica.create(new MemoryStore(), W, 'files', T0)
  const written: Entry[][] = []
  const record = (versions: readonly NewFileVersion[]): string[] => replica.recordFileVersions(versions, bodies => {
    const entries = replica.appendBodies(W, bodies, T0 + written.length + 1)
    written.push(entries)
    return entries
  })
  return { replica, written, record }
}

test('a big file goes in parts and its record, in one commit; the view reads its whole chunk list', () => {
  const { replica, written, record } = setup()
  const small = version('small.txt', chunks(0, 3))
  const big = version('big.bin', chunks(0, 3 * FILE_CHUNKS_MAX + 7))
  const ids = record([small, big])
  assert.equal(written.length, 1, 'one commit')
  const entries = written[0] as Entry[]
  assert.deepEqual(ids, entries.filter(e => e.body.t === 'file').map(e => entryIdOf(e.id)), 'the file record ids, in order')
  assert.equal(ids.length, 2)
  const bigRecord = entries.at(-1) as Entry
  assert.ok(bigRecord.body.t === 'file' && bigRecord.body.parts !== undefined && bigRecord.body.chunks.length === 0)
  for (const p of bigRecord.body.parts) {
    const part = entries.find(e => e.epoch === p.epoch && e.seq === p.seq)
    assert.equal(part?.body.t, 'file.part', `position ${p.epoch}/${p.seq} is a part of this commit`)
  }
  const read = replica.fileGet('big.bin')?.current
  assert.equal(read?.problem, undefined)
  assert.deepEqual(read?.chunks.map(c => toHex(c[0])), big.chunks.map(c => toHex(c[0])))
  assert.deepEqual(replica.fileGet('small.txt')?.current.chunks.length, 3)
})

test('an edited big file records only the parts it changed, and lists the others by position', () => {
  const { replica, written, record } = setup()
  const list = chunks(0, 4 * FILE_CHUNKS_MAX)
  const [first] = record([version('big.bin', list)])
  const firstParts = (written[0] as Entry[]).filter(e => e.body.t === 'file.part').length
  const edited = [...list.slice(0, -5), ...chunks(0, 5, 'edited ')]
  record([version('big.bin', edited, [Buffer.from(first as string, 'hex')])])
  const second = written[1] as Entry[]
  const newParts = second.filter(e => e.body.t === 'file.part').length
  assert.ok(newParts >= 1 && newParts < firstParts, `${newParts} new parts of ${firstParts}`)
  const read = replica.fileGet('big.bin')?.current
  assert.equal(read?.problem, undefined)
  assert.deepEqual(read?.chunks.map(c => toHex(c[0])), edited.map(c => toHex(c[0])))
})

test('a part known from another epoch is recorded anew; one of this epoch is named again', () => {
  const list = chunks(0, 2 * FILE_CHUNKS_MAX)
  const once = fileVersionBodies(new Map(), [version('a', list)], { epoch: 5, seq: 10 })
  assert.ok(once.fresh.size >= 2)
  for (const pos of once.fresh.values()) assert.ok(pos.epoch === 5 && pos.seq >= 10)
  const sameEpoch = fileVersionBodies(once.fresh, [version('a', list)], { epoch: 5, seq: 40 })
  assert.deepEqual(sameEpoch.bodies.map(b => b.t), ['file'], 'every part named again')
  const nextEpoch = fileVersionBodies(once.fresh, [version('a', list)], { epoch: 6, seq: 0 })
  assert.equal(nextEpoch.bodies.filter(b => b.t === 'file.part').length, once.fresh.size)
})

test('an edit in a big file records one small part: ~128 chunks per part, not ~1,024', () => {
  // 3,600 chunks: a file of ~1 GiB at the chunker's 256 KiB. Each of 20 edits replaces one chunk somewhere in it.
  const list = chunks(0, 3600)
  const first = fileVersionBodies(new Map(), [version('big.bin', list)], { epoch: 1, seq: 0 })
  let refs = 0
  for (let k = 0; k < 20; k++) {
    const at = 90 + k * 171
    const edited = [...list.slice(0, at), ...chunks(at, 1, `edit ${k} `), ...list.slice(at + 1)]
    const next = fileVersionBodies(first.fresh, [version('big.bin', edited)], { epoch: 1, seq: 1000 })
    const parts = next.bodies.filter(b => b.t === 'file.part')
    assert.ok(parts.length >= 1 && parts.length <= 2, `edit ${k}: ${parts.length} new parts`)
    for (const p of parts) refs += p.t === 'file.part' ? p.chunks.length : 0
  }
  // A part holding an edit is a size-biased pick: about twice the average part.
  assert.ok(refs / 20 <= 400, `${refs / 20} chunk refs recorded again per edit, on average`)
})

test('the parts of a list: ~128 chunks each, more per part past 65,536 chunks, never more parts than a record lists', () => {
  assert.equal(partBoundaryMask(3600), 127)
  assert.equal(partBoundaryMask(65_536), 127)
  assert.equal(partBoundaryMask(65_537), 255)
  assert.equal(partBoundaryMask(FILE_CHUNKS_MAX * FILE_PARTS_MAX), 4095)
  assert.equal(partBoundaryMask(Number.MAX_SAFE_INTEGER), 65_535)
  const list = chunks(0, 65_536)
  const { bodies } = fileVersionBodies(new Map(), [version('huge.bin', list)], { epoch: 1, seq: 0 })
  const record = bodies.at(-1)
  assert.ok(record?.t === 'file' && record.parts !== undefined)
  assert.ok(record.parts.length > 400 && record.parts.length <= 640, `${record.parts.length} parts`)
  assert.ok(record.parts.length <= FILE_PARTS_MAX)
})

test('a version naming a chunk over FILE_CHUNK_BYTES_MAX is held like any, and has a problem: no node writes it', () => {
  // Refused on arrival, such a record (an earlier version stored it) stopped its feed on every node of this version,
  // which charged and banned the honest nodes relaying it (a review's probe). Now every node holds it; none writes it.
  const { replica, record } = setup()
  const huge = FILE_CHUNK_BYTES_MAX + 1
  const one = (path: string, size: number): NewFileVersion =>
    ({ path, size, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [], chunks: [[sha256(Buffer.from(path)), size]] })
  record([one('huge.bin', huge)])
  assert.match(replica.fileGet('huge.bin')?.current.problem ?? '', /a chunk of 16777217 bytes, over the 16777216 any chunk may be/)
  record([one('fine.bin', FILE_CHUNK_BYTES_MAX)])
  assert.equal(replica.fileGet('fine.bin')?.current.problem, undefined)
})

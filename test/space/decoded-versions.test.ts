/**
 * The files view read again with the versions the last read decoded (src/space/view-reads.ts DecodedVersions): the
 * same answer as a fresh read, each unchanged version taken from the last read instead of decoded again (and each
 * unchanged row's whole state, unless a version of it waited for a part), and only the last read's versions kept.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FILE_CHUNKS_MAX, fromHex, sha256 } from '../../src/codec/index.ts'
import type { Entry, FileChunk } from '../../src/codec/index.ts'
import { DecodedVersions, SpaceReplica } from '../../src/space/index.ts'
import type { FileVersion, NewFileVersion } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const W = seededKey(72, 'writer')

function version (path: string, n: number, salt: string, supersedes: readonly string[] = []): NewFileVersion {
  const chunks: FileChunk[] = Array.from({ length: n }, (_, i) => [sha256(Buffer.from(`${salt} ${i}`)), 1000] as const)
  return { path, size: n * 1000, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: supersedes.map(fromHex), chunks }
}

function setup (): { replica: SpaceReplica, record: (v: readonly NewFileVersion[]) => string[] } {
  const replica = SpaceReplica.create(new MemoryStore(), W, 'files', T0)
  let commits = 0
  const record = (versions: readonly NewFileVersion[]): string[] => replica.recordFileVersions(versions, bodies =>
    replica.appendBodies(W, bodies, T0 + ++commits))
  return { replica, record }
}

const byPath = (list: readonly { path: string, current: FileVersion }[]): Map<string, FileVersion> =>
  new Map(list.map(f => [f.path, f.current]))

test('a read with the last read\'s versions answers as a fresh read and reuses each version that did not change', () => {
  const { replica, record } = setup()
  const [a, big] = record([version('a.txt', 2, 'a'), version('big.bin', 3 * FILE_CHUNKS_MAX + 5, 'big')])
  record([version('b.txt', 1, 'b')])
  const decoded = new DecodedVersions()
  const first = replica.filesList(decoded)

  const [a2] = record([version('a.txt', 3, 'a edited', [a as string]), version('c.txt', 1, 'c')])
  const second = replica.filesList(decoded)
  assert.deepEqual(second, replica.filesList(), 'the same answer as a fresh read')
  const before = byPath(first)
  const after = byPath(second)
  assert.equal(after.get('big.bin'), before.get('big.bin'), 'the big file (read from its parts) is not decoded again')
  assert.equal(after.get('b.txt'), before.get('b.txt'))
  assert.equal(after.get('a.txt')?.id, a2, 'the edited path has its new version')
  assert.notEqual(after.get('a.txt'), before.get('a.txt'))
  assert.equal(after.get('big.bin')?.id, big)
  assert.equal(after.get('big.bin')?.chunks.length, 3 * FILE_CHUNKS_MAX + 5)

  const state = (list: readonly { path: string }[], p: string): unknown => list.find(f => f.path === p)
  assert.equal(state(second, 'b.txt'), state(first, 'b.txt'), 'a path whose row did not change: its state, as it was')
  assert.equal(state(second, 'big.bin'), state(first, 'big.bin'))
  assert.notEqual(state(second, 'a.txt'), state(first, 'a.txt'), 'a path with a new version: read again')
  assert.equal(decoded.get(a as string), undefined, 'a superseded version is not kept')
  assert.equal(decoded.get(a2 as string), after.get('a.txt'), 'the new one is')
  decoded.clear()
  const third = replica.filesList(decoded)
  assert.deepEqual(third, second)
  assert.notEqual(byPath(third).get('b.txt'), after.get('b.txt'), 'once cleared, every version is decoded again')
  assert.notEqual(state(third, 'b.txt'), state(second, 'b.txt'), 'and every row read again')
})

test('the records a node writes are learned as a read would decode them, and that read reuses them', () => {
  const { replica } = setup()
  const decoded = new DecodedVersions()
  let commits = 0
  const record = (versions: readonly NewFileVersion[]): string[] => replica.recordFileVersions(versions, bodies =>
    replica.appendBodies(W, bodies, T0 + ++commits), decoded)
  assert.deepEqual(replica.filesList(decoded), [])
  const [small, big] = record([version('small.txt', 2, 's'), version('big.bin', 2 * FILE_CHUNKS_MAX + 1, 'big')])
  const [gone] = record([{ ...version('small.txt', 0, 'gone', [small as string]), deleted: true }])
  const learned = [big, gone].map(id => decoded.get(id as string))
  assert.ok(learned.every(v => v !== undefined), 'both records are learned when written')
  const list = replica.filesList(decoded)
  assert.deepEqual(list, replica.filesList(), 'the same answer as a fresh read')
  assert.deepEqual(list.map(f => f.current), learned, 'each version is the one learned')
  assert.equal(list[0]?.current, learned[0], 'taken from what was learned, not decoded again')
  assert.equal(decoded.get(small as string), undefined, 'the superseded version, learned too, is not kept by the read')
})

test('a version whose chunk list cannot be read yet is not kept: it is decoded again at the next read', () => {
  const decoded = new DecodedVersions()
  const base = { author: 'ab', clock: [], size: 1, mode: 0o644, mtimeMs: T0, deleted: false, chunks: [] }
  const waiting = { ...base, id: 'aa', path: 'w', problem: 'part 0/3 of its chunk list is not here yet' }
  const whole = { ...base, id: 'bb', path: 'x' }
  const conflict = { ...base, id: 'cc', path: 'x' }
  decoded.keep([
    { path: 'w', current: waiting as unknown as FileVersion, conflicts: [] },
    { path: 'x', current: whole as unknown as FileVersion, conflicts: [conflict as unknown as FileVersion] }
  ])
  assert.equal(decoded.get('aa'), undefined)
  assert.equal(decoded.get('bb'), whole)
  assert.equal(decoded.get('cc'), conflict, 'a conflict\'s version is kept as the current one is')
})

test('a version waiting for a part from an earlier epoch is read whole once the part arrives', () => {
  const origin = SpaceReplica.create(new MemoryStore(), W, 'late part', T0)
  const chunks: FileChunk[] = [[sha256(Buffer.from('x')), 10]]
  const part = origin.appendBodies(W, [{ t: 'file.part', chunks }], T0 + 1)[0] as Entry
  const later = origin.openEpoch(authorKeyOf(W.publicKey), T0 + 2)
  const parts = [{ epoch: part.epoch, seq: part.seq }]
  const body = { t: 'file', path: 'f', size: 10, mode: 0o644, mtimeMs: T0, deleted: false, supersedes: [], chunks: [] }
  origin.appendBodies(W, [{ ...body, t: 'file', parts }], T0 + 3)
  const replica = SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica
  const feeds = origin.vector()
  const ingest = (epochs: (e: number) => boolean): void => {
    for (const f of feeds) {
      if (!epochs(f.epoch)) continue
      const run = origin.serve(authorKeyOf(f.author), f.epoch, 0, f.count)
      assert.ok(replica.ingestRun(run, 'peer', T0 + 10).stored.length > 0)
    }
  }
  const decoded = new DecodedVersions()
  ingest(e => e === later)
  const waiting = replica.filesList(decoded)
  assert.match(waiting[0]?.current.problem ?? '', /not here yet/)
  ingest(e => e !== later)
  const whole = replica.filesList(decoded)
  assert.equal(whole[0]?.current.problem, undefined, 'not the version kept from before: it waited for its part')
  assert.equal(whole[0]?.current.chunks.length, 1)
  assert.deepEqual(whole, replica.filesList())
})

test('what is learned from this node\'s records between reads is bounded; the read decodes the rest', () => {
  const { replica } = setup()
  const decoded = new DecodedVersions(2)
  let commits = 0
  const record = (versions: readonly NewFileVersion[]): string[] => replica.recordFileVersions(versions, bodies =>
    replica.appendBodies(W, bodies, T0 + ++commits), decoded)
  const ids = record([version('a', 1, 'a'), version('b', 1, 'b'), version('c', 1, 'c')])
  assert.deepEqual(ids.map(id => decoded.get(id) !== undefined), [true, true, false], 'two learned, beyond that none')
  const list = replica.filesList(decoded)
  assert.deepEqual(list, replica.filesList(), 'the one not learned is decoded by the read')
  const more = record([version('d', 1, 'd'), version('e', 1, 'e'), version('f', 1, 'f')])
  assert.deepEqual(more.map(id => decoded.get(id) !== undefined), [true, true, false], 'two beyond the list\'s three')
  assert.ok(ids.every(id => decoded.get(id) !== undefined), 'the list\'s versions are kept')
})

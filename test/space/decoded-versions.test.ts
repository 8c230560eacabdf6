/**
 * The files view read again with the versions the last read decoded (src/space/view-reads.ts DecodedVersions): the
 * same answer as a fresh read, each unchanged version taken from the last read instead of decoded again, and only
 * the last read's versions kept.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FILE_CHUNKS_MAX, fromHex, sha256 } from '../../src/codec/index.ts'
import type { FileChunk } from '../../src/codec/index.ts'
import { DecodedVersions, SpaceReplica } from '../../src/space/index.ts'
import type { FileVersion, NewFileVersion } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
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
  assert.deepEqual(first, replica.filesList(), 'the first read, with nothing kept, is a fresh read')

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

  assert.equal(decoded.get(a as string), undefined, 'a superseded version is not kept')
  assert.equal(decoded.get(a2 as string), after.get('a.txt'), 'the new one is')
  decoded.clear()
  const third = replica.filesList(decoded)
  assert.deepEqual(third, second)
  assert.notEqual(byPath(third).get('b.txt'), after.get('b.txt'), 'once cleared, every version is decoded again')
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

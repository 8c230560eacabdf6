import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { toHex } from '../../src/codec/index.ts'
import type { FileChunk } from '../../src/codec/index.ts'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder, THEM } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * A record that names real chunks at wrong sizes (a member's doing: any member reads the hashes of everyone's files
 * in the files view). The bytes of such a chunk hash right, so no peer is blamed, and the writer refuses them. Before,
 * every pass fetched them all again, and a pass came every 5 s while the error stood: one record of 40 bytes a chunk
 * made every receiver pull whole chunks from honest peers, for good. Now a chunk's size this node knows (cut, written
 * or fetched) refutes the record without a fetch, once one chunk is found wrong no more of the version's fetches
 * start, and an error only new records can lift brings no pass of its own. Passes are counted through FolderSync.schedule and
 * run by hand; no time is waited on.
 */
const T = Date.UTC(2026, 0, 1)
const RETRY_MS = 5_000

/** Every delay FolderSync.schedule is called with from now on. */
function scheduled (f: FakeFolder): number[] {
  const delays: number[] = []
  const schedule = f.sync.schedule.bind(f.sync)
  f.sync.schedule = (delayMs?: number) => { delays.push(delayMs ?? -1); schedule(delayMs) }
  return delays
}

/** A liar's version of `p` naming `chunks` at one byte each. */
function liarNames (f: FakeFolder, p: string, chunks: readonly FileChunk[]): void {
  const named = chunks.map(([h]) => [h, 1] as const)
  f.space.add(THEM, { path: p, size: named.length, mode: 0o644, mtimeMs: T, deleted: false, supersedes: [], chunks: named })
}

/** The chunks of another node's file of `bytes` random bytes at `p`, written here (or only recorded: `written`). */
async function realFile (f: FakeFolder, p: string, bytes: number, written = true): Promise<readonly FileChunk[]> {
  await f.theirs(p, crypto.randomBytes(bytes))
  if (written) await f.sync.sync()
  const chunks = f.space.file(p)?.current.chunks ?? []
  assert.ok(chunks.length >= 3, `a file of several chunks (${chunks.length})`)
  return chunks
}

describe('a record naming chunks at sizes they are not', () => {
  test('chunks this node holds: refused without a fetch, and no pass is scheduled for it', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    const chunks = await realFile(f, 'real.bin', 512 * 1024)
    liarNames(f, 'liar.bin', chunks)
    const delays = scheduled(f)
    const gets = f.net.gets
    for (let pass = 0; pass < 3; pass++) await f.sync.sync()
    assert.equal(f.net.gets - gets, 0, 'nothing fetched')
    assert.match(f.errors()['liar.bin'] ?? '', /^not written: its record is wrong: chunk 0 \(\w{16}…\) is \d+ bytes; the record says 1$/)
    assert.equal(disk.vol.existsSync('/f/liar.bin'), false)
    assert.deepEqual(delays, [], 'no retry: only new records can lift it')
    await f.sync.stop()
  })

  test('chunks fetched: refused, their sizes learned, no part file left; no later pass fetches', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f', 'receive-only')
    // Held by peers only: this node has none of them.
    const chunks = await realFile(f, 'elsewhere.bin', 512 * 1024, false)
    f.space.versions.clear()
    liarNames(f, 'liar.bin', chunks)
    const delays = scheduled(f)
    await f.sync.sync()
    const first = f.net.gets
    assert.ok(first >= 1 && first <= chunks.length, `fetched ${first}`)
    assert.match(f.errors()['liar.bin'] ?? '', /its record is wrong: chunk \d+ .* the record says 1$/)
    assert.deepEqual(disk.vol.readdirSync('/f/.samepage/tmp'), [], 'no part file kept for it')
    assert.deepEqual(delays, [])
    // Another version naming the same chunk at the same wrong size, as a liar may record again and again.
    liarNames(f, 'liar2.bin', chunks)
    for (let pass = 0; pass < 2; pass++) await f.sync.sync()
    assert.equal(f.net.gets, first, 'nothing fetched again')
    assert.match(f.errors()['liar2.bin'] ?? '', /its record is wrong/)
    await f.sync.stop()
  })

  test('a chunk no peer holds named before the wrong ones does not hide the refutation', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f', 'receive-only')
    const chunks = await realFile(f, 'elsewhere.bin', 512 * 1024, false)
    f.space.versions.clear()
    liarNames(f, 'liar.bin', [[crypto.randomBytes(32), 1], ...chunks])
    const delays = scheduled(f)
    await f.sync.sync()
    const first = f.net.gets
    for (let pass = 0; pass < 2; pass++) await f.sync.sync()
    assert.match(f.errors()['liar.bin'] ?? '', /its record is wrong/)
    assert.deepEqual(delays, [])
    assert.equal(f.net.gets, first, 'nothing fetched again')
    await f.sync.stop()
  })

  test('bytes of another length that do not hash right are a peer\'s fault, not a refutation of the record', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f', 'receive-only')
    await f.theirs('honest.bin', crypto.randomBytes(512 * 1024))
    const [hash] = f.space.file('honest.bin')?.current.chunks[0] ?? []
    assert.ok(hash !== undefined)
    const right = f.net.held.get(toHex(hash)) as Uint8Array
    f.net.held.set(toHex(hash), crypto.randomBytes(10)) // a peer that lies, with bytes of another length
    await f.sync.sync()
    assert.doesNotMatch(f.errors()['honest.bin'] ?? '', /its record is wrong/)
    f.net.held.set(toHex(hash), right)
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.ok(disk.vol.existsSync('/f/honest.bin'))
    await f.sync.stop()
  })

  test('a version with a problem in its record waits without passes of its own; one no peer holds now is retried', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    const id = await f.theirs('odd.bin', 'bytes of a version whose record has a problem')
    const v = f.space.versions.get(id)
    assert.ok(v !== undefined)
    f.space.versions.set(id, { ...v, problem: 'its chunk list names a chunk of 17 MiB' })
    const delays = scheduled(f)
    await f.sync.sync()
    assert.match(f.errors()['odd.bin'] ?? '', /^waiting: its chunk list names a chunk/)
    assert.deepEqual(delays, [])
    await f.theirs('gone.txt', 'no peer holds this', { mtimeMs: T })
    f.net.held.clear()
    await f.sync.sync()
    assert.match(f.errors()['gone.txt'] ?? '', /^waiting: /)
    assert.deepEqual(delays, [RETRY_MS, RETRY_MS], 'a transfer that may succeed later is retried')
    await f.sync.stop()
  })
})

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { chunk } from '../../src/blocks/index.ts'
import { partPath, writeFileVersion } from '../../src/files/index.ts'
import type { FileVersionToWrite } from '../../src/files/index.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'

/**
 * The safe writer alone on the fake disk: a version written whole (bytes,
 * bits, mtime), a transfer cut short keeps its verified chunks for the
 * resume, and a disk that fails the final fsync gets nothing under the
 * name. (With real files and a real SIGKILL: safe-writer.test.ts.)
 */
const data = crypto.randomBytes(1024 * 1024 + 99)
const pieces = chunk(data)
const version: FileVersionToWrite = {
  id: 'b'.repeat(64),
  path: 'dir/file.bin',
  size: data.length,
  mode: 0o640,
  mtimeMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  chunks: pieces.map(c => [crypto.hash('sha256', c, 'buffer'), c.length] as const)
}
const fetch = async (_h: Uint8Array, _s: number, i: number): Promise<Uint8Array> => pieces[i] as Uint8Array

describe('safe writer on the fake disk', () => {
  test('writes a version whole: bytes, permission bits, mtime; the part file becomes the file', async () => {
    const disk = new MemoryDisk()
    disk.vol.mkdirSync('/f/.samepage', { recursive: true })
    const r = await writeFileVersion('/f', version, { fetch }, disk.fs)
    assert.ok((disk.vol.readFileSync('/f/dir/file.bin') as Buffer).equals(data))
    const st = disk.vol.statSync('/f/dir/file.bin')
    assert.equal(Number(st.mode) & 0o777, 0o640)
    assert.equal(Number(st.mtimeMs), version.mtimeMs)
    assert.equal(r.fetched, pieces.length)
    assert.equal(disk.vol.existsSync(partPath('/f', version.id)), false)
  })

  test('a transfer cut short: nothing under the name; the retry fetches only the chunks still missing', async () => {
    assert.ok(pieces.length >= 4)
    const disk = new MemoryDisk()
    disk.vol.mkdirSync('/f/.samepage', { recursive: true })
    const last = pieces.length - 1
    await assert.rejects(writeFileVersion('/f', version, {
      fetch: async (h, s, i) => { if (i === last) throw new Error('the peer went away'); return await fetch(h, s, i) }
    }, disk.fs), /the peer went away/)
    assert.equal(disk.vol.existsSync('/f/dir/file.bin'), false)
    let fetched = 0
    const counted = async (h: Uint8Array, s: number, i: number): Promise<Uint8Array> => { fetched++; return await fetch(h, s, i) }
    const r = await writeFileVersion('/f', version, { fetch: counted }, disk.fs)
    assert.equal(r.resumed, pieces.length - 1)
    assert.equal(fetched, 1)
    assert.ok((disk.vol.readFileSync('/f/dir/file.bin') as Buffer).equals(data))
  })

  test('the final fsync fails (an I/O error): the write fails with its code, nothing under the name', async () => {
    const disk = new MemoryDisk()
    disk.vol.mkdirSync('/f/.samepage', { recursive: true })
    const faults = new FaultyFs(disk.fs)
    faults.fail('sync', /\.part$/, 'EIO')
    await assert.rejects(writeFileVersion('/f', version, { fetch }, faults.fs),
      (err: NodeJS.ErrnoException) => err.code === 'EIO')
    assert.equal(disk.vol.existsSync('/f/dir/file.bin'), false)
  })
})

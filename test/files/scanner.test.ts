import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunk, chunkingFor } from '../../src/blocks/index.ts'
import { chunkFile, scanFolder } from '../../src/files/index.ts'
import { scanWindowBytes } from '../../src/files/scanner.ts'
import { PATH_SEGMENTS_MAX } from '../../src/codec/index.ts'
import type { ScannedFile } from '../../src/files/index.ts'

/**
 * The scanner on a real folder: nested directories, empty files and
 * directories, permission bits, an ignore file, a symbolic link, a name no
 * other node could use, and a rescan that reads only what changed.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-scan-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))
const put = (rel: string, data: string | Uint8Array, mode = 0o644): void => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  fs.writeFileSync(path.join(root, rel), data)
  fs.chmodSync(path.join(root, rel), mode)
}
const big = crypto.randomBytes(3 * 1024 * 1024 + 123)

describe('scanner', () => {
  test('what a folder holds, as file records; what it does not share, and why', async () => {
    put('a.txt', 'hello')
    put('empty', '')
    put('deep/er/still/big.bin', big)
    put('run.sh', '#!/bin/sh\n', 0o755)
    put('build/out.o', 'x')
    put('notes.tmp', 'x')
    put('.samepageignore', 'build/\n*.tmp\n')
    put('.samepage/tmp/partial', 'never shared')
    put('back\\slash', 'x')
    fs.mkdirSync(path.join(root, 'empty-dir'))
    fs.symlinkSync('a.txt', path.join(root, 'link'))
    const r = await scanFolder(root)
    const byPath = new Map(r.files.map(f => [f.path, f]))
    assert.deepEqual([...byPath.keys()].sort(), ['.samepageignore', 'a.txt', 'deep/er/still/big.bin', 'empty', 'run.sh'])
    assert.deepEqual(r.dirs.sort(), ['deep', 'deep/er', 'deep/er/still', 'empty-dir'])
    assert.equal(byPath.get('run.sh')?.mode, 0o755)
    assert.equal(byPath.get('a.txt')?.mode, 0o644)
    assert.deepEqual(byPath.get('empty')?.chunks, [])
    const bigFile = byPath.get('deep/er/still/big.bin') as ScannedFile
    assert.equal(bigFile.size, big.length)
    assert.deepEqual(bigFile.chunks.map(([h, n]) => [Buffer.from(h).toString('hex'), n]),
      chunk(big).map(c => [crypto.hash('sha256', c, 'hex'), c.length]), 'the same chunks as chunking the bytes at once')
    const why = new Map(r.skipped.map(s => [s.path, s.problem]))
    assert.match(why.get('build') ?? '', /ignored/)
    assert.match(why.get('notes.tmp') ?? '', /ignored/)
    assert.match(why.get('link') ?? '', /symbolic link/)
    assert.match(why.get('back\\slash') ?? '', /cannot be shared: .*backslash/)
    assert.equal(why.has('.samepage'), false, 'the work area is not even listed')
  })

  test('a local path more than PATH_SEGMENTS_MAX levels deep is not shared, and says why; one at the limit is', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-deep-'))
    try {
      const dirs = Array.from({ length: PATH_SEGMENTS_MAX - 1 }, () => 'd').join('/')
      fs.mkdirSync(path.join(dir, dirs), { recursive: true })
      fs.writeFileSync(path.join(dir, dirs, 'at-the-limit.txt'), 'kept')
      fs.mkdirSync(path.join(dir, dirs, 'one-more'))
      fs.writeFileSync(path.join(dir, dirs, 'one-more', 'past.txt'), 'not shared')
      const r = await scanFolder(dir)
      assert.deepEqual(r.files.map(f => f.path), [`${dirs}/at-the-limit.txt`])
      assert.deepEqual(r.skipped.map(s => [s.path, s.problem]),
        [[`${dirs}/one-more/past.txt`, `its name cannot be shared: ${PATH_SEGMENTS_MAX + 1} levels deep; at most ${PATH_SEGMENTS_MAX} are shared`]])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('files read one after another into reused windows chunk as they do in memory', async () => {
    // Windows the hashing thread handed back still hold the earlier file's bytes: none may leak into the next.
    const sizes = [9 * 1024 * 1024 + 77, 5 * 1024 * 1024 + 5, 9 * 1024 * 1024 + 77]
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-windows-'))
    try {
      for (const [i, size] of sizes.entries()) {
        const data = crypto.randomBytes(size)
        const file = path.join(dir, `f${i}`)
        fs.writeFileSync(file, data)
        const opts = chunkingFor(size)
        const expected = chunk(data, opts).map(c => [crypto.hash('sha256', c, 'hex'), c.length])
        const got = (await chunkFile(file, opts)).map(([h, n]) => [Buffer.from(h).toString('hex'), n])
        assert.deepEqual(got, expected)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a file one read takes whole gets a window of about its size; a bigger one, full windows', () => {
    const small = chunkingFor(4096)
    assert.equal(scanWindowBytes(small, 4096), 4096)
    assert.equal(scanWindowBytes(small, 4097), 8192)
    assert.equal(scanWindowBytes(small, 0), 1)
    assert.equal(scanWindowBytes(small, 1024 * 1024), 1024 * 1024, 'one read of 1 MiB')
    const full = small.maxBytes + 1024 * 1024
    assert.equal(scanWindowBytes(small, 1024 * 1024 + 1), full)
    assert.equal(scanWindowBytes(small), full, 'size unknown')
    const bigger = chunkingFor(1024 ** 3)
    assert.equal(scanWindowBytes(bigger, 1024 ** 3), bigger.maxBytes + 8 * bigger.avgBytes)
  })

  test('files of every size around the windows\' bounds, scanned together, chunk as they do in memory', async () => {
    // Files of one size class share spare windows that still hold the last file's bytes: none may leak.
    const KiB = 1024
    const sizes = [0, 1, 4095, 4096, 4097, 6000, 32 * KiB - 1, 32 * KiB, 64 * KiB, 64 * KiB + 1, 300 * KiB, 1000 * KiB,
      1024 * KiB - 1, 1024 * KiB, 1024 * KiB + 1, 1300 * KiB]
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-sizes-'))
    try {
      const expected = new Map<string, string[][]>()
      for (const [i, size] of [...sizes, ...sizes.slice().reverse()].entries()) {
        const data = crypto.randomBytes(size)
        fs.writeFileSync(path.join(dir, `f${i}`), data)
        const chunks = chunk(data, chunkingFor(size))
        expected.set(`f${i}`, chunks.map(c => [crypto.hash('sha256', c, 'hex'), String(c.length)]))
      }
      const r = await scanFolder(dir)
      assert.equal(r.files.length, expected.size)
      for (const f of r.files) {
        const got = f.chunks.map(([h, n]) => [Buffer.from(h).toString('hex'), String(n)])
        assert.deepEqual(got, expected.get(f.path), f.path)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a rescan reads only the files that changed', async () => {
    const first = await scanFolder(root)
    const previous = new Map(first.files.map(f => [f.path, f]))
    const again = await scanFolder(root, { previous })
    assert.equal(again.filesRead, 0)
    assert.deepEqual(again.files, first.files)
    const future = new Date(Date.now() + 5_000)
    fs.appendFileSync(path.join(root, 'a.txt'), ' world')
    fs.utimesSync(path.join(root, 'a.txt'), future, future)
    const third = await scanFolder(root, { previous })
    assert.equal(third.filesRead, 1)
    assert.equal(third.bytesRead, 11)
    assert.equal(third.files.find(f => f.path === 'a.txt')?.size, 11)
  })
})

import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunk, chunkingFor } from '../../src/blocks/index.ts'
import { chunkFile, scanFolder } from '../../src/files/index.ts'
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

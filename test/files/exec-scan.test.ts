import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { chunk } from '../../src/blocks/index.ts'
import { scanFolder } from '../../src/files/index.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'

/**
 * The scanner on the fake disk: what it shares and what it skips (and why),
 * a rescan that reads only what changed, and a file its user changes while
 * the scanner reads it (real disks make that a race; here it is a rule).
 */
const T = Date.UTC(2026, 0, 1)
const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex')

describe('scanner on the fake disk', () => {
  test('files with their bits and chunks; the work area, links, ignored and unsharable names skipped, said why', async () => {
    const disk = new MemoryDisk()
    const big = crypto.randomBytes(600 * 1024)
    disk.put('/f/a.txt', 'hello', T)
    disk.put('/f/deep/er/big.bin', big, T)
    disk.put('/f/run.sh', '#!/bin/sh\n', T)
    disk.vol.chmodSync('/f/run.sh', 0o755)
    disk.put('/f/.samepageignore', '*.tmp\n')
    disk.put('/f/notes.tmp', 'x')
    disk.put('/f/.samepage/tmp/x.part', 'never shared')
    disk.put('/f/back\\slash', 'x')
    disk.vol.mkdirSync('/f/empty-dir')
    disk.vol.symlinkSync('/f/a.txt', '/f/link')
    const r = await scanFolder('/f', { fs: disk.fs })
    const byPath = new Map(r.files.map(f => [f.path, f]))
    assert.deepEqual([...byPath.keys()].sort(), ['.samepageignore', 'a.txt', 'deep/er/big.bin', 'run.sh'])
    assert.deepEqual(r.dirs.sort(), ['deep', 'deep/er', 'empty-dir'])
    assert.equal(byPath.get('run.sh')?.mode, 0o755)
    assert.equal(byPath.get('a.txt')?.mtimeMs, T)
    assert.deepEqual(byPath.get('deep/er/big.bin')?.chunks.map(([h, n]) => [hex(h), n]),
      chunk(big).map(c => [crypto.hash('sha256', c, 'hex'), c.length]), 'the chunks of the bytes, cut as anywhere')
    const why = Object.fromEntries(r.skipped.map(s => [s.path, s.problem]))
    assert.match(why['link'] ?? '', /symbolic link/)
    assert.match(why['notes.tmp'] ?? '', /ignored by \.samepageignore/)
    assert.match(why['back\\slash'] ?? '', /cannot be shared/)
    assert.equal('.samepage' in why, false, 'the work area is not even listed')
  })

  test('a rescan reads only the files whose stat changed', async () => {
    const disk = new MemoryDisk()
    disk.put('/f/a.txt', 'one', T)
    disk.put('/f/b.txt', 'two', T)
    const first = await scanFolder('/f', { fs: disk.fs })
    assert.equal(first.filesRead, 2)
    const previous = new Map(first.files.map(f => [f.path, f]))
    assert.equal((await scanFolder('/f', { fs: disk.fs, previous })).filesRead, 0)
    disk.put('/f/b.txt', 'two, edited', T + 1000)
    const third = await scanFolder('/f', { fs: disk.fs, previous })
    assert.equal(third.filesRead, 1)
    assert.equal(third.files.find(f => f.path === 'b.txt')?.size, 'two, edited'.length)
  })

  test('a file changed while it is read is read again: its chunks are those of one state of it', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.put('/f/log.txt', 'first state', T)
    const final = 'second state, written while the scanner read the first'
    faults.before('read', /log\.txt$/, () => { disk.put('/f/log.txt', final, T + 5000) })
    const r = await scanFolder('/f', { fs: faults.fs })
    const file = r.files.find(f => f.path === 'log.txt')
    assert.equal(file?.size, final.length)
    assert.equal(file?.mtimeMs, T + 5000)
    assert.deepEqual(file?.chunks.map(([h, n]) => [hex(h), n]), [[crypto.hash('sha256', final, 'hex'), final.length]])
  })

  test('a big file changed while it is read is read again at once, not first to its end', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const mib = 1024 * 1024
    disk.put('/f/big.bin', crypto.randomBytes(8 * mib), T)
    const final = crypto.randomBytes(8 * mib)
    // Written over just as the first read of it begins.
    faults.before('read', /big\.bin$/, () => { disk.put('/f/big.bin', final, T + 5000) })
    const r = await scanFolder('/f', { fs: faults.fs })
    const file = r.files.find(f => f.path === 'big.bin')
    assert.deepEqual(file?.chunks.map(([h, n]) => [hex(h), n]), chunk(final).map(c => [crypto.hash('sha256', c, 'hex'), c.length]))
    // Its reads of 1 MiB: one, then the whole file once (18 when the first state was read to its end first).
    const reads = faults.calls.filter(c => c === 'read /f/big.bin').length
    assert.ok(reads <= 11, `${reads} reads of an 8 MiB file`)
  })

  test('a small file is read once, up to the size its stat gave; one that grew meanwhile under the same mtime is read again', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.put('/f/small.txt', 'abc', T)
    disk.put('/f/grows.txt', 'abc', T)
    faults.before('read', /grows\.txt$/, () => { disk.put('/f/grows.txt', 'abcdef', T) })
    const r = await scanFolder('/f', { fs: faults.fs })
    // No second read to meet the end: the stat after the read says the file is still that size.
    assert.equal(faults.calls.filter(c => c === 'read /f/small.txt').length, 1)
    const grown = r.files.find(f => f.path === 'grows.txt')
    assert.equal(grown?.size, 6)
    assert.deepEqual(grown?.chunks.map(([h, n]) => [hex(h), n]), [[crypto.hash('sha256', 'abcdef', 'hex'), 6]])
  })

  test('a file that never holds still is not shared half-read: the scan says so, and the next one tries again', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    disk.put('/f/busy.db', 'v0', T)
    let n = 0
    faults.before('read', /busy\.db$/, () => { n++; disk.put('/f/busy.db', `v${n}`, T + n * 1000) }, { times: Infinity })
    disk.put('/f/calm.txt', 'scanned beside it', T)
    const r = await scanFolder('/f', { fs: faults.fs })
    assert.deepEqual(r.files.map(f => f.path), ['calm.txt'], 'the rest of the folder is scanned')
    assert.deepEqual(r.unread.map(u => u.path), ['busy.db'])
    assert.match(r.unread[0]?.problem ?? '', /^not scanned: it kept changing while it was read \(3 tries\); it is /)
    faults.heal()
    const again = await scanFolder('/f', { fs: faults.fs })
    assert.equal(again.files.find(f => f.path === 'busy.db')?.size, `v${n}`.length)
  })
})

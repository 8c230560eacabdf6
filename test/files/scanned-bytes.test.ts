import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ScannedFiles } from '../../src/files/pass-state.ts'
import type { ScannedFile } from '../../src/files/scanner.ts'
import { MemoryDisk } from './fake-fs.ts'
import { fakeFolder, THEM } from './fake-folder.ts'

/**
 * A folder's status gives the bytes of its files from a running total (pass-state.ts ScannedFiles), not a walk of
 * every file: the total must stay the sum of the sizes through every way the map changes, and through a pass's
 * writes, replacements, deletions and scans.
 */
const T = Date.UTC(2026, 0, 1)

function file (p: string, size: number): ScannedFile {
  return { path: p, size, mode: 0o644, mtimeMs: T, ino: 1, chunks: [] }
}

function summed (files: ScannedFiles): number {
  let n = 0
  for (const f of files.values()) n += f.size
  return n
}

test('the running total is the sum of the sizes after any mix of sets, replacements, deletions and clears', () => {
  const given = new ScannedFiles([['a', file('a', 10)], ['b', file('b', 20)], ['a', file('a', 5)]])
  assert.equal(given.bytes, 25, 'a path given twice counts once, at its last size')
  const files = new ScannedFiles()
  let seed = 7
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  for (let step = 0; step < 5_000; step++) {
    const p = `f${next(50)}`
    const op = next(20)
    if (op === 0) files.clear()
    else if (op < 8) files.delete(p) // often a path not there
    else files.set(p, file(p, next(3) === 0 ? 0 : next(1 << 30)))
    assert.equal(files.bytes, summed(files), `after step ${step}`)
  }
})

test('status().localBytes follows the files a pass writes, replaces and deletes, and a scan finds', async () => {
  const disk = new MemoryDisk()
  disk.put('/f/mine.txt', 'x'.repeat(100), T)
  const f = await fakeFolder(disk, disk.fs, '/f')
  assert.equal(f.sync.status().localBytes, 100)

  const old = await f.theirs('docs/a.txt', 'a'.repeat(1_000))
  await f.theirs('docs/b.txt', 'b'.repeat(3_000))
  await f.sync.sync()
  assert.equal(f.sync.status().localBytes, 4_100, 'two files written')

  await f.theirs('docs/a.txt', 'A'.repeat(50), { mtimeMs: T + 1000, supersedes: [old] })
  await f.sync.sync()
  assert.equal(disk.vol.readFileSync('/f/docs/a.txt', 'utf8'), 'A'.repeat(50))
  assert.equal(f.sync.status().localBytes, 3_150, 'one replaced by a smaller version')

  const b = f.space.file('docs/b.txt')?.current.id as string
  f.space.add(THEM, {
    path: 'docs/b.txt', size: 0, mode: 0o644, mtimeMs: T + 2000, deleted: true, chunks: [],
    supersedes: [Buffer.from(b, 'hex')]
  })
  await f.sync.sync()
  assert.equal(disk.vol.existsSync('/f/docs/b.txt'), false)
  assert.equal(f.sync.status().localBytes, 150, 'one deleted')

  disk.put('/f/new.bin', 'n'.repeat(7), T)
  disk.vol.unlinkSync('/f/mine.txt')
  await f.sync.sync()
  assert.equal(f.sync.status().localBytes, 57, 'a file made and one removed on this disk, found by the scan')
  assert.equal(f.sync.status().localFiles, 2)
})

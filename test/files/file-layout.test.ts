import { test } from 'node:test'
import assert from 'node:assert/strict'
import { shadowedPaths } from '../../src/files/file-layout.ts'
import { newDirectories, withPathsBelow } from '../../src/files/path-sets.ts'
import { diskReserveBytes } from '../../src/files/disk-reserve.ts'

const file = (path: string, deleted = false): { path: string, current: { deleted: boolean } } => ({ path, current: { deleted } })

test('a file under which another current record lies is set aside, whatever the order of the records', () => {
  const records = [file('x'), file('x/y'), file('a/b/c'), file('a'), file('a/b'), file('gone'), file('gone/z', true), file('keep.txt'), file('dir/kept')]
  const want = ['a', 'a/b', 'x']
  // Every rotation, forwards and backwards.
  for (let i = 0; i < records.length; i++) {
    const rotated = [...records.slice(i), ...records.slice(0, i)]
    assert.deepEqual([...shadowedPaths(rotated)].sort(), want)
    assert.deepEqual([...shadowedPaths(rotated.reverse())].sort(), want)
  }
  assert.deepEqual([...shadowedPaths([file('x', true), file('x/y')])], [], 'a deleted file shadows nothing and is not shadowed')
})

test('the disk reserve: the configured value, else 1% of the disk, at least 256 MiB, at most 5%', () => {
  const MiB = 1024 * 1024
  assert.equal(diskReserveBytes(100 * 1024 * MiB, 5), 5)
  assert.equal(diskReserveBytes(100 * 1024 * MiB, undefined), 1024 * MiB)
  assert.equal(diskReserveBytes(10 * 1024 * MiB, undefined), 256 * MiB)
  assert.equal(diskReserveBytes(2 * MiB, undefined), Math.floor(0.05 * 2 * MiB))
})

test('path sets: each directory counted once, by the first path under it in sorted order; paths with others below', () => {
  const paths = ['a/b/d.txt', 'top.txt', 'a/e/f.txt', 'a/b/c.txt', 'a/b', 'a/b.txt', 'a/bc/x']
  assert.deepEqual(newDirectories(paths), [0, 0, 1, 1, 1, 0, 1])
  assert.equal(newDirectories(paths).reduce((n, k) => n + k, 0), 4, 'a, a/b, a/bc, a/e')
  assert.deepEqual([...withPathsBelow(paths)].sort(), ['a/b'])
  assert.deepEqual([...withPathsBelow(['x-y', 'x.y', 'x', 'x/z'])], ['x'], 'x-y and x.y sort between x and x/z')
  const deep = Array.from({ length: 127 }, (_, i) => `d${i}`).join('/')
  assert.deepEqual([...shadowedPaths([file(deep), file(`${deep}/leaf`), file(`${deep}x`)])], [deep])
  assert.deepEqual(newDirectories([`${deep}/leaf`, `${deep}x`]), [127, 0])
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { treeHashes } from './tree.ts'

/**
 * The tests' tree comparison keeps a file's hash under its stat (tree.ts): it must never answer an old hash for
 * bytes that changed, or a wait for two folders to be the same could pass on a stale hash. Checked for a file
 * whose hash is not kept (changed within the last 2 s) and for one whose hash is (older): the wait for its change
 * time to age is a wait for a condition, not a race, whatever the machine's speed.
 */
test('a file rewritten with the same size and its mtime put back is hashed again, its hash kept or not', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-tree-'))
  try {
    const file = path.join(root, 'f.bin')
    const mtime = new Date(Date.now() - 60_000)
    for (const aged of [false, true]) {
      fs.writeFileSync(file, Buffer.alloc(4096, 1))
      fs.utimesSync(file, mtime, mtime)
      while (aged && Date.now() - fs.statSync(file).ctimeMs <= 2_100) await new Promise(resolve => setTimeout(resolve, 100))
      const first = treeHashes(root)
      assert.deepEqual(treeHashes(root), first, `aged ${aged}: the same bytes, the same hash`)
      fs.writeFileSync(file, Buffer.alloc(4096, 2))
      fs.utimesSync(file, mtime, mtime)
      assert.notDeepEqual(treeHashes(root), first, `aged ${aged}: new bytes of the same size and mtime, a new hash`)
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

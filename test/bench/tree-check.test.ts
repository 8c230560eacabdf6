import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitFiles } from '../../bench/tree-check.ts'
import { warmPageCache } from '../../bench/warm-memory.ts'

/**
 * The folder bench's arrival checks (bench/tree-check.ts): each receiver's moment is when its copy took the source's
 * size and mtime, its bytes checked only once all have arrived, and a copy with the right size and mtime but the
 * wrong bytes waited for until it is right. And the page cache warm-up (bench/warm-memory.ts) leaves nothing behind.
 * Arrivals are made to happen by the test (files written after the wait started), never raced against a clock.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-tree-check-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

function writeLike (file: string, source: string, bytes: Buffer): void {
  fs.writeFileSync(file, bytes)
  const st = fs.statSync(source)
  fs.utimesSync(file, st.atime, st.mtime)
}

test('waitFiles: a moment per receiver, in the order they arrived; a copy with wrong bytes waited for', async () => {
  const source = path.join(root, 'source.bin')
  const bytes = Buffer.alloc(64 * 1024, 7)
  fs.writeFileSync(source, bytes)
  const [a, b] = [path.join(root, 'a.bin'), path.join(root, 'b.bin')]
  const waiting = waitFiles([a, b], source, 60_000)
  let settled = false
  void waiting.then(() => { settled = true })
  writeLike(b, source, bytes)
  // a arrives with the right size and mtime but other bytes: an older version, as far as the poll can tell.
  writeLike(a, source, Buffer.alloc(64 * 1024, 8))
  await new Promise(resolve => setTimeout(resolve, 300))
  assert.equal(settled, false, 'not settled while a holds other bytes')
  writeLike(a, source, bytes)
  const [atA, atB] = await waiting
  assert.ok(atB !== undefined && atA !== undefined && atB <= atA, `b arrived first (${atB}), a once right (${atA})`)
})

test('warmPageCache writes under the directory it is given and leaves nothing there', async () => {
  const dir = path.join(root, 'warm')
  fs.mkdirSync(dir)
  await warmPageCache(dir, 8 * 1024 * 1024)
  assert.deepEqual(fs.readdirSync(dir), [])
})

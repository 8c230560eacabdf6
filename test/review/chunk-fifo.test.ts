/**
 * Review (chunks served with readSync, stop 24): the read on the main thread
 * is reached only after the file is opened, and the open is a plain
 * open(path, 'r') on libuv's thread pool. A shared file replaced by a FIFO
 * between the scan and a peer's request for one of its chunks (by the user,
 * or any local program) makes that open wait for a writer that never comes:
 * one thread-pool thread stuck per such chunk asked, for the process's life.
 * With four stuck (libuv's default pool), every other thread-pool call waits
 * too, and since stop 24 that includes the WAL fdatasync of the durable
 * gate: every peer's reading pauses, nothing more is told or acknowledged.
 * The identity check (fstat: not the scanned inode) would refuse the FIFO,
 * but it never runs. Expected: opened without blocking (O_NONBLOCK, which a
 * regular file ignores), the FIFO is found changed at once. Likewise the
 * open follows a link put in the file's place: the fstat then refuses a
 * device (size 0), but only after opening it, and opening some devices acts
 * (a tape rewinds, a watchdog arms) in a daemon that may run as root.
 * Expected: no link followed (O_NOFOLLOW; a scanned file is never a link).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ChunkIndex, scanFolder } from '../../src/files/index.ts'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import { toHex } from '../../src/codec/index.ts'

test('a chunk of a file replaced by a FIFO is answered "changed", no thread left waiting on the FIFO', {
  timeout: 15_000
}, async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-fifo-'))
  const file = path.join(root, 'data.bin')
  t.after(() => {
    // A thread still blocked opening the FIFO for reading is released by a writer's open.
    try { fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)) } catch {}
    fs.rmSync(root, { recursive: true, force: true })
  })
  fs.writeFileSync(file, crypto.randomBytes(256 * 1024))
  const scan = await scanFolder(root)
  const index = new ChunkIndex(root)
  index.rebuild(scan.files, scan.read)
  const first = toHex((scan.files[0] as (typeof scan.files)[0]).chunks[0]![0])

  fs.unlinkSync(file)
  execFileSync('mkfifo', [file])
  assert.equal(await index.serve(first), 'changed')
})

test('a chunk of a file swapped for a link to a device is answered "changed", the device never opened', async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-link-'))
  t.after(() => { fs.rmSync(root, { recursive: true, force: true }) })
  const file = path.join(root, 'data.bin')
  fs.writeFileSync(file, crypto.randomBytes(64 * 1024))
  const scan = await scanFolder(root)
  const opened: string[] = []
  const index = new ChunkIndex(root, () => {}, {
    ...nodeFolderFs,
    open: async (p, flags, mode) => {
      const handle = await nodeFolderFs.open(p, flags, mode)
      opened.push(fs.realpathSync(p))
      return handle
    }
  })
  index.rebuild(scan.files, scan.read)
  const first = toHex((scan.files[0] as (typeof scan.files)[0]).chunks[0]![0])
  fs.unlinkSync(file)
  fs.symlinkSync('/dev/zero', file)
  assert.equal(await index.serve(first), 'changed')
  assert.deepEqual(opened, [], 'the device behind the link was not opened')
})

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunkFile, FolderSync } from '../../src/files/index.ts'
import type { ChunkFetcher } from '../../src/blocks/index.ts'
import type { FolderHost, RecordedVersion } from '../../src/files/index.ts'
import { toHex } from '../../src/codec/index.ts'
import { ME, MemorySpace, THEM } from './fake-folder.ts'

/**
 * A deletion racing a local edit, on a real directory (the lstat before the unlink goes through the directory's
 * descriptor, /proc/self/fd, as every write does; the in-memory disk's case is in exec-user-change.test.ts). Another
 * member deletes old.txt and adds big.bin. A pass plans the deletion from its scan (old.txt unchanged since this node
 * knew it) but carries deletions out last, after every write: with a big fetch, hours after the scan. The user edits
 * old.txt meanwhile: it is not deleted, the folder says why, and the next pass records the edit, which wins over the
 * deletion (README: "A file edited on one node and deleted on another is kept"). Deterministic: no watcher, and a
 * fetcher that holds big.bin's chunk until the edit is made.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-delete-after-edit-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

test('a file edited while a pass writes is not deleted by the deletion planned at its scan', async () => {
  const dir = path.join(root, 'f')
  fs.mkdirSync(dir)
  const space = new MemorySpace()
  let fetching: () => void = () => {}
  const inFetch = new Promise<void>(resolve => { fetching = resolve })
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  const held = new Map<string, Uint8Array>()
  const fetcher: ChunkFetcher = {
    verifies: false,
    plan: () => {},
    get: async hash => { fetching(); await gate; return held.get(toHex(hash)) as Uint8Array },
    release: () => {},
    close: () => {},
    progress: () => ({ bytesReceived: 0, rateBytesPerSecond: 0, peers: [] })
  }
  const host: FolderHost = {
    files: () => space.files(),
    record: versions => versions.map(v => space.add(ME, v)),
    fetcher: () => fetcher
  }
  fs.writeFileSync(path.join(dir, 'old.txt'), 'version 1\n')
  const stateFile = path.join(root, 'f.json')
  const sync = new FolderSync({ root: dir, mode: 'send-receive', stateFile, host, watch: false, rescanMs: 3_600_000 })
  await sync.start()
  await sync.sync()
  const own = space.file('old.txt')?.current as RecordedVersion
  assert.ok(own !== undefined, 'old.txt is recorded')

  space.add(THEM, { path: 'old.txt', size: 0, mode: own.mode, mtimeMs: Date.now(), deleted: true, chunks: [],
    supersedes: [Buffer.from(own.id, 'hex')] })
  const bigBytes = Buffer.from('a new file from the other member\n')
  const src = path.join(root, 'big.src')
  fs.writeFileSync(src, bigBytes)
  const chunks = await chunkFile(src)
  for (const [h] of chunks) held.set(toHex(h), bigBytes)
  space.add(THEM, { path: 'big.bin', size: bigBytes.length, mode: 0o644, mtimeMs: Date.now(), deleted: false,
    supersedes: [], chunks })

  const pass = sync.sync()
  await inFetch // the pass has scanned and planned, and is fetching big.bin
  const edit = 'version 2: the user\'s edit, made while the pass fetched\n'
  fs.writeFileSync(path.join(dir, 'old.txt'), edit)
  release()
  await pass
  assert.equal(fs.readFileSync(path.join(dir, 'old.txt'), 'utf8'), edit, 'the edit is not deleted')
  assert.equal(fs.readFileSync(path.join(dir, 'big.bin'), 'utf8'), bigBytes.toString(), 'the write went on')
  const errors = sync.status().errors
  assert.equal(errors.length, 1, JSON.stringify(errors))
  assert.equal(errors[0]?.path, 'old.txt')
  assert.match(errors[0]?.error ?? '', /^waiting: not deleted: it changed here after the scan/)

  await sync.sync()
  const now = space.file('old.txt')
  assert.equal(now?.current.deleted, false, 'the edit is recorded and wins over the deletion')
  assert.equal(now?.current.author, ME)
  assert.equal(now?.current.size, Buffer.byteLength(edit))
  assert.equal(fs.readFileSync(path.join(dir, 'old.txt'), 'utf8'), edit)
  assert.deepEqual(sync.status().errors, [])
  await sync.stop()
})

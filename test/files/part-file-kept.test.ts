import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunkFile, FolderSync, partPath } from '../../src/files/index.ts'
import type { FolderHost, RecordedFile, RecordedVersion } from '../../src/files/index.ts'
import { NoSourceError } from '../../src/blocks/index.ts'
import type { ChunkFetcher } from '../../src/blocks/index.ts'
import { toHex } from '../../src/codec/index.ts'

/**
 * A transfer cut short keeps its part file, for the resume: a chunk that no
 * connected peer has now (NoSourceError) is not a refusal of the file
 * system, although it carries a `code` as every error of samepage does. The
 * next pass fetches only what the part file lacks.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-part-kept-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

test('a file missing one chunk keeps its part file; the next pass fetches only that chunk', { timeout: 60_000 }, async () => {
  const source = path.join(root, 'source.bin')
  fs.writeFileSync(source, crypto.randomBytes(1024 * 1024))
  const bytes = fs.readFileSync(source)
  const chunks = await chunkFile(source)
  assert.ok(chunks.length >= 3, `a file of several chunks (${chunks.length})`)
  const held = new Map<string, Uint8Array>()
  let offset = 0
  for (const [hash, size] of chunks) {
    held.set(toHex(hash), bytes.subarray(offset, offset + size))
    offset += size
  }
  const lastHash = toHex((chunks.at(-1) as (typeof chunks)[number])[0])
  const missing = held.get(lastHash) as Uint8Array
  held.delete(lastHash)

  let gets = 0
  const fetcher: ChunkFetcher = {
    verifies: false,
    plan: () => {},
    get: async hash => {
      gets++
      const found = held.get(toHex(hash))
      if (found === undefined) throw new NoSourceError(toHex(hash))
      return found
    },
    release: () => {},
    close: () => {},
    progress: () => ({ bytesReceived: 0, rateBytesPerSecond: 0, peers: [] })
  }
  const version: RecordedVersion = {
    id: 'f'.repeat(64), author: 'a'.repeat(64), size: bytes.length, mode: 0o644, mtimeMs: Date.now(), deleted: false, chunks
  }
  const recorded: RecordedFile = { path: 'big.bin', current: version, conflicts: [] }
  const host: FolderHost = { files: () => [recorded], record: () => [], fetcher: () => fetcher }
  const dir = path.join(root, 'folder')
  fs.mkdirSync(dir)
  const sync = new FolderSync({ root: dir, mode: 'receive-only', stateFile: path.join(root, 'state.json'), host, watch: false, rescanMs: 3_600_000 })
  await sync.start()
  await sync.sync()

  assert.equal(fs.existsSync(path.join(dir, 'big.bin')), false, 'nothing under the name')
  const errors = sync.status().errors
  assert.ok(errors.some(e => e.path === 'big.bin' && /^waiting: no connected peer has chunk/.test(e.error)), JSON.stringify(errors))
  assert.ok(fs.existsSync(partPath(dir, version.id)), 'the part file stays, for the resume')

  held.set(lastHash, missing)
  gets = 0
  await sync.sync()
  await sync.stop()
  assert.ok(fs.readFileSync(path.join(dir, 'big.bin')).equals(bytes), 'written whole')
  assert.equal(gets, 1, 'only the chunk the part file lacked was fetched again')
})

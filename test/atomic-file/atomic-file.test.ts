/**
 * atomic-file/: the file is the old one or the new one, never a mix or
 * nothing; it is private to its owner; a missing file reads as the default.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeFileAtomic, readFileOr, readTextOr } from '../../src/atomic-file/index.ts'
import type { AtomicFileIo } from '../../src/atomic-file/index.ts'

function tempDir (): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-atomic-'))
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777

function failing (call: keyof AtomicFileIo, code = 'ENOSPC'): AtomicFileIo {
  const fail = (): never => { throw Object.assign(new Error(`${code}: injected`), { code }) }
  return { ...fs, [call]: fail }
}

test('writes the whole file with mode 0600, replacing the old one, and leaves no temporary file', () => {
  const dir = tempDir()
  const file = path.join(dir, 'state.json')
  writeFileAtomic(file, '{"v":1}')
  assert.equal(fs.readFileSync(file, 'utf8'), '{"v":1}')
  assert.equal(modeOf(file), 0o600)
  writeFileAtomic(file, Uint8Array.of(1, 2, 3))
  assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3])
  assert.equal(modeOf(file), 0o600)
  assert.deepEqual(fs.readdirSync(dir), ['state.json'])
})

test('a file made readable by others is replaced by a private one', () => {
  const dir = tempDir()
  const file = path.join(dir, 'peers.json')
  fs.writeFileSync(file, 'old')
  fs.chmodSync(file, 0o644)
  writeFileAtomic(file, 'new')
  assert.equal(modeOf(file), 0o600)
})

test('if a step on the temporary file fails, the old file is intact and the temporary file gone', () => {
  for (const call of ['writeSync', 'fsyncSync', 'renameSync', 'openSync'] as const) {
    const dir = tempDir()
    const file = path.join(dir, 'deployment.json')
    writeFileAtomic(file, 'the old, whole content')
    assert.throws(() => writeFileAtomic(file, 'the new content', 0o600, failing(call)), { code: 'ENOSPC' }, call)
    assert.equal(fs.readFileSync(file, 'utf8'), 'the old, whole content', call)
    assert.deepEqual(fs.readdirSync(dir), ['deployment.json'], call)
  }
})

test('a write that fails on a missing file leaves no file at all', () => {
  const dir = tempDir()
  const file = path.join(dir, 'api.json')
  assert.throws(() => writeFileAtomic(file, 'x', 0o600, failing('writeSync', 'EIO')), { code: 'EIO' })
  assert.deepEqual(fs.readdirSync(dir), [])
})

test('a short write is continued until every byte is written', () => {
  const dir = tempDir()
  const file = path.join(dir, 'big.json')
  const content = 'x'.repeat(10_000)
  const oneByteAtATime: AtomicFileIo = {
    ...fs,
    writeSync: ((fd: number, buffer: Uint8Array, offset: number) => fs.writeSync(fd, buffer, offset, 1)) as
      AtomicFileIo['writeSync']
  }
  writeFileAtomic(file, content, 0o600, oneByteAtATime)
  assert.equal(fs.readFileSync(file, 'utf8'), content)
})

test('a temporary file left by a crash of an earlier process with this pid is replaced', () => {
  const dir = tempDir()
  const file = path.join(dir, 'identity.key')
  fs.writeFileSync(`${file}.${process.pid}.tmp`, 'half-written')
  writeFileAtomic(file, 'whole')
  assert.equal(fs.readFileSync(file, 'utf8'), 'whole')
  assert.deepEqual(fs.readdirSync(dir), ['identity.key'])
})

test('a directory that cannot be fsynced does not fail the write (the rename is done)', () => {
  const dir = tempDir()
  const file = path.join(dir, 'folders.json')
  let fsyncs = 0
  const io: AtomicFileIo = {
    ...fs,
    fsyncSync: (fd: number) => {
      if (++fsyncs === 2) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' })
      fs.fsyncSync(fd)
    }
  }
  writeFileAtomic(file, 'x', 0o600, io)
  assert.equal(fsyncs, 2, 'the file, then its directory')
  assert.equal(fs.readFileSync(file, 'utf8'), 'x')
})

test('a missing file reads as the default; an existing one as its bytes or text; other failures are thrown', () => {
  const dir = tempDir()
  const file = path.join(dir, 'config.json')
  assert.equal(readFileOr(file, null), null)
  assert.deepEqual(readTextOr(file, {}), {})
  fs.writeFileSync(file, 'héllo')
  assert.equal(readTextOr(file, ''), 'héllo')
  assert.deepEqual(readFileOr(file, null), Buffer.from('héllo'))
  assert.throws(() => readTextOr(dir, ''), { code: 'EISDIR' })
  assert.equal(readTextOr(path.join(dir, 'no-such-dir', 'x.json'), 'default'), 'default')
})

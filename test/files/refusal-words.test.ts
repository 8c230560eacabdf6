import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { NoSourceError } from '../../src/blocks/index.ts'
import { FolderProblem } from '../../src/files/index.ts'
import { describePassError, describeWriteError } from '../../src/files/folder-errors.ts'
import { errno, FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'

/**
 * A file system's refusal as a path shows it: what happened and what to do, with its code, never Node's message,
 * which names the safe writer's /proc/self/fd path and the work area's part file (not the user's file) and says
 * nothing of what to do (a review: "not written: EXDEV: cross-device link not permitted, rename '/proc/self/fd/…'").
 */
const PART = `/f/.samepage/tmp/${'ab'.repeat(32)}.part`

/** A refusal of the safe writer's last rename, as Node raises it. */
function renameRefused (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: it failed, rename '${PART}' -> '/proc/self/fd/23/new.txt'`),
    { code, errno: -1, syscall: 'rename', path: PART, dest: '/proc/self/fd/23/new.txt' })
}

const CODES = ['EXDEV', 'EIO', 'EMFILE', 'ENFILE', 'ENOENT', 'ELOOP', 'ETXTBSY', 'EBUSY', 'EFBIG', 'EOVERFLOW',
  'ESTALE', 'ENOTEMPTY', 'EEXIST', 'ENOTCONN', 'EUNHEARDOF']

function assertNothingInternal (message: string): void {
  assert.doesNotMatch(message, /\/proc\//)
  assert.doesNotMatch(message, /\.part\b|\.samepage\/tmp|[0-9a-f]{64}/)
}

describe('describeWriteError', () => {
  for (const code of CODES) {
    test(`${code}: named, in words, with what to do; nothing internal`, () => {
      for (const failed of ['not written', 'not deleted']) {
        const message = describeWriteError(renameRefused(code), failed)
        assert.ok(message.startsWith(`${failed}: `), message)
        assert.ok(message.includes(`(${code}`), message)
        assert.ok(message.includes(';'), `says what to do or what happens next: ${message}`)
        assertNothingInternal(message)
      }
    })
  }

  test('a real refusal through /proc/self/fd: in words, no /proc path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'refusal-'))
    const handle = await fs.promises.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)
    try {
      const err = await fs.promises.rename(path.join(dir, 'gone.part'), `/proc/self/fd/${handle.fd}/new.txt`)
        .then(() => assert.fail('renamed a file that is not there'), (e: NodeJS.ErrnoException) => e)
      assert.equal(err.code, 'ENOENT')
      assert.equal(describeWriteError(err),
        'not written: it, or a directory of its path, disappeared meanwhile (ENOENT); it is tried again')
    } finally {
      await handle.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the named refusals keep their words', () => {
    assert.equal(describeWriteError(renameRefused('EACCES')),
      'not written: no permission here (EACCES); check the folder\'s permissions')
    assert.equal(describeWriteError(renameRefused('ENOSPC')),
      'not written: the disk is full; free some space (nothing was half-written; it is tried again)')
  })

  test('samepage\'s own errors say what they say, an errno code of theirs or not', () => {
    const own = Object.assign(new Error('sub does not exist on this node'), { code: 'ENOENT' })
    assert.equal(describeWriteError(own), 'not written: sub does not exist on this node')
    assert.equal(describeWriteError(new NoSourceError('ab'.repeat(32))).startsWith('waiting: '), true)
  })

  test('a code not spelled as Node spells one is not shown as it is', () => {
    const odd = Object.assign(new Error('x'), { code: 'weird\ncode', syscall: 'open' })
    assert.match(describeWriteError(odd), /^not written: the file system refused it \(no code given\); /)
    const inherited = Object.assign(new Error('x'), { code: 'constructor', syscall: 'open' })
    assert.match(describeWriteError(inherited), /^not written: the file system refused it \(no code given\); /)
  })
})

describe('describePassError', () => {
  test('a file the scan cannot read: its path in the folder, the refusal in words', () => {
    const err = errno('EIO', 'open', '/f/docs/report.pdf')
    assert.equal(describePassError(err, '/f'), 'docs/report.pdf: the disk reported an input/output error (EIO); ' +
      'check the disk and its connection (the system log says more)')
  })

  test('a path outside the folder (a /proc/self/fd one) is not shown', () => {
    const message = describePassError(renameRefused('ESTALE'), '/home/u/f')
    assert.equal(message, 'the network file system lost track of it (ESTALE); mount the folder again')
  })

  test('samepage\'s own error as it is', () => {
    assert.equal(describePassError(new FolderProblem('/f/.samepage is gone'), '/f'), '/f/.samepage is gone')
  })

  test('a file the scan may not read: the folder status names it and what to do; synced once readable', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const f = await fakeFolder(disk, faults.fs, '/f')
    disk.put('/f/docs/secret.txt', 'not for this node')
    faults.fail('open', /secret\.txt$/, 'EACCES')
    await f.sync.sync()
    assert.deepEqual(f.errors(), {
      'docs/secret.txt': 'not scanned: no permission (EACCES); give the user this node runs as access to it, or add ' +
        'it to .samepageignore; until a scan reads it, this node keeps it as it last knew it (no change or deletion ' +
        'recorded, nothing written over it)'
    })
    faults.heal()
    await f.sync.sync()
    assert.deepEqual(f.errors(), {})
    assert.equal(f.space.file('docs/secret.txt')?.current.size, 'not for this node'.length)
  })
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from '../../src/store/index.ts'
import { hasCode } from '../../src/ids/index.ts'
import { spaceKey } from '../helpers/ids.ts'

/**
 * The store's file (store/sqlite-file.ts): private to its user whatever the
 * umask and the directory's mode, and a file SQLite cannot use is refused
 * naming it and the way out, left as it was.
 */
function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-store-file-'))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777

function withUmask<T> (mask: number, fn: () => T): T {
  const old = process.umask(mask)
  try { return fn() } finally { process.umask(old) }
}

test('a new store.db and its -wal and -shm are 0600 under umask 022 in a directory of mode 755', t => {
  const dir = tempDir(t)
  fs.chmodSync(dir, 0o755)
  const file = path.join(dir, 'store.db')
  const store = withUmask(0o022, () => SqliteStore.open(file))
  try {
    store.commit({ space: spaceKey('s'), genesis: { bytes: Uint8Array.of(1), sig: Uint8Array.of(2) } }) // in the WAL
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(f), 0o600, f)
  } finally {
    store.close()
  }
})

test('a store.db an earlier version left 0644 (and its WAL) is made 0600 when opened', t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'store.db')
  SqliteStore.open(file).close()
  for (const f of [file, `${file}-wal`]) {
    if (!fs.existsSync(f)) fs.writeFileSync(f, '')
    fs.chmodSync(f, 0o644)
  }
  const store = SqliteStore.open(file)
  try {
    assert.equal(modeOf(file), 0o600)
    assert.equal(modeOf(`${file}-wal`), 0o600, 'the WAL left beside it too')
  } finally {
    store.close()
  }
})

test('a store.db that is no database, or a damaged one, is refused naming it and the way out, left as it was', t => {
  const cases: Array<[string, Buffer]> = [
    ['other bytes', Buffer.from('not a database\n'.repeat(300))],
    ['cut short', Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(84), Buffer.alloc(9900, 7)])]
  ]
  for (const [what, bytes] of cases) {
    const file = path.join(tempDir(t), 'store.db')
    fs.writeFileSync(file, bytes, { mode: 0o600 })
    let err: unknown
    try { SqliteStore.open(file).close() } catch (e) { err = e }
    assert.ok(hasCode(err, 'STORE_CORRUPT'), `${what}: ${String(err)}`)
    const message = (err as Error).message
    assert.ok(message.startsWith(`${file} is damaged or not a samepage store`), message)
    assert.match(message, /put a backup in its place/)
    assert.deepEqual(fs.readFileSync(file), bytes, `${what}: the file is left alone`)
  }
})

test('a store.db that cannot be opened (a directory) is refused naming it', t => {
  const file = path.join(tempDir(t), 'store.db')
  fs.mkdirSync(file)
  let err: unknown
  try { SqliteStore.open(file).close() } catch (e) { err = e }
  assert.ok(hasCode(err, 'STORE_CANTOPEN'), String(err))
  assert.ok((err as Error).message.startsWith(`${file} cannot be opened`), String(err))
})

test('a store made on a full disk (a 64 KiB tmpfs of the test\'s own) is refused as STORE_FULL, naming it', t => {
  // It said only "database or disk is full" (a review's probe).
  const dir = tempDir(t)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
  } catch {
    t.skip('cannot mount a tmpfs here (needs root)')
    return
  }
  try {
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(60 * 1024))
  } catch {
    // Full already: what the test wants.
  }
  const file = path.join(dir, 'store.db')
  let err: unknown
  try {
    SqliteStore.open(file).close()
  } catch (e) {
    err = e
  } finally {
    execFileSync('umount', [dir], { stdio: 'pipe' })
  }
  assert.ok(hasCode(err, 'STORE_FULL'), String(err))
  assert.ok((err as Error).message.startsWith(`${file} cannot be written: the disk holding it is full`), String(err))
})

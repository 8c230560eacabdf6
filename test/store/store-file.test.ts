import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from '../../src/store/index.ts'
import { spaceKey } from '../helpers/ids.ts'

/**
 * The store's file (store/sqlite-file.ts): private to its user whatever the
 * umask and the directory's mode.
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

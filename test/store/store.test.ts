import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/index.ts'
import { storeContract } from './contract.ts'

storeContract('MemoryStore', () => ({ store: new MemoryStore() }))

storeContract('SqliteStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-store-'))
  const file = path.join(dir, 'store.db')
  let last: Store = SqliteStore.open(file)
  return {
    store: last,
    reopen: () => (last = SqliteStore.open(file)),
    cleanup: () => {
      last.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})

describe('SqliteStore specifics', () => {
  function withFile (fn: (file: string) => void): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-store-'))
    try {
      fn(path.join(dir, 'store.db'))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  it('uses WAL and records its schema version', () => withFile(file => {
    const store = SqliteStore.open(file)
    store.close()
    store.close() // idempotent
    const db = new DatabaseSync(file)
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal')
      assert.equal(db.prepare('PRAGMA user_version').get()?.['user_version'], 1)
    } finally {
      db.close()
    }
  }))

  it('refuses a database with a newer schema version', () => withFile(file => {
    SqliteStore.open(file).close()
    const db = new DatabaseSync(file)
    db.exec('PRAGMA user_version = 99')
    db.close()
    assert.throws(() => SqliteStore.open(file), /schema version 99 is newer/)
  }))
})

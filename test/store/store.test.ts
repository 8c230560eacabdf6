import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/index.ts'
import { entryIdOf, hasCode } from '../../src/ids/index.ts'
import type { EntryId } from '../../src/ids/index.ts'
import { authorKey, spaceKey } from '../helpers/ids.ts'
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
      assert.equal(db.prepare('PRAGMA user_version').get()?.['user_version'], 4)
    } finally {
      db.close()
    }
  }))

  it('records the node it belongs to (schema 4), and a version 3 file gets the table by migration', () => withFile(file => {
    const AA = authorKey('aa')
    const store = SqliteStore.open(file)
    assert.equal(store.nodeAuthor(), undefined)
    store.recordNodeAuthor(AA)
    store.close()
    const reopened = SqliteStore.open(file)
    assert.equal(reopened.nodeAuthor(), AA)
    reopened.close()
    const db = new DatabaseSync(file)
    db.exec('DROP TABLE meta; PRAGMA user_version = 3')
    db.close()
    const migrated = SqliteStore.open(file)
    assert.equal(migrated.nodeAuthor(), undefined)
    migrated.close()
  }))

  it('refuses a database with a newer schema version', () => withFile(file => {
    SqliteStore.open(file).close()
    const db = new DatabaseSync(file)
    db.exec('PRAGMA user_version = 99')
    db.close()
    assert.throws(() => SqliteStore.open(file), /schema version 99 is newer/)
    assert.throws(() => SqliteStore.open(file), (err: unknown) => hasCode(err, 'SCHEMA_NEWER'), 'a stable code, not only words')
  }))
  it('migrates a version 1 database to version 2, reading back the same state', () => withFile(file => {
    const db = new DatabaseSync(file)
    db.exec('PRAGMA journal_mode = WAL')
    db.exec(V1_SCHEMA)
    db.exec('PRAGMA user_version = 1')
    const hex = (n: number): EntryId => entryIdOf(new Uint8Array(32).fill(n))
    // An id of another spelling, as only a version 1 file with synthetic ids held one (stored as TEXT): the
    // store reads it back as is, and only the store can name it.
    const ODD_ID = 'odd-id' as EntryId
    const [S1, S2, S3] = [spaceKey('s1'), spaceKey('s2'), spaceKey('s3')]
    const [AA, BB, CC] = [authorKey('aa'), authorKey('bb'), authorKey('cc')]
    const putEntry = db.prepare('INSERT INTO entries (space, author, epoch, seq, id, bytes, sig, verified, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    const putFeed = db.prepare('INSERT INTO feeds (space, author, epoch, count, head, frozen_at) VALUES (?, ?, ?, ?, ?, ?)')
    db.prepare('INSERT INTO genesis (space, bytes, sig) VALUES (?, ?, ?)').run(S1, Uint8Array.of(1), Uint8Array.of(2))
    for (let seq = 0; seq < 3; seq++) putEntry.run(S1, AA, 5, seq, hex(seq + 1), Uint8Array.of(seq), Uint8Array.of(9), seq === 2 ? 1 : 0, seq === 0 ? 'acl' : 'data')
    putFeed.run(S1, AA, 5, 3, hex(3), null)
    putEntry.run(S2, BB, 0, 0, ODD_ID, Uint8Array.of(7), Uint8Array.of(8), 1, 'acl')
    putFeed.run(S2, BB, 0, 1, ODD_ID, 0)
    putFeed.run(S2, CC, 1, 0, null, 4)
    const putFork = db.prepare('INSERT INTO forks (space, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    putFork.run(S2, CC, 1, 4, Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3), Uint8Array.of(4))
    putFork.run(S2, BB, 0, 0, Uint8Array.of(5), Uint8Array.of(6), Uint8Array.of(7), Uint8Array.of(8))
    db.prepare('INSERT INTO views (space, view, key, value) VALUES (?, ?, ?, ?)').run(S3, 'kv', Uint8Array.of(0xff), Uint8Array.of(1))
    db.close()

    const store = SqliteStore.open(file)
    try {
      assert.deepEqual(store.spaces(), [S1])
      assert.deepEqual(store.genesis(S1), { bytes: Uint8Array.of(1), sig: Uint8Array.of(2) })
      assert.deepEqual(store.feeds(S1), [{ author: AA, epoch: 5, count: 3, head: hex(3), frozenAt: null }])
      assert.deepEqual(store.entryById(S1, hex(2)), { author: AA, epoch: 5, seq: 1, id: hex(2), bytes: Uint8Array.of(1), sig: Uint8Array.of(9), verified: false, kind: 'data' })
      assert.deepEqual([...store.entries(S1, 'acl')].map(e => e.id), [hex(1)])
      assert.equal(store.lastVerified(S1, AA, 5, 3), 2)
      assert.deepEqual(store.feeds(S2), [{ author: BB, epoch: 0, count: 1, head: ODD_ID, frozenAt: 0 }, { author: CC, epoch: 1, count: 0, head: null, frozenAt: 4 }])
      assert.equal(store.entryById(S2, ODD_ID)?.seq, 0)
      assert.deepEqual(store.forks(S2).map(f => f.author), [CC, BB])
      assert.deepEqual([...store.viewRows(S3, 'kv')], [[Uint8Array.of(0xff), Uint8Array.of(1)]])
      // And it goes on from there.
      store.commit({ space: S1, entries: [{ author: AA, epoch: 5, seq: 3, id: hex(4), bytes: Uint8Array.of(3), sig: Uint8Array.of(9), verified: false, kind: 'data' }] })
      store.commit({ space: S1, verified: [hex(4)] })
      assert.equal(store.lastVerified(S1, AA, 5, 10), 3)
    } finally {
      store.close()
    }
    const check = new DatabaseSync(file)
    assert.equal(check.prepare('PRAGMA user_version').get()?.['user_version'], 4)
    check.close()
    const again = SqliteStore.open(file)
    try {
      assert.equal(again.feed(S1, AA, 5)?.count, 4)
    } finally {
      again.close()
    }
  }))

  it('migrates a version 2 database to version 3, reading back the same state and answering every lookup the same', () => withFile(file => {
    const hex = (n: number): EntryId => entryIdOf(new Uint8Array(32).fill(n))
    const ODD_ID = 'odd-id' as EntryId
    const [S1, S2] = [spaceKey('s1'), spaceKey('s2')]
    const [AA, BB] = [authorKey('aa'), authorKey('bb')]
    const at = (author: typeof AA, epoch: number, seq: number, id: EntryId, kind: 'acl' | 'data', verified = false) =>
      ({ author, epoch, seq, id, bytes: Uint8Array.of(seq, epoch), sig: Uint8Array.of(9), verified, kind })
    // Written by this code, then turned into version 2's layout: the same tables, an index on every id instead of
    // the id table.
    const v3 = SqliteStore.open(file)
    v3.commit({ space: S1, genesis: { bytes: Uint8Array.of(1), sig: Uint8Array.of(2) },
      entries: [at(AA, 5, 0, hex(1), 'acl', true), at(AA, 5, 1, hex(2), 'data'), at(AA, 5, 2, hex(3), 'data', true)] })
    v3.commit({ space: S2, entries: [at(BB, 0, 0, ODD_ID, 'acl', true), at(BB, 0, 1, hex(2), 'data')],
      forks: [{ author: BB, epoch: 1, seq: 4, a: [Uint8Array.of(1), Uint8Array.of(2)], b: [Uint8Array.of(3), Uint8Array.of(4)] }],
      viewWrites: [{ view: 'files', key: Uint8Array.of(0xff), value: Uint8Array.of(1) }] })
    v3.close()
    const db = new DatabaseSync(file)
    db.exec('DROP TABLE meta; DROP TABLE entry_ids; CREATE INDEX entries_id ON entries (substr(id, 1, 8)); PRAGMA user_version = 2')
    db.close()
    const ids = [hex(1), hex(2), hex(3), hex(4), ODD_ID]
    const state = (store: Store): unknown => [S1, S2].map(sp => ({
      genesis: store.genesis(sp),
      feeds: store.feeds(sp),
      entries: [...store.entries(sp)],
      byId: ids.map(id => store.entryById(sp, id)),
      forks: store.forks(sp),
      files: [...store.viewRows(sp, 'files')]
    }))

    const v2 = new DatabaseSync(file)
    const before = v2.prepare('SELECT * FROM entries ORDER BY fid, seq').all()
    v2.close()
    const store = SqliteStore.open(file)
    try {
      const after = state(store)
      assert.deepEqual(store.spaces(), [S1])
      assert.deepEqual(after, [{
        genesis: { bytes: Uint8Array.of(1), sig: Uint8Array.of(2) },
        feeds: [{ author: AA, epoch: 5, count: 3, head: hex(3), frozenAt: null }],
        entries: [at(AA, 5, 0, hex(1), 'acl', true), at(AA, 5, 1, hex(2), 'data'), at(AA, 5, 2, hex(3), 'data', true)],
        byId: [at(AA, 5, 0, hex(1), 'acl', true), at(AA, 5, 1, hex(2), 'data'), at(AA, 5, 2, hex(3), 'data', true),
          undefined, undefined],
        forks: [],
        files: []
      }, {
        genesis: undefined,
        feeds: [{ author: BB, epoch: 0, count: 2, head: hex(2), frozenAt: null },
          { author: BB, epoch: 1, count: 0, head: null, frozenAt: 4 }],
        entries: [at(BB, 0, 0, ODD_ID, 'acl', true), at(BB, 0, 1, hex(2), 'data')],
        byId: [undefined, at(BB, 0, 1, hex(2), 'data'), undefined, undefined, at(BB, 0, 0, ODD_ID, 'acl', true)],
        forks: [{ author: BB, epoch: 1, seq: 4, a: [Uint8Array.of(1), Uint8Array.of(2)], b: [Uint8Array.of(3), Uint8Array.of(4)] }],
        files: [[Uint8Array.of(0xff), Uint8Array.of(1)]]
      }])
      // And it goes on from there: a new entry, marked verified by id.
      store.commit({ space: S1, entries: [at(AA, 5, 3, hex(4), 'data')] })
      store.commit({ space: S1, verified: [hex(4), hex(2)] })
      assert.equal(store.lastVerified(S1, AA, 5, 10), 3)
      assert.equal(store.entryById(S1, hex(2))?.verified, true)
    } finally {
      store.close()
    }
    const check = new DatabaseSync(file)
    try {
      assert.equal(check.prepare('PRAGMA user_version').get()?.['user_version'], 4)
      assert.equal(check.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'entries_id'").get()?.['n'], 0)
      // The rows themselves are untouched but for the two marked verified since.
      const rows = check.prepare('SELECT * FROM entries WHERE seq < 3 ORDER BY fid, seq').all()
      assert.deepEqual(rows.map(r => ({ ...r, verified: 0 })), before.map(r => ({ ...r, verified: 0 })))
    } finally {
      check.close()
    }
  }))
})

/** Version 1 of the schema, as shipped before the v2 layout: kept here to test the migration. */
const V1_SCHEMA = `
CREATE TABLE genesis (
  space TEXT NOT NULL PRIMARY KEY,
  bytes BLOB NOT NULL,
  sig BLOB NOT NULL
) STRICT;
CREATE TABLE entries (
  space TEXT NOT NULL,
  author TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  bytes BLOB NOT NULL,
  sig BLOB NOT NULL,
  verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
  kind TEXT NOT NULL CHECK (kind IN ('acl', 'data')),
  PRIMARY KEY (space, author, epoch, seq)
) STRICT;
CREATE UNIQUE INDEX entries_id ON entries (space, id);
CREATE INDEX entries_kind ON entries (space, kind, author, epoch, seq);
CREATE TABLE feeds (
  space TEXT NOT NULL,
  author TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  count INTEGER NOT NULL,
  head TEXT,
  frozen_at INTEGER,
  PRIMARY KEY (space, author, epoch)
) STRICT;
CREATE TABLE forks (
  space TEXT NOT NULL,
  author TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  a_bytes BLOB NOT NULL,
  a_sig BLOB NOT NULL,
  b_bytes BLOB NOT NULL,
  b_sig BLOB NOT NULL
) STRICT;
CREATE INDEX forks_space ON forks (space);
CREATE TABLE views (
  space TEXT NOT NULL,
  view TEXT NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (space, view, key)
) STRICT, WITHOUT ROWID;
`

import { DatabaseSync } from 'node:sqlite'
import type { SQLOutputValue, StatementSync } from 'node:sqlite'
import type { AuthorHex, Batch, FeedState, ForkProof, IdHex, SignedRecord, SpaceKey, Store, StoredEntry, ViewName } from './types.ts'

/** The schema this code writes and reads (PRAGMA user_version). */
export const SCHEMA_VERSION = 1

const SCHEMA = `
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

const ENTRY_COLUMNS = 'author, epoch, seq, id, bytes, sig, verified, kind'

type Row = Record<string, SQLOutputValue>

/**
 * The store on disk, in one SQLite file (node:sqlite). A commit is one
 * IMMEDIATE transaction with synchronous=FULL: once commit() returns, the
 * batch is durable; if it throws, nothing of it was applied.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync
  readonly #s: Statements
  /** The shared entries() statements are being iterated: a nested call prepares its own. */
  #entriesBusy = false

  static open (file: string): SqliteStore {
    return new SqliteStore(new DatabaseSync(file))
  }

  private constructor (db: DatabaseSync) {
    this.#db = db
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA synchronous = FULL')
      db.exec('PRAGMA foreign_keys = OFF')
      migrate(db)
      this.#s = prepare(db)
    } catch (err) {
      db.close()
      throw err
    }
  }

  commit (batch: Batch): void {
    const s = this.#s
    const space = batch.space
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      if (batch.genesis !== undefined) s.putGenesis.run(space, batch.genesis.bytes, batch.genesis.sig)
      for (const e of batch.entries ?? []) {
        const count = num(s.feedCount.get(space, e.author, e.epoch)?.['count'] ?? 0)
        if (e.seq !== count) throw new Error(`store: entry ${e.author}/${e.epoch}/${e.seq} does not extend its feed of ${count}`)
        s.putEntry.run(space, e.author, e.epoch, e.seq, e.id, e.bytes, e.sig, e.verified ? 1 : 0, e.kind)
        s.extendFeed.run(space, e.author, e.epoch, e.seq + 1, e.id)
      }
      for (const id of batch.verified ?? []) s.markVerified.run(space, id)
      if (batch.fork !== undefined) {
        const f = batch.fork
        s.freezeFeed.run(space, f.author, f.epoch, f.seq)
        s.putFork.run(space, f.author, f.epoch, f.seq, f.a[0], f.a[1], f.b[0], f.b[1])
      }
      if (batch.replaceViews === true) s.clearViews.run(space)
      for (const w of batch.viewWrites ?? []) {
        if (w.value === null) s.deleteView.run(space, w.view, w.key)
        else s.putView.run(space, w.view, w.key, w.value)
      }
      this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw err
    }
  }

  spaces (): SpaceKey[] {
    return this.#s.spaces.all().map(r => str(r['space'])).sort()
  }

  genesis (space: SpaceKey): SignedRecord | undefined {
    const r = this.#s.genesis.get(space)
    return r === undefined ? undefined : { bytes: bytes(r['bytes']), sig: bytes(r['sig']) }
  }

  feeds (space: SpaceKey): FeedState[] {
    return this.#s.feeds.all(space).map(toFeed)
  }

  feed (space: SpaceKey, author: AuthorHex, epoch: number): FeedState | undefined {
    const r = this.#s.feed.get(space, author, epoch)
    return r === undefined ? undefined : toFeed(r)
  }

  entryAt (space: SpaceKey, author: AuthorHex, epoch: number, seq: number): StoredEntry | undefined {
    const r = this.#s.entryAt.get(space, author, epoch, seq)
    return r === undefined ? undefined : toEntry(r)
  }

  entryById (space: SpaceKey, id: IdHex): StoredEntry | undefined {
    const r = this.#s.entryById.get(space, id)
    return r === undefined ? undefined : toEntry(r)
  }

  run (space: SpaceKey, author: AuthorHex, epoch: number, from: number, to: number, maxCount: number): StoredEntry[] {
    // Seqs are contiguous from 0, so a seq range is a count range; no LIMIT (a negative one means none).
    const end = Math.min(to, from + Math.max(0, maxCount))
    if (!(end > from)) return []
    return this.#s.run.all(space, author, epoch, from, end).map(toEntry)
  }

  lastVerified (space: SpaceKey, author: AuthorHex, epoch: number, before: number): number | undefined {
    const v = this.#s.lastVerified.get(space, author, epoch, before)?.['seq']
    return v === undefined || v === null ? undefined : num(v)
  }

  * entries (space: SpaceKey, kind?: 'acl' | 'data'): Iterable<StoredEntry> {
    const shared = !this.#entriesBusy
    let stmt: StatementSync
    if (shared) {
      stmt = kind === undefined ? this.#s.entries : this.#s.entriesOfKind
      this.#entriesBusy = true
    } else {
      stmt = this.#db.prepare(kind === undefined ? ENTRIES_SQL : ENTRIES_OF_KIND_SQL)
    }
    const it = kind === undefined ? stmt.iterate(space) : stmt.iterate(space, kind)
    try {
      for (const r of it) yield toEntry(r)
    } finally {
      it.return?.()
      if (shared) this.#entriesBusy = false
    }
  }

  forks (space: SpaceKey): ForkProof[] {
    return this.#s.forks.all(space).map(r => ({
      author: str(r['author']),
      epoch: num(r['epoch']),
      seq: num(r['seq']),
      a: [bytes(r['a_bytes']), bytes(r['a_sig'])] as const,
      b: [bytes(r['b_bytes']), bytes(r['b_sig'])] as const
    }))
  }

  viewGet (space: SpaceKey, view: ViewName, key: Uint8Array): Uint8Array | undefined {
    const r = this.#s.viewGet.get(space, view, key)
    return r === undefined ? undefined : bytes(r['value'])
  }

  /** A snapshot (like MemoryStore's): SQLite orders BLOB keys by memcmp, then length, which is bytewise order. */
  viewRows (space: SpaceKey, view: ViewName): Iterable<readonly [Uint8Array, Uint8Array]> {
    return this.#s.viewRows.all(space, view).map(r => [bytes(r['key']), bytes(r['value'])] as const)
  }

  close (): void {
    if (this.#db.isOpen) this.#db.close()
  }
}

const ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM entries WHERE space = ? ORDER BY author, epoch, seq`
const ENTRIES_OF_KIND_SQL = `SELECT ${ENTRY_COLUMNS} FROM entries WHERE space = ? AND kind = ? ORDER BY author, epoch, seq`

interface Statements {
  putGenesis: StatementSync
  feedCount: StatementSync
  putEntry: StatementSync
  extendFeed: StatementSync
  markVerified: StatementSync
  freezeFeed: StatementSync
  putFork: StatementSync
  clearViews: StatementSync
  deleteView: StatementSync
  putView: StatementSync
  spaces: StatementSync
  genesis: StatementSync
  feeds: StatementSync
  feed: StatementSync
  entryAt: StatementSync
  entryById: StatementSync
  run: StatementSync
  lastVerified: StatementSync
  entries: StatementSync
  entriesOfKind: StatementSync
  forks: StatementSync
  viewGet: StatementSync
  viewRows: StatementSync
}

function prepare (db: DatabaseSync): Statements {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    putGenesis: p('INSERT INTO genesis (space, bytes, sig) VALUES (?, ?, ?) ON CONFLICT (space) DO UPDATE SET bytes = excluded.bytes, sig = excluded.sig'),
    feedCount: p('SELECT count FROM feeds WHERE space = ? AND author = ? AND epoch = ?'),
    putEntry: p('INSERT INTO entries (space, author, epoch, seq, id, bytes, sig, verified, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    extendFeed: p(`INSERT INTO feeds (space, author, epoch, count, head, frozen_at) VALUES (?, ?, ?, ?, ?, NULL)
      ON CONFLICT (space, author, epoch) DO UPDATE SET count = excluded.count, head = excluded.head`),
    markVerified: p('UPDATE entries SET verified = 1 WHERE space = ? AND id = ?'),
    freezeFeed: p(`INSERT INTO feeds (space, author, epoch, count, head, frozen_at) VALUES (?1, ?2, ?3, 0, NULL, ?4)
      ON CONFLICT (space, author, epoch) DO UPDATE SET frozen_at = min(coalesce(frozen_at, excluded.frozen_at), excluded.frozen_at)`),
    putFork: p('INSERT INTO forks (space, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    clearViews: p('DELETE FROM views WHERE space = ?'),
    deleteView: p('DELETE FROM views WHERE space = ? AND view = ? AND key = ?'),
    putView: p('INSERT INTO views (space, view, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (space, view, key) DO UPDATE SET value = excluded.value'),
    spaces: p('SELECT space FROM genesis'),
    genesis: p('SELECT bytes, sig FROM genesis WHERE space = ?'),
    feeds: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE space = ? ORDER BY author, epoch'),
    feed: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE space = ? AND author = ? AND epoch = ?'),
    entryAt: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE space = ? AND author = ? AND epoch = ? AND seq = ?`),
    entryById: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE space = ? AND id = ?`),
    run: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE space = ? AND author = ? AND epoch = ? AND seq >= ? AND seq < ? ORDER BY seq`),
    lastVerified: p('SELECT max(seq) AS seq FROM entries WHERE space = ? AND author = ? AND epoch = ? AND seq < ? AND verified = 1'),
    entries: p(ENTRIES_SQL),
    entriesOfKind: p(ENTRIES_OF_KIND_SQL),
    forks: p('SELECT author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig FROM forks WHERE space = ? ORDER BY rowid'),
    viewGet: p('SELECT value FROM views WHERE space = ? AND view = ? AND key = ?'),
    viewRows: p('SELECT key, value FROM views WHERE space = ? AND view = ? ORDER BY key')
  }
}

function migrate (db: DatabaseSync): void {
  const version = num(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0)
  if (version > SCHEMA_VERSION) {
    throw new Error(`store: database schema version ${version} is newer than this code supports (${SCHEMA_VERSION}); upgrade samepage`)
  }
  if (version === SCHEMA_VERSION) return
  db.exec('BEGIN IMMEDIATE')
  try {
    // Re-read under the write lock: another process may have created the schema meanwhile.
    const now = num(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0)
    if (now === 0) {
      db.exec(SCHEMA)
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    } else if (now !== SCHEMA_VERSION) {
      throw new Error(`store: database schema version ${now} is not supported (this code uses ${SCHEMA_VERSION})`)
    }
    db.exec('COMMIT')
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

function toEntry (r: Row): StoredEntry {
  const kind = str(r['kind'])
  if (kind !== 'acl' && kind !== 'data') throw new Error(`store: bad entry kind ${kind}`)
  return {
    author: str(r['author']),
    epoch: num(r['epoch']),
    seq: num(r['seq']),
    id: str(r['id']),
    bytes: bytes(r['bytes']),
    sig: bytes(r['sig']),
    verified: num(r['verified']) === 1,
    kind
  }
}

function toFeed (r: Row): FeedState {
  const head = r['head']
  const frozen = r['frozen_at']
  return {
    author: str(r['author']),
    epoch: num(r['epoch']),
    count: num(r['count']),
    head: head === null || head === undefined ? null : str(head),
    frozenAt: frozen === null || frozen === undefined ? null : num(frozen)
  }
}

function num (v: SQLOutputValue | undefined): number {
  if (typeof v !== 'number') throw new Error(`store: expected an integer, got ${typeof v}`)
  return v
}

function str (v: SQLOutputValue | undefined): string {
  if (typeof v !== 'string') throw new Error(`store: expected text, got ${typeof v}`)
  return v
}

function bytes (v: SQLOutputValue | undefined): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`store: expected a blob, got ${typeof v}`)
  return v
}

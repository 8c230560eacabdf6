import { backup, DatabaseSync } from 'node:sqlite'
import type { SQLOutputValue, StatementSync } from 'node:sqlite'
import type { AuthorHex, Batch, FeedState, ForkProof, IdHex, SignedRecord, SpaceKey, Store, StoredEntry, ViewName } from './types.ts'

/** The schema this code writes and reads (PRAGMA user_version). */
export const SCHEMA_VERSION = 2

/**
 * Version 2. Spaces and feeds are numbered (sid, fid), so an entry row is
 * keyed by (fid, seq) alone and appended in key order; ids are found through
 * a small index on their first 8 bytes (SHA-256: uniform), not a unique index
 * on (space, 64-char text): random inserts into that one dominated catch-up
 * (decision 12 stays: WAL, synchronous=FULL, one transaction per batch).
 * An id is stored as a BLOB when it is even-length lowercase hex (every real
 * id), otherwise as the TEXT given, so that any IdHex reads back unchanged.
 */
const SCHEMA = `
CREATE TABLE spaces (
  sid INTEGER PRIMARY KEY,
  space TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE genesis (
  sid INTEGER NOT NULL PRIMARY KEY,
  bytes BLOB NOT NULL,
  sig BLOB NOT NULL
) STRICT;
CREATE TABLE feeds (
  fid INTEGER PRIMARY KEY,
  sid INTEGER NOT NULL,
  author TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  count INTEGER NOT NULL,
  head TEXT,
  frozen_at INTEGER,
  UNIQUE (sid, author, epoch)
) STRICT;
CREATE TABLE entries (
  fid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id ANY NOT NULL,
  bytes BLOB NOT NULL,
  sig BLOB NOT NULL,
  verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
  kind TEXT NOT NULL CHECK (kind IN ('acl', 'data')),
  PRIMARY KEY (fid, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX entries_id ON entries (substr(id, 1, 8));
CREATE INDEX entries_acl ON entries (fid, seq) WHERE kind = 'acl';
CREATE TABLE forks (
  sid INTEGER NOT NULL,
  author TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  a_bytes BLOB NOT NULL,
  a_sig BLOB NOT NULL,
  b_bytes BLOB NOT NULL,
  b_sig BLOB NOT NULL
) STRICT;
CREATE INDEX forks_space ON forks (sid);
CREATE TABLE views (
  sid INTEGER NOT NULL,
  view TEXT NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (sid, view, key)
) STRICT, WITHOUT ROWID;
`

/** Version 1 (space TEXT in every row, UNIQUE (space, id TEXT)) to version 2, in the migration's transaction. */
const MIGRATE_1_TO_2 = `
DROP INDEX entries_id;
DROP INDEX entries_kind;
DROP INDEX forks_space;
ALTER TABLE genesis RENAME TO v1_genesis;
ALTER TABLE entries RENAME TO v1_entries;
ALTER TABLE feeds RENAME TO v1_feeds;
ALTER TABLE forks RENAME TO v1_forks;
ALTER TABLE views RENAME TO v1_views;
${SCHEMA}
INSERT INTO spaces (space)
  SELECT space FROM v1_genesis UNION SELECT space FROM v1_feeds UNION SELECT space FROM v1_entries
  UNION SELECT space FROM v1_forks UNION SELECT space FROM v1_views ORDER BY 1;
INSERT INTO genesis (sid, bytes, sig) SELECT s.sid, g.bytes, g.sig FROM v1_genesis g JOIN spaces s ON s.space = g.space;
INSERT INTO feeds (sid, author, epoch, count, head, frozen_at)
  SELECT s.sid, f.author, f.epoch, f.count, f.head, f.frozen_at FROM v1_feeds f JOIN spaces s ON s.space = f.space ORDER BY s.sid, f.author, f.epoch;
INSERT INTO entries (fid, seq, id, bytes, sig, verified, kind)
  SELECT f.fid, e.seq,
    CASE WHEN length(e.id) % 2 = 0 AND e.id NOT GLOB '*[^0-9a-f]*' THEN unhex(e.id) ELSE e.id END,
    e.bytes, e.sig, e.verified, e.kind
  FROM v1_entries e JOIN spaces s ON s.space = e.space JOIN feeds f ON f.sid = s.sid AND f.author = e.author AND f.epoch = e.epoch;
INSERT INTO forks (sid, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig)
  SELECT s.sid, k.author, k.epoch, k.seq, k.a_bytes, k.a_sig, k.b_bytes, k.b_sig FROM v1_forks k JOIN spaces s ON s.space = k.space ORDER BY k.rowid;
INSERT INTO views (sid, view, key, value) SELECT s.sid, v.view, v.key, v.value FROM v1_views v JOIN spaces s ON s.space = v.space;
DROP TABLE v1_genesis;
DROP TABLE v1_entries;
DROP TABLE v1_feeds;
DROP TABLE v1_forks;
DROP TABLE v1_views;
`

const ENTRY_COLUMNS = 'f.author, f.epoch, e.seq, e.id, e.bytes, e.sig, e.verified, e.kind'
const ENTRY_FROM = 'feeds f JOIN entries e ON e.fid = f.fid'

type Row = Record<string, SQLOutputValue>

/** What a commit knows of one feed it extends: checked and updated in JS, written once per batch. */
interface FeedTip { fid: number, count: number, head: IdHex | null, changed: boolean }

/**
 * The store on disk, in one SQLite file (node:sqlite). A commit is one
 * IMMEDIATE transaction with synchronous=FULL: once commit() returns, the
 * batch is durable; if it throws, nothing of it was applied.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync
  readonly #s: Statements
  /** Space numbers known to be committed (a sid is never removed nor reused, so this never goes stale). */
  readonly #sids = new Map<SpaceKey, number>()
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
    let created: number | undefined
    const relaxed = batch.durable === false
    if (relaxed) this.#db.exec('PRAGMA synchronous = OFF')
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      let sid = this.#sidOf(space)
      const needSid = (): number => {
        if (sid === undefined) sid = created = num(s.putSpace.run(space).lastInsertRowid)
        return sid
      }
      if (batch.genesis !== undefined) s.putGenesis.run(needSid(), batch.genesis.bytes, batch.genesis.sig)
      const entries = batch.entries ?? []
      if (entries.length > 0) {
        const at = needSid()
        const tips = new Map<string, FeedTip>()
        let tip: FeedTip | undefined
        let tipAuthor = ''
        let tipEpoch = -1
        for (const e of entries) {
          if (tip === undefined || e.author !== tipAuthor || e.epoch !== tipEpoch) {
            const key = `${e.author}/${e.epoch}`
            tip = tips.get(key)
            if (tip === undefined) {
              const r = s.feedTip.get(at, e.author, e.epoch)
              tip = r === undefined
                ? { fid: num(s.putFeed.run(at, e.author, e.epoch, 0, null, null).lastInsertRowid), count: 0, head: null, changed: false }
                : { fid: num(r['fid']), count: num(r['count']), head: null, changed: false }
              tips.set(key, tip)
            }
            tipAuthor = e.author
            tipEpoch = e.epoch
          }
          if (e.seq !== tip.count) throw new Error(`store: entry ${e.author}/${e.epoch}/${e.seq} does not extend its feed of ${tip.count}`)
          s.putEntry.run(tip.fid, e.seq, idValue(e.id), e.bytes, e.sig, e.verified ? 1 : 0, e.kind)
          tip.count++
          tip.head = e.id
          tip.changed = true
        }
        for (const t of tips.values()) if (t.changed) s.extendFeed.run(t.count, t.head, t.fid)
      }
      const verified = batch.verified ?? []
      if (verified.length > 0 && sid !== undefined) for (const id of verified) s.markVerified.run(idValue(id), sid)
      if (batch.fork !== undefined) {
        const f = batch.fork
        const at = needSid()
        s.freezeFeed.run(at, f.author, f.epoch, f.seq)
        // One proof per feed, the lowest (decision 17): a lower one replaces the one held, a later one is not kept.
        s.dropLaterForks.run(at, f.author, f.epoch, f.seq)
        s.putFork.run(at, f.author, f.epoch, f.seq, f.a[0], f.a[1], f.b[0], f.b[1])
      }
      if (batch.replaceViews === true && sid !== undefined) s.clearViews.run(sid)
      const writes = batch.viewWrites ?? []
      if (writes.length > 0) {
        const at = needSid()
        for (const w of writes) {
          if (w.value === null) s.deleteView.run(at, w.view, w.key)
          else s.putView.run(at, w.view, w.key, w.value)
        }
      }
      this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw err
    } finally {
      if (relaxed) this.#db.exec('PRAGMA synchronous = FULL')
    }
    if (created !== undefined) this.#sids.set(space, created)
  }

  /** The space's number if it has one (committed, or created by the open transaction). */
  #sidOf (space: SpaceKey): number | undefined {
    const known = this.#sids.get(space)
    if (known !== undefined) return known
    const r = this.#s.sid.get(space)
    if (r === undefined) return undefined
    const sid = num(r['sid'])
    if (!this.#db.isTransaction) this.#sids.set(space, sid)
    return sid
  }

  spaces (): SpaceKey[] {
    return this.#s.spaces.all().map(r => str(r['space'])).sort()
  }

  genesis (space: SpaceKey): SignedRecord | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.genesis.get(sid)
    return r === undefined ? undefined : { bytes: bytes(r['bytes']), sig: bytes(r['sig']) }
  }

  feeds (space: SpaceKey): FeedState[] {
    const sid = this.#sidOf(space)
    return sid === undefined ? [] : this.#s.feeds.all(sid).map(toFeed)
  }

  feed (space: SpaceKey, author: AuthorHex, epoch: number): FeedState | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.feed.get(sid, author, epoch)
    return r === undefined ? undefined : toFeed(r)
  }

  entryAt (space: SpaceKey, author: AuthorHex, epoch: number, seq: number): StoredEntry | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.entryAt.get(sid, author, epoch, seq)
    return r === undefined ? undefined : toEntry(r)
  }

  entryById (space: SpaceKey, id: IdHex): StoredEntry | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.entryById.get(idValue(id), sid)
    return r === undefined ? undefined : toEntry(r)
  }

  run (space: SpaceKey, author: AuthorHex, epoch: number, from: number, to: number, maxCount: number): StoredEntry[] {
    // Seqs are contiguous from 0, so a seq range is a count range; no LIMIT (a negative one means none).
    const end = Math.min(to, from + Math.max(0, maxCount))
    if (!(end > from)) return []
    const sid = this.#sidOf(space)
    return sid === undefined ? [] : this.#s.run.all(sid, author, epoch, from, end).map(toEntry)
  }

  lastVerified (space: SpaceKey, author: AuthorHex, epoch: number, before: number): number | undefined {
    const sid = this.#sidOf(space)
    const v = sid === undefined ? undefined : this.#s.lastVerified.get(sid, author, epoch, before)?.['seq']
    return v === undefined || v === null ? undefined : num(v)
  }

  * entries (space: SpaceKey, kind?: 'acl' | 'data'): Iterable<StoredEntry> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return
    const sql = kind === undefined ? ENTRIES_SQL : kind === 'acl' ? ACL_ENTRIES_SQL : DATA_ENTRIES_SQL
    const shared = !this.#entriesBusy
    let stmt: StatementSync
    if (shared) {
      stmt = kind === undefined ? this.#s.entries : kind === 'acl' ? this.#s.aclEntries : this.#s.dataEntries
      this.#entriesBusy = true
    } else {
      stmt = this.#db.prepare(sql)
    }
    const it = stmt.iterate(sid)
    try {
      for (const r of it) yield toEntry(r)
    } finally {
      it.return?.()
      if (shared) this.#entriesBusy = false
    }
  }

  * dataPositions (space: SpaceKey, author: AuthorHex): Iterable<{ readonly epoch: number, readonly seq: number }> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return
    // Prepared per call: iterations may nest, and this is called only when an ACL entry arrives.
    for (const r of this.#db.prepare(DATA_POSITIONS_SQL).iterate(sid, author)) yield { epoch: num(r['epoch']), seq: num(r['seq']) }
  }

  forks (space: SpaceKey): ForkProof[] {
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    return this.#s.forks.all(sid).map(r => ({
      author: str(r['author']),
      epoch: num(r['epoch']),
      seq: num(r['seq']),
      a: [bytes(r['a_bytes']), bytes(r['a_sig'])] as const,
      b: [bytes(r['b_bytes']), bytes(r['b_sig'])] as const
    }))
  }

  viewGet (space: SpaceKey, view: ViewName, key: Uint8Array): Uint8Array | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.viewGet.get(sid, view, key)
    return r === undefined ? undefined : bytes(r['value'])
  }

  /** A snapshot (like MemoryStore's): SQLite orders BLOB keys by memcmp, then length, which is bytewise order. */
  viewRows (space: SpaceKey, view: ViewName): Iterable<readonly [Uint8Array, Uint8Array]> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    return this.#s.viewRows.all(sid, view).map(r => [bytes(r['key']), bytes(r['value'])] as const)
  }

  close (): void {
    if (this.#db.isOpen) this.#db.close()
  }

  /**
   * SQLite's online backup of the open database into `file` (overwritten if
   * it exists: the caller decides where). A consistent snapshot even while
   * commits go on; never a file copy of a live database (decision 15).
   * Resolves with the number of pages copied.
   */
  async backup (file: string): Promise<number> {
    return await backup(this.#db, file, { rate: 1000 })
  }
}

const ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE f.sid = ? ORDER BY f.author, f.epoch, e.seq`
/** Acl entries through their partial index (read on every open); data entries by scanning (only a view rebuild reads them). */
const ACL_ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM feeds f JOIN entries e INDEXED BY entries_acl ON e.fid = f.fid WHERE f.sid = ? AND e.kind = 'acl' ORDER BY f.author, f.epoch, e.seq`
const DATA_POSITIONS_SQL = `SELECT f.epoch, e.seq FROM feeds f JOIN entries e ON e.fid = f.fid WHERE f.sid = ? AND f.author = ? AND e.kind = 'data' ORDER BY f.epoch, e.seq`
const DATA_ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE f.sid = ? AND e.kind = 'data' ORDER BY f.author, f.epoch, e.seq`

interface Statements {
  sid: StatementSync
  putSpace: StatementSync
  putGenesis: StatementSync
  feedTip: StatementSync
  putFeed: StatementSync
  putEntry: StatementSync
  extendFeed: StatementSync
  markVerified: StatementSync
  freezeFeed: StatementSync
  putFork: StatementSync
  dropLaterForks: StatementSync
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
  aclEntries: StatementSync
  dataEntries: StatementSync
  forks: StatementSync
  viewGet: StatementSync
  viewRows: StatementSync
}

function prepare (db: DatabaseSync): Statements {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    sid: p('SELECT sid FROM spaces WHERE space = ?'),
    putSpace: p('INSERT INTO spaces (space) VALUES (?)'),
    putGenesis: p('INSERT INTO genesis (sid, bytes, sig) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET bytes = excluded.bytes, sig = excluded.sig'),
    feedTip: p('SELECT fid, count FROM feeds WHERE sid = ? AND author = ? AND epoch = ?'),
    putFeed: p('INSERT INTO feeds (sid, author, epoch, count, head, frozen_at) VALUES (?, ?, ?, ?, ?, ?)'),
    putEntry: p('INSERT INTO entries (fid, seq, id, bytes, sig, verified, kind) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    extendFeed: p('UPDATE feeds SET count = ?, head = ? WHERE fid = ?'),
    // The first 8 bytes select (the index); the full id and the space decide.
    markVerified: p('UPDATE entries SET verified = 1 WHERE substr(id, 1, 8) = substr(?1, 1, 8) AND id = ?1 AND fid IN (SELECT fid FROM feeds WHERE sid = ?2)'),
    freezeFeed: p(`INSERT INTO feeds (sid, author, epoch, count, head, frozen_at) VALUES (?1, ?2, ?3, 0, NULL, ?4)
      ON CONFLICT (sid, author, epoch) DO UPDATE SET frozen_at = min(coalesce(frozen_at, excluded.frozen_at), excluded.frozen_at)`),
    dropLaterForks: p('DELETE FROM forks WHERE sid = ? AND author = ? AND epoch = ? AND seq > ?'),
    putFork: p(`INSERT INTO forks (sid, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
      WHERE NOT EXISTS (SELECT 1 FROM forks WHERE sid = ?1 AND author = ?2 AND epoch = ?3 AND seq <= ?4)`),
    clearViews: p('DELETE FROM views WHERE sid = ?'),
    deleteView: p('DELETE FROM views WHERE sid = ? AND view = ? AND key = ?'),
    putView: p('INSERT INTO views (sid, view, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (sid, view, key) DO UPDATE SET value = excluded.value'),
    spaces: p('SELECT s.space FROM spaces s JOIN genesis g ON g.sid = s.sid'),
    genesis: p('SELECT bytes, sig FROM genesis WHERE sid = ?'),
    feeds: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE sid = ? ORDER BY author, epoch'),
    feed: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE sid = ? AND author = ? AND epoch = ?'),
    entryAt: p(`SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq = ?`),
    entryById: p(`SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE substr(e.id, 1, 8) = substr(?1, 1, 8) AND e.id = ?1 AND f.sid = ?2`),
    run: p(`SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq >= ? AND e.seq < ? ORDER BY e.seq`),
    // Backwards from `before`, stopping at the first verified entry.
    lastVerified: p(`SELECT e.seq AS seq FROM ${ENTRY_FROM} WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq < ? AND e.verified = 1 ORDER BY e.seq DESC LIMIT 1`),
    entries: p(ENTRIES_SQL),
    aclEntries: p(ACL_ENTRIES_SQL),
    dataEntries: p(DATA_ENTRIES_SQL),
    forks: p('SELECT author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig FROM forks WHERE sid = ? ORDER BY rowid'),
    viewGet: p('SELECT value FROM views WHERE sid = ? AND view = ? AND key = ?'),
    viewRows: p('SELECT key, value FROM views WHERE sid = ? AND view = ? ORDER BY key')
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
    // Re-read under the write lock: another process may have created or migrated the schema meanwhile.
    const now = num(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0)
    if (now === 0) {
      db.exec(SCHEMA)
    } else if (now === 1) {
      db.exec(MIGRATE_1_TO_2)
    } else if (now !== SCHEMA_VERSION) {
      throw new Error(`store: database schema version ${now} is not supported (this code uses ${SCHEMA_VERSION})`)
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    db.exec('COMMIT')
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

const CANONICAL_HEX = /^(?:[0-9a-f]{2})*$/

/** An id as stored: the bytes of even-length lowercase hex (every real id), else the text itself (so it reads back unchanged). */
function idValue (id: IdHex): Uint8Array | string {
  return CANONICAL_HEX.test(id) ? Buffer.from(id, 'hex') : id
}

function idText (v: SQLOutputValue | undefined): IdHex {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  return str(v)
}

function toEntry (r: Row): StoredEntry {
  const kind = str(r['kind'])
  if (kind !== 'acl' && kind !== 'data') throw new Error(`store: bad entry kind ${kind}`)
  return {
    author: str(r['author']),
    epoch: num(r['epoch']),
    seq: num(r['seq']),
    id: idText(r['id']),
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

function num (v: SQLOutputValue | bigint | undefined): number {
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
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

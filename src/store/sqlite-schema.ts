import type { DatabaseSync } from 'node:sqlite'
import { num } from './sqlite-rows.ts'
import { StoreError } from './store-error.ts'

/**
 * The SQLite schema and its migrations: the only module that knows the
 * tables' shape history. migrate() brings any older file up to
 * SCHEMA_VERSION in one transaction, or refuses a newer one.
 */
/** The schema this code writes and reads (PRAGMA user_version). */
const SCHEMA_VERSION = 4

/**
 * Version 4: facts about the node that owns the file, by name. `author` is
 * the node's author key, recorded at its first start on this file: the node
 * refuses a key that is not the one its store belongs to (node/compose.ts),
 * so a key put back wrong, or lost, never makes a node a new one silently.
 */
const META_TABLE = `CREATE TABLE meta (
  name TEXT NOT NULL PRIMARY KEY,
  value ANY NOT NULL
) STRICT, WITHOUT ROWID;`

/** The ids of the entries looked up by id, keyed by id: a lookup is one range of this small table. */
const ENTRY_IDS_TABLE = `CREATE TABLE entry_ids (
  id ANY NOT NULL,
  fid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (id, fid, seq)
) STRICT, WITHOUT ROWID;`

/**
 * Version 3. Spaces and feeds are numbered (sid, fid), so an entry row is
 * keyed by (fid, seq) alone and appended in key order. Only the entries
 * readers look up by id (file versions: Batch.findById) are in entry_ids;
 * version 2 indexed every entry's id, and that index's random inserts
 * dirtied one page per entry, most of the WAL written in catch-up and live
 * writes. Any other entry is still found by id, by a scan of its space.
 * (decision 12 stays: WAL, synchronous=FULL, one transaction per batch; the group commit of live writes
 * syncs the WAL itself, off the event loop: sqlite-store.ts unsynced()).
 * An id is stored as a BLOB when it is even-length lowercase hex (every real
 * id), otherwise as the TEXT given (only synthetic ids of version 1 files), which reads back as is.
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
${ENTRY_IDS_TABLE}
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

/**
 * The id table of an older file: every data entry, as its id index held
 * them (SQL cannot tell a file version from other data; nothing looks up
 * an acl entry by id, and the scan still finds one).
 */
const FILL_ENTRY_IDS = 'INSERT INTO entry_ids (id, fid, seq) SELECT id, fid, seq FROM entries WHERE kind = \'data\';'

/** Version 2 to version 3, in the migration's transaction: the id index gives way to the id table. */
const MIGRATE_2_TO_3 = `
DROP INDEX entries_id;
${ENTRY_IDS_TABLE}
${FILL_ENTRY_IDS}
`

/**
 * Version 1 (space TEXT in every row, UNIQUE (space, id TEXT)) to the
 * current layout, in the migration's transaction (version 2's tables, with
 * the id table of version 3 filled as MIGRATE_2_TO_3 fills it).
 */
const MIGRATE_1_TO_3 = `
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
  SELECT s.sid, f.author, f.epoch, f.count, f.head, f.frozen_at
  FROM v1_feeds f JOIN spaces s ON s.space = f.space ORDER BY s.sid, f.author, f.epoch;
INSERT INTO entries (fid, seq, id, bytes, sig, verified, kind)
  SELECT f.fid, e.seq,
    CASE WHEN length(e.id) % 2 = 0 AND e.id NOT GLOB '*[^0-9a-f]*' THEN unhex(e.id) ELSE e.id END,
    e.bytes, e.sig, e.verified, e.kind
  FROM v1_entries e JOIN spaces s ON s.space = e.space
  JOIN feeds f ON f.sid = s.sid AND f.author = e.author AND f.epoch = e.epoch;
INSERT INTO forks (sid, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig)
  SELECT s.sid, k.author, k.epoch, k.seq, k.a_bytes, k.a_sig, k.b_bytes, k.b_sig
  FROM v1_forks k JOIN spaces s ON s.space = k.space ORDER BY k.rowid;
INSERT INTO views (sid, view, key, value)
  SELECT s.sid, v.view, v.key, v.value FROM v1_views v JOIN spaces s ON s.space = v.space;
DROP TABLE v1_genesis;
DROP TABLE v1_entries;
DROP TABLE v1_feeds;
DROP TABLE v1_forks;
DROP TABLE v1_views;
${FILL_ENTRY_IDS}
`

export function migrate (db: DatabaseSync): void {
  const version = num(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0)
  if (version > SCHEMA_VERSION) {
    const newer = `store: database schema version ${version} is newer than this code supports (${SCHEMA_VERSION})`
    throw new StoreError('SCHEMA_NEWER', `${newer}; upgrade samepage`)



  }
  if (version === SCHEMA_VERSION) return
  db.exec('BEGIN IMMEDIATE')
  try {
    // Re-read under the write lock: another process may have created or migrated the schema meanwhile.
    const now = num(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0)
    if (now === 0) {
      db.exec(SCHEMA + META_TABLE)
    } else if (now === 1) {
      db.exec(MIGRATE_1_TO_3 + META_TABLE)
    } else if (now === 2) {
      db.exec(MIGRATE_2_TO_3 + META_TABLE)
    } else if (now === 3) {
      db.exec(META_TABLE)
    } else if (now !== SCHEMA_VERSION) {
      const unsupported = `store: database schema version ${now} is not supported (this code uses ${SCHEMA_VERSION})`
      throw new StoreError('SCHEMA_UNSUPPORTED', unsupported)
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    db.exec('COMMIT')
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite'
import { MultiRowInsert } from './sqlite-multirow.ts'

/**
 * Every SQL statement the store runs, prepared once per database (the
 * schema is sqlite-schema.ts). Entries are read with their feed's author
 * and epoch, through ENTRY_COLUMNS.
 */
const ENTRY_COLUMNS = 'f.author, f.epoch, e.seq, e.id, e.bytes, e.sig, e.verified, e.kind'
const ENTRY_FROM = 'feeds f JOIN entries e ON e.fid = f.fid'
/** A feed's entries without the feed's columns, in this order (sqlite-rows.ts toRunEntry). */
const RUN_COLUMNS = 'e.seq, e.id, e.bytes, e.sig, e.verified, e.kind'

export const ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM}
  WHERE f.sid = ? ORDER BY f.author, f.epoch, e.seq`
/** Acl entries through their partial index (read on every open); data entries by a scan (only a rebuild reads them). */

export const ACL_ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS}
  FROM feeds f JOIN entries e INDEXED BY entries_acl ON e.fid = f.fid

  WHERE f.sid = ? AND e.kind = 'acl' ORDER BY f.author, f.epoch, e.seq`
export const DATA_POSITIONS_SQL = `SELECT f.epoch, e.seq FROM feeds f JOIN entries e ON e.fid = f.fid
  WHERE f.sid = ? AND f.author = ? AND e.kind = 'data' ORDER BY f.epoch, e.seq`
export const DATA_ENTRIES_SQL = `SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM}
  WHERE f.sid = ? AND e.kind = 'data' ORDER BY f.author, f.epoch, e.seq`

/**
 * A run to serve as ONE row (sqlite-rows.ts toServedRun): its count, its seqs and the lengths of its bytes and sigs
 * as comma lists, its verified flags as a string of 0s and 1s, and its bytes and its sigs each concatenated into one
 * blob (group_concat copies a blob's bytes as they are; the CAST gives them back as a blob). A seeder serves runs of
 * up to 1,024 entries: one row of a few values instead of 1,024 rows of four, each blob its own buffer.
 * Seqs [?4, ?5), ended first where the bytes would pass ?6 (what one `entries` message may carry): the running sum
 * reads only the entries' lengths (length() of a blob reads no content), so no entry past the bound is read. The
 * aggregates take the rows in the subquery's order (seq, the primary key's: no sort); an ORDER BY in each of the
 * seven would sort the run seven times (2x the time), and toServedRun refuses seqs out of order.
 */
const SERVED_RUN_END = `coalesce((SELECT min(seq) FROM (
    SELECT e.seq AS seq, sum(length(e.bytes)) OVER (ORDER BY e.seq) AS total
    FROM ${ENTRY_FROM} WHERE f.sid = ?1 AND f.author = ?2 AND f.epoch = ?3 AND e.seq >= ?4 AND e.seq < ?5
  ) WHERE total > ?6), ?5)`
const SERVED_RUN_SQL = `SELECT count(*), group_concat(seq, ','), group_concat(verified, ''),
    group_concat(length(bytes), ','), CAST(group_concat(bytes, '') AS BLOB),
    group_concat(length(sig), ','), CAST(group_concat(sig, '') AS BLOB)
  FROM (SELECT e.seq, e.bytes, e.sig, e.verified FROM ${ENTRY_FROM}
    WHERE f.sid = ?1 AND f.author = ?2 AND f.epoch = ?3 AND e.seq >= ?4 AND e.seq < ${SERVED_RUN_END}
    ORDER BY e.seq)`

export interface Statements {
  sid: StatementSync
  putSpace: StatementSync
  putGenesis: StatementSync
  feedTip: StatementSync
  putFeed: StatementSync
  /** Entry rows: fid, seq, id, bytes, sig, verified, kind. */
  putEntries: MultiRowInsert
  extendFeed: StatementSync
  markVerifiedAt: StatementSync
  putEntryId: StatementSync
  freezeFeed: StatementSync
  putFork: StatementSync
  dropLaterForks: StatementSync
  clearViews: StatementSync
  deleteView: StatementSync
  /** View rows, each replacing the row of its key: sid, view, key, value. */
  putViews: MultiRowInsert
  spaces: StatementSync
  genesis: StatementSync
  feeds: StatementSync
  feed: StatementSync
  entryAt: StatementSync
  entryById: StatementSync
  entryByIdScan: StatementSync
  findable: StatementSync
  run: StatementSync
  servedRun: StatementSync
  lastVerified: StatementSync
  entries: StatementSync
  aclEntries: StatementSync
  dataEntries: StatementSync
  forks: StatementSync
  viewGet: StatementSync
  viewGetMany: StatementSync
  viewRows: StatementSync
  viewRowsAfter: StatementSync
}

export function prepare (db: DatabaseSync): Statements {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    sid: p('SELECT sid FROM spaces WHERE space = ?'),
    putSpace: p('INSERT INTO spaces (space) VALUES (?)'),
    putGenesis: p(`INSERT INTO genesis (sid, bytes, sig) VALUES (?, ?, ?)
      ON CONFLICT (sid) DO UPDATE SET bytes = excluded.bytes, sig = excluded.sig`),
    feedTip: p('SELECT fid, count FROM feeds WHERE sid = ? AND author = ? AND epoch = ?'),
    putFeed: p('INSERT INTO feeds (sid, author, epoch, count, head, frozen_at) VALUES (?, ?, ?, ?, ?, ?)'),
    putEntries: new MultiRowInsert(db, 'INSERT INTO entries (fid, seq, id, bytes, sig, verified, kind)', 7),
    extendFeed: p('UPDATE feeds SET count = ?, head = ? WHERE fid = ?'),
    putEntryId: p('INSERT INTO entry_ids (id, fid, seq) VALUES (?, ?, ?)'),
    markVerifiedAt: p(`UPDATE entries SET verified = 1, sig = coalesce(?6, sig)
      WHERE fid = (SELECT fid FROM feeds WHERE sid = ?1 AND author = ?2 AND epoch = ?3) AND seq = ?4 AND id = ?5`),
    freezeFeed: p(`INSERT INTO feeds (sid, author, epoch, count, head, frozen_at) VALUES (?1, ?2, ?3, 0, NULL, ?4)
      ON CONFLICT (sid, author, epoch)
      DO UPDATE SET frozen_at = min(coalesce(frozen_at, excluded.frozen_at), excluded.frozen_at)`),
    dropLaterForks: p('DELETE FROM forks WHERE sid = ? AND author = ? AND epoch = ? AND seq > ?'),
    putFork: p(`INSERT INTO forks (sid, author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig)
      SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
      WHERE NOT EXISTS (SELECT 1 FROM forks WHERE sid = ?1 AND author = ?2 AND epoch = ?3 AND seq <= ?4)`),
    clearViews: p('DELETE FROM views WHERE sid = ?'),
    deleteView: p('DELETE FROM views WHERE sid = ? AND view = ? AND key = ?'),
    putViews: new MultiRowInsert(db, 'INSERT INTO views (sid, view, key, value)', 4,
      'ON CONFLICT (sid, view, key) DO UPDATE SET value = excluded.value'),
    spaces: p('SELECT s.space FROM spaces s JOIN genesis g ON g.sid = s.sid'),
    genesis: p('SELECT bytes, sig FROM genesis WHERE sid = ?'),
    feeds: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE sid = ? ORDER BY author, epoch'),
    feed: p('SELECT author, epoch, count, head, frozen_at FROM feeds WHERE sid = ? AND author = ? AND epoch = ?'),
    entryAt: p(`SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM}
      WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq = ?`),
    entryById: p(`SELECT ${ENTRY_COLUMNS} FROM entry_ids x JOIN entries e ON e.fid = x.fid AND e.seq = x.seq
      JOIN feeds f ON f.fid = e.fid WHERE x.id = ?1 AND f.sid = ?2`),
    findable: p('SELECT 1 FROM entry_ids x JOIN feeds f ON f.fid = x.fid WHERE x.id = ?1 AND f.sid = ?2'),
    // Entries not in entry_ids: nothing in use looks them up by id, so a scan of the space is enough.
    entryByIdScan: p(`SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM} WHERE e.id = ?1 AND f.sid = ?2`),
    // The columns of RUN_COLUMNS as arrays, not objects: a seeder reads 1,024 rows per `want`, and their feed's
    // author and epoch are the caller's (a 64-character string per row otherwise).
    run: returnArrays(p(`SELECT ${RUN_COLUMNS} FROM ${ENTRY_FROM}
      WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq >= ? AND e.seq < ? ORDER BY e.seq`)),
    servedRun: returnArrays(p(SERVED_RUN_SQL)),
    // Backwards from `before`, stopping at the first verified entry.
    lastVerified: p(`SELECT e.seq AS seq FROM ${ENTRY_FROM}
      WHERE f.sid = ? AND f.author = ? AND f.epoch = ? AND e.seq < ? AND e.verified = 1 ORDER BY e.seq DESC LIMIT 1`),

    entries: p(ENTRIES_SQL),
    aclEntries: p(ACL_ENTRIES_SQL),
    dataEntries: p(DATA_ENTRIES_SQL),
    forks: p('SELECT author, epoch, seq, a_bytes, a_sig, b_bytes, b_sig FROM forks WHERE sid = ? ORDER BY rowid'),
    viewGet: p('SELECT value FROM views WHERE sid = ? AND view = ? AND key = ?'),
    // The keys come as one JSON array of hex strings: one statement, one probe of the primary key per key.
    viewGetMany: p(`SELECT key, value FROM views
      WHERE sid = ? AND view = ? AND key IN (SELECT unhex(value) FROM json_each(?))`),
    viewRows: p('SELECT key, value FROM views WHERE sid = ? AND view = ? ORDER BY key'),
    // An empty blob sorts before every key: `after` empty reads from the first row.
    viewRowsAfter: p('SELECT key, value FROM views WHERE sid = ? AND view = ? AND key > ? ORDER BY key LIMIT ?')
  }
}

function returnArrays (stmt: StatementSync): StatementSync {
  stmt.setReturnArrays(true)
  return stmt
}

/** The row of entry `id` (an idValue) of space `sid`: through entry_ids, else by a scan of the space. */
export function entryRowById (
  s: Statements, sid: number, id: SQLInputValue
): Record<string, SQLOutputValue> | undefined {
  return s.entryById.get(id, sid) ?? s.entryByIdScan.get(id, sid)
}

import type { DatabaseSync } from 'node:sqlite'

/**
 * The rows of one space, removed when the node leaves it (`samepage space
 * leave`): entries through their feeds, then the feeds, fork proofs, views,
 * genesis and the space's number. Run inside the caller's transaction, so a
 * leave is all or nothing. A later adopt of the space gets a new number and
 * starts from nothing.
 */
const REMOVE_SPACE_SQL = [
  'DELETE FROM entry_ids WHERE fid IN (SELECT fid FROM feeds WHERE sid = ?)',
  'DELETE FROM entries WHERE fid IN (SELECT fid FROM feeds WHERE sid = ?)',
  'DELETE FROM feeds WHERE sid = ?',
  'DELETE FROM forks WHERE sid = ?',
  'DELETE FROM views WHERE sid = ?',
  'DELETE FROM genesis WHERE sid = ?',
  'DELETE FROM spaces WHERE sid = ?'
]

export function removeSpaceRows (db: DatabaseSync, sid: number): void {
  // Prepared per call: a leave is rare, and these statements would otherwise sit in every store's cache.
  for (const sql of REMOVE_SPACE_SQL) db.prepare(sql).run(sid)
}

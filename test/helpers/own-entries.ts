import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { toHex } from '../../src/codec/index.ts'
import { publicKeyFromPeerId } from '../../src/identity/index.ts'

/** Entries a node signed itself, all spaces together (read-only, beside the running daemon: SQLite WAL allows it). */
export function ownEntries (dir: string, peerId: string): number {
  const db = new DatabaseSync(path.join(dir, 'store.db'), { readOnly: true })
  try {
    const author = toHex(publicKeyFromPeerId(peerId) as Uint8Array)
    const sql = 'SELECT count(*) AS n FROM entries e JOIN feeds f ON e.fid = f.fid WHERE f.author = ?'
    return Number((db.prepare(sql).get(author) as { n: number }).n)
  } finally {
    db.close()
  }
}

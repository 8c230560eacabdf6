import path from 'node:path'
import { IdentityError, keyFileName, peerIdOf } from '../identity/index.ts'
import { keyBytes } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { SqliteStore } from '../store/index.ts'

/**
 * A node never silently takes a new identity: its store records the author
 * key it belongs to at the node's first start on it (a store made before
 * this record existed takes the key it is opened with), and any other key
 * is refused, naming identity.key, with the store closed and untouched. A
 * key put back wrong after a restore, or another node's key, would
 * otherwise run this node's spaces as a stranger with no role in them.
 */
export function checkStoreOwner (dir: string, store: SqliteStore, me: AuthorKey): void {
  const owner = store.nodeAuthor()
  if (owner === undefined) {
    store.recordNodeAuthor(me)
    return
  }
  if (owner === me) return
  store.close()
  const file = path.join(dir, keyFileName)
  throw new IdentityError('IDENTITY_MISMATCH', `${file} is the key of node ${peerIdOf(keyBytes(me))}, but ` +
    `${path.join(dir, 'store.db')} belongs to node ${peerIdOf(keyBytes(owner))}: put that node's identity.key ` +
    'back (from a backup), or, to run this key here as a new node, move store.db, store.db-wal and store.db-shm away')
}

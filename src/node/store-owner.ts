import path from 'node:path'
import { bytesEqual, decodeGenesis } from '../codec/index.ts'
import { IdentityError, keyFileName, peerIdOf } from '../identity/index.ts'
import { keyBytes } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { SqliteStore } from '../store/index.ts'

/**
 * A node never silently takes a new identity: its store records the author
 * key it belongs to at the node's first start on it, and any other key is
 * refused, naming identity.key, with the store closed and untouched. A key
 * put back wrong after a restore, or another node's key, would otherwise run
 * this node's spaces as a stranger with no role in them. A store made before
 * this record existed takes the key it is opened with only if the store
 * bears it out (no space yet, or a space this key created or wrote in):
 * recorded unconditionally, a schema-3 backup restored beside a new key
 * was taken over by that key, and its own key refused for good (a review's
 * probe).
 */
export function checkStoreOwner (dir: string, store: SqliteStore, me: AuthorKey): void {
  const owner = store.nodeAuthor()
  if (owner === me) return
  if (owner === undefined && bearsOut(store, me)) {
    store.recordNodeAuthor(me)
    return
  }
  store.close()
  const file = path.join(dir, keyFileName)
  const db = path.join(dir, 'store.db')
  const whose = owner === undefined ? 'holds no space this key created or wrote in' : `belongs to node ${nodeOf(owner)}`
  throw new IdentityError('IDENTITY_MISMATCH', `${file} is the key of node ${nodeOf(me)}, but ${db} ${whose}: ` +
    'put that node\'s identity.key back (from a backup), or, to run this key here as a new node, move store.db, ' +
    'store.db-wal and store.db-shm away')
}

/** The store holds no space, or one whose genesis `me` signed, or one where `me` has a feed. */
function bearsOut (store: SqliteStore, me: AuthorKey): boolean {
  const spaces = store.spaces()
  if (spaces.length === 0) return true
  const mine = keyBytes(me)
  return spaces.some(space => {
    const g = store.genesis(space)
    if (g !== undefined && bytesEqual(decodeGenesis(g.bytes, g.sig).owner, mine)) return true
    return store.feeds(space).some(f => f.author === me)
  })
}

function nodeOf (author: AuthorKey): string {
  return peerIdOf(keyBytes(author))
}

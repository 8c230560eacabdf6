/**
 * Review tests' two-or-three-driver setups: a driver over a store (its commits made without fsync when `gated`
 * is given, held by the durable gate), and fake sessions whose bytes wait in one queue the test delivers.
 */
import assert from 'node:assert/strict'
import { decodeMessage } from '../../src/codec/index.ts'
import { SessionTable, SyncDriver } from '../../src/net/index.ts'
import type { SyncSession } from '../../src/net/sync-session.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import type { SqliteStore, Store } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { T0 } from '../helpers/fixtures.ts'

export interface Side { readonly author: AuthorKey, readonly driver: SyncDriver, readonly sessions: SessionTable }

export function side (key: KeyPair, store: Store, gated?: SqliteStore): Side {
  const replicas = new Map<SpaceKey, SpaceReplica>()
  for (const k of store.spaces()) replicas.set(k, SpaceReplica.open(store, k))
  const sessions = new SessionTable()
  const spaces = { get: (k: SpaceKey) => replicas.get(k), all: () => replicas.values() }
  const durability = gated && {
    unsynced: <T>(step: () => T): T => gated.unsynced(step),
    unsyncedCommits: () => gated.unsyncedCommits,
    synced: async () => { await gated.synced() }
  }
  const now = (): number => T0 + 60_000
  const driver = new SyncDriver({ sync: { keyPair: key, spaces }, sessions, now, ...durability && { durability } })
  return { author: authorKeyOf(key.publicKey), driver, sessions }
}

export function pipe (queue: (() => void)[], from: Side, to: Side, log?: string[]): SyncSession {
  const s = {
    closed: false,
    queuedBytes: 0,
    send: (bytes: Uint8Array) => {
      log?.push(decodeMessage(bytes).m)
      queue.push(() => { to.driver.receive(from.author, bytes) })
    },
    close: () => { s.closed = true },
    connection: { close: async () => {}, remotePeer: { toString: () => to.author } }
  }
  return s as unknown as SyncSession
}

/** Delivers `queue` until the exchange settles (the gate's syncs and their releases included); bounded in rounds. */
export function flusher (queue: (() => void)[]): () => Promise<void> {
  return async () => {
    for (let round = 0; round < 50; round++) {
      while (queue.length > 0) queue.shift()?.()
      for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
      if (queue.length === 0) return
    }
    assert.fail('the exchange settles')
  }
}

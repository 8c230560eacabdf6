/**
 * Review tests' two-or-three-driver setups: a driver over a store (its commits made without fsync when `gated`
 * is given, held by the durable gate), and fake sessions whose bytes wait in one queue the test delivers.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { decodeMessage } from '../../src/codec/index.ts'
import { SessionTable, SyncDriver } from '../../src/net/index.ts'
import type { SyncSession } from '../../src/net/sync-session.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { SqliteStore, Store } from '../../src/store/index.ts'
import type { Fsync } from '../../src/store/wal-sync.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

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

/** A WAL fsync the test holds back: while `holding`, each sync waits in `held` until the test calls it. */
export function heldFsync (): { readonly state: { holding: boolean, readonly held: (() => void)[] }, fsync: Fsync } {
  const state = { holding: false, held: [] as (() => void)[] }
  const fsync = async (fd: number): Promise<void> => {
    if (state.holding) await new Promise<void>(resolve => { state.held.push(resolve) })
    fs.fdatasyncSync(fd)
  }
  return { state, fsync }
}

/**
 * The three sides of threeSides, not yet linked: A owns the space (in memory), B (on `store`, its commits gated)
 * and C (in memory, a copy of A's store) are members, C with `otherRole`.
 */
export function threeDrivers (t: { after: (fn: () => void) => void }, tag: string, store: SqliteStore,
  otherRole: 'reader' | 'writer' = 'reader'): {
    readonly A: Side, readonly B: Side, readonly C: Side, readonly origin: SpaceReplica, readonly otherStore: MemoryStore
  } {
  const o = seededKey(tag, 'owner')
  const r = seededKey(tag, 'reader')
  const c = seededKey(tag, 'other')
  const ownerStore = new MemoryStore()
  const origin = SpaceReplica.create(ownerStore, o, tag, T0)
  origin.append(o, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: c.publicKey, role: otherRole, from: { epoch: 0, seq: 0 } }, T0 + 2)
  const otherStore = ownerStore.clone()
  SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  const A = side(o, ownerStore)
  const B = side(r, store, store)
  const C = side(c, otherStore)
  t.after(() => { A.driver.stop(); C.driver.stop() })
  return { A, B, C, origin, otherStore }
}

/**
 * A space where A (its owner, in memory) writes, B (a reader, on `store`, its commits gated) holds, and C (another
 * reader, in memory) learns from B; all linked and settled. `toC`: the messages B sends C.
 */
export async function threeSides (t: { after: (fn: () => void) => void }, tag: string, store: SqliteStore): Promise<{
  readonly A: Side, readonly B: Side, readonly C: Side, readonly origin: SpaceReplica, readonly otherStore: MemoryStore,
  readonly toC: string[], readonly flush: () => Promise<void>
}> {
  const { A, B, C, origin, otherStore } = threeDrivers(t, tag, store)
  const queue: (() => void)[] = []
  const toC: string[] = []
  A.sessions.set(B.author, pipe(queue, A, B))
  B.sessions.set(A.author, pipe(queue, B, A))
  B.sessions.set(C.author, pipe(queue, B, C, toC))
  C.sessions.set(B.author, pipe(queue, C, B))
  const flush = flusher(queue)
  for (const [x, y] of [[A, B], [B, C]] as const) {
    assert.ok(x.driver.connect(y.author))
    assert.ok(y.driver.connect(x.author))
  }
  await flush()
  return { A, B, C, origin, otherStore, toC, flush }
}

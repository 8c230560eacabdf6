import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { SessionTable, SyncDriver } from '../../src/net/index.ts'
import type { SyncSession } from '../../src/net/sync-session.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import type { SyncEvent } from '../../src/sync/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { Durability } from '../../src/net/durable-gate.ts'
import type { Batch, Store } from '../../src/store/index.ts'
import type { Entry } from '../../src/codec/index.ts'

/**
 * The sync driver owns the engine: a command on it (a local write, a join)
 * reaches the peer with no pump by the caller, and an engine `disconnect`
 * hangs up the peer's session. Two drivers over fake sessions whose bytes
 * wait in one queue, delivered by `flush()` (bounded: a livelock fails).
 */
interface Side {
  readonly key: KeyPair
  readonly author: AuthorKey
  readonly replicas: Map<SpaceKey, SpaceReplica>
  readonly sessions: SessionTable
  readonly driver: SyncDriver
  readonly events: SyncEvent[]
}

function side (
  key: KeyPair, store: MemoryStore, durability?: Durability, onStorageError?: (err: unknown) => boolean,
  heldEntries?: (entry: Entry) => boolean
): Side {
  const replicas = new Map<SpaceKey, SpaceReplica>()
  for (const k of store.spaces()) replicas.set(k, SpaceReplica.open(store, k))
  const sessions = new SessionTable()
  const spaces = { get: (k: SpaceKey) => replicas.get(k), all: () => replicas.values() }
  const driver = new SyncDriver({
    sync: { keyPair: key, spaces }, sessions, now: () => T0 + 60_000, ...durability && { durability }, ...onStorageError && { onStorageError },
    ...heldEntries && { heldEntries }
  })
  const events: SyncEvent[] = []
  driver.onEvent(ev => { events.push(ev) })
  return { key, author: authorKeyOf(key.publicKey), replicas, sessions, driver, events }
}

/** A session that queues what it is given for `to`; `hungUp` says whether it was closed. */
function fakeSession (queue: (() => void)[], from: Side, to: Side): SyncSession & { hungUp: boolean } {
  const s = {
    hungUp: false,
    closed: false,
    queuedBytes: 0,
    send: (bytes: Uint8Array) => { queue.push(() => { to.driver.receive(from.author, bytes) }) },
    close: () => { s.hungUp = true; s.closed = true },
    connection: { close: async () => {}, remotePeer: { toString: () => to.author } }
  }
  return s as unknown as SyncSession & { hungUp: boolean }
}

function link (a: Side, b: Side): { flush: () => void, ab: { hungUp: boolean } } {
  const queue: (() => void)[] = []
  const ab = fakeSession(queue, a, b)
  a.sessions.set(b.author, ab)
  b.sessions.set(a.author, fakeSession(queue, b, a))
  assert.ok(a.driver.connect(b.author))
  assert.ok(b.driver.connect(a.author))
  const flush = (): void => {
    for (let i = 0; i < 10_000 && queue.length > 0; i++) queue.shift()?.()
    assert.equal(queue.length, 0, 'the exchange settles')
  }
  flush()
  return { flush, ab }
}

describe('sync driver', () => {
  test('a local write through the driver reaches the peer: the caller never pumps', () => {
    const [store, other] = [new MemoryStore(), new MemoryStore()]
    const { owner: o, member: w, origin } = grantedSpace('driver', 'writer', store, other)
    const A = side(o, store)
    const B = side(w, other)
    const { flush } = link(A, B)
    A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
    flush()
    assert.deepEqual(B.replicas.get(origin.key)?.kvGet('k')?.value, 1)
    assert.ok(B.events.some(e => e.type === 'stored' && e.from === A.author), 'the peer\'s listener heard of it')
    A.driver.stop()
    B.driver.stop()
  })

  test('a join goes through the engine like every other write: the inviter redeems it', () => {
    const [o, j] = [seededKey('driver-join', 'owner'), seededKey('driver-join', 'joiner')]
    const store = new MemoryStore()
    const origin = SpaceReplica.create(store, o, 'unit', T0)
    const inviteKey = generateKeyPair()
    const body = { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 3_600_000 } as const
    const invite = origin.append(o, body, T0 + 1)
    const other = new MemoryStore()
    SpaceReplica.adopt(other, [origin.genesis.bytes, origin.genesis.sig])
    const A = side(o, store)
    const B = side(j, other)
    const { flush } = link(A, B)
    const join = B.driver.join(origin.key, invite.id, inviteKey)
    flush()
    assert.equal(join.body.t, 'join')
    assert.equal(A.replicas.get(origin.key)?.localRole(B.author), 'writer', 'the inviter holds the join and admits it')
    assert.equal(B.replicas.get(origin.key)?.localRole(B.author), 'writer', 'and the joiner holds the redemption')
    A.driver.stop()
    B.driver.stop()
  })

  test('an engine disconnect hangs up the peer\'s session', () => {
    const [o, w] = [seededKey('driver-ban', 'owner'), seededKey('driver-ban', 'peer')]
    const store = new MemoryStore()
    SpaceReplica.create(store, o, 'unit', T0)
    const A = side(o, store)
    const B = side(w, new MemoryStore())
    const { ab } = link(A, B)
    for (let i = 0; i < 1000 && !A.events.some(e => e.type === 'disconnect'); i++) {
      A.driver.reportGarbage(B.author, 'garbled')
    }
    assert.ok(A.events.some(e => e.type === 'disconnect' && e.peer === B.author))
    assert.ok(ab.hungUp, 'the session to the peer was closed by the driver')
    A.driver.stop()
    B.driver.stop()
  })

  test('a peer\'s entries committed without their fsync are told (stored, have) only once the fsync completed', async () => {
    const { A, B, origin, durable, flush } = gatedPair('driver-gate')
    await settleAll(durable, flush)
    B.events.length = 0
    A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
    flush()
    assert.deepEqual(B.replicas.get(origin.key)?.kvGet('k')?.value, 1, 'committed at once')
    assert.ok(durable.commits > 0, 'without its fsync')
    assert.ok(!B.events.some(e => e.type === 'stored'), 'not told before the fsync')
    assert.equal(durable.waiting.length > 0, true, 'a sync was asked for')
    for (const w of durable.waiting.splice(0)) w.resolve()
    await settle()
    assert.ok(B.events.some(e => e.type === 'stored' && e.from === A.author), 'told once durable')
    A.driver.stop()
    B.driver.stop()
  })

  test('a stored event held for its fsync keeps its count, and of its entries those the listeners read', async () => {
    const keep = (e: Entry): boolean => e.body.t === 'kv.put' && e.body.key === 'read'
    const { A, B, origin, durable, flush } = gatedPair('driver-gate-held', undefined, keep)
    await settleAll(durable, flush)
    B.events.length = 0
    A.events.length = 0
    A.driver.appendBodies(origin.key, [{ t: 'kv.put', key: 'read', value: 1 }, { t: 'kv.put', key: 'not', value: 2 }])
    flush()
    assert.ok(durable.waiting.length > 0, 'held for its sync')
    await settleAll(durable, flush)
    const keys = (events: SyncEvent[]): string[] => events.flatMap(e => e.type === 'stored'
      ? e.entries.map(x => x.body.t === 'kv.put' ? x.body.key : x.body.t)
      : [])
    const count = (events: SyncEvent[]): number => events.reduce((n, e) => n + (e.type === 'stored' ? e.count : 0), 0)
    assert.equal(count(B.events), 2, 'both entries counted')
    assert.deepEqual(keys(B.events), ['read'], 'only the entry the listeners read is kept while held')
    assert.deepEqual(B.replicas.get(origin.key)?.kvGet('not')?.value, 2, 'stored all the same')
    // Not held (no durability on A's side): the event lists every entry.
    assert.equal(count(A.events), 2)
    assert.deepEqual(keys(A.events).sort(), ['not', 'read'])
    A.driver.stop()
    B.driver.stop()
  })

  test('a group of local writes committed without its fsync is announced only once the fsync completed', async () => {
    const [durable, readerStore] = [new UnsyncedStore(), new MemoryStore()]
    const { owner: o, member: r, origin } = grantedSpace('driver-gate-local', 'reader', durable, readerStore)
    const A = side(o, durable, durable.durability)
    const B = side(r, readerStore)
    const { flush } = link(A, B)
    await settleAll(durable, flush)
    const outcomes = A.driver.appendEach(origin.key, [{ t: 'kv.put', key: 'g', value: 7 }], durable.durability.unsynced)
    assert.equal(outcomes.length, 1)
    flush()
    assert.equal(B.replicas.get(origin.key)?.kvGet('g'), undefined, 'no peer hears of it before the fsync')
    assert.ok(durable.waiting.length > 0, 'a sync was asked for')
    await settleAll(durable, flush)
    assert.deepEqual(B.replicas.get(origin.key)?.kvGet('g')?.value, 7, 'announced and pulled once durable')
    A.driver.stop()
    B.driver.stop()
  })

  test('a failed fsync: nothing held is told, and the storage error is reported', async () => {
    const failures: unknown[] = []
    const { A, B, origin, durable, flush } = gatedPair('driver-gate-fail', err => { failures.push(err); return false })
    await settleAll(durable, flush)
    B.events.length = 0
    A.driver.append(origin.key, { t: 'kv.put', key: 'k', value: 1 })
    flush()
    const disk = new Error('EIO')
    for (const w of durable.waiting.splice(0)) w.reject(disk)
    await settle()
    assert.ok(!B.events.some(e => e.type === 'stored'), 'never told')
    assert.deepEqual(failures, [disk])
    A.driver.stop()
    B.driver.stop()
  })
})

/** A store whose commits count as made without fsync, and whose syncs the test completes (or fails) by hand. */
class UnsyncedStore extends MemoryStore {
  commits = 0
  readonly waiting: { readonly resolve: () => void, readonly reject: (e: unknown) => void }[] = []
  override commit (batch: Batch): void {
    super.commit(batch)
    this.commits++
  }

  readonly durability: Durability = {
    unsynced: step => step(),
    unsyncedCommits: () => this.commits,
    synced: async () => { await new Promise<void>((resolve, reject) => { this.waiting.push({ resolve, reject }) }) }
  }
}

/**
 * A space made on `ownerStore` by the owner of `seed`, with `role` granted to the member of `seed` (its key named by
 * the role), and adopted by `memberStore` (its genesis only).
 */
function grantedSpace (seed: string, role: 'writer' | 'reader', ownerStore: Store, memberStore: Store): {
  owner: KeyPair, member: KeyPair, origin: SpaceReplica
} {
  const [owner, member] = [seededKey(seed, 'owner'), seededKey(seed, role)]
  const origin = SpaceReplica.create(ownerStore, owner, 'unit', T0)
  origin.append(owner, { t: 'acl.grant', member: member.publicKey, role, from: { epoch: 0, seq: 0 } }, T0 + 1)
  SpaceReplica.adopt(memberStore, [origin.genesis.bytes, origin.genesis.sig])
  return { owner, member, origin }
}

function gatedPair (
  seed: string, onStorageError?: (err: unknown) => boolean, heldEntries?: (entry: Entry) => boolean
): {
  A: Side, B: Side, origin: SpaceReplica, durable: UnsyncedStore, flush: () => void
} {
  const [store, durable] = [new MemoryStore(), new UnsyncedStore()]
  const { owner: o, member: w, origin } = grantedSpace(seed, 'reader', store, durable)
  const A = side(o, store)
  const B = side(w, durable, durable.durability, onStorageError, heldEntries)
  const { flush } = link(A, B)
  return { A, B, origin, durable, flush }
}

/** The pair's exchange to its end, every sync completed as soon as it is asked for. */
async function settleAll (durable: UnsyncedStore, flush: () => void): Promise<void> {
  for (let i = 0; i < 100; i++) {
    flush()
    if (durable.waiting.length === 0) return
    for (const w of durable.waiting.splice(0)) w.resolve()
    await settle()
  }
  assert.fail('the exchange settles')
}

/** Lets every callback already due run, without waiting for any time. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

/**
 * Review tests of the durable gate's bound: a driver over a SqliteStore whose WAL syncs hang until the test
 * finishes them, in a space where PUSHER may write and ME (the driver) reads, and PUSHER's feed of `runs` runs of
 * `perRun` entries of ~30 kB (~36 MB, 1.5 times the per-peer bound), pushed unasked through `push`.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { encodeMessage } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { SessionTable, SyncDriver } from '../../src/net/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('review-gate-bound', 'owner')
const PUSHER = seededKey('review-gate-bound', 'pusher')
const ME = seededKey('review-gate-bound', 'me')

export interface PusherSide {
  readonly driver: SyncDriver
  readonly sessions: SessionTable
  readonly pusher: AuthorKey
  /** The WAL syncs under way, each finished by calling it. */
  readonly syncs: (() => void)[]
  readonly perRun: number
  readonly runs: number
  /** The owner's feed (the grants) and the pusher's. */
  readonly grants: SignedBytes[]
  readonly mine: SignedBytes[]
  readonly push: (run: SignedBytes[]) => Promise<void> | undefined
  /** Entries of the pusher this node committed (synced or not). */
  readonly taken: () => number
}

export function pusherSide (t: { after: (fn: () => void) => void }, tag: string): PusherSide {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `samepage-review-${tag}-`))
  // The WAL's syncs wait until the test lets them finish.
  const syncs: (() => void)[] = []
  const hang = async (): Promise<void> => { await new Promise<void>(resolve => { syncs.push(resolve) }) }
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync: hang })
  t.after(() => { store.close(); fs.rmSync(dir, { recursive: true, force: true }) })

  // The space: the owner grants the pusher writer and me reader; the pusher writes 30 kB values.
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'bound', T0)
  origin.append(OWNER, { t: 'acl.grant', member: PUSHER.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(OWNER, { t: 'acl.grant', member: ME.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const perRun = 60
  const runs = 20 // 20 runs of 60 entries of ~30 kB: ~36 MB, 1.5 times the bound
  for (let i = 0; i < perRun * runs; i++) {
    origin.append(PUSHER, { t: 'kv.put', key: `k${i}`, value: String(i % 10).repeat(30_000) }, T0 + 10 + i)
  }
  const feedOf = (who: typeof OWNER): SignedBytes[] => {
    const row = origin.vector().find(r => authorKeyOf(r.author) === authorKeyOf(who.publicKey))
    assert.ok(row !== undefined)
    const all: SignedBytes[] = []
    while (all.length < row.count) all.push(...origin.serve(authorKeyOf(row.author), row.epoch, all.length, row.count))
    return all
  }

  const adopted = SpaceReplica.adopt(store, [origin.genesis.bytes, origin.genesis.sig])
  assert.ok(adopted instanceof SpaceReplica)
  const replicas = new Map<SpaceKey, SpaceReplica>([[adopted.key, adopted]])
  const spaces = { get: (k: SpaceKey) => replicas.get(k), all: () => replicas.values() }
  const sessions = new SessionTable()
  const driver = new SyncDriver({
    sync: { keyPair: ME, spaces },
    sessions,
    now: () => T0 + 60_000,
    durability: {
      unsynced: step => store.unsynced(step),
      unsyncedCommits: () => store.unsyncedCommits,
      synced: async () => { await store.synced() }
    }
  })
  t.after(() => { driver.stop() })
  const pusher = authorKeyOf(PUSHER.publicKey)
  const push = (run: SignedBytes[]): Promise<void> | undefined =>
    driver.receive(pusher, encodeMessage({ m: 'entries', space: origin.id, run }))
  const taken = (): number => adopted.vector().find(r => authorKeyOf(r.author) === pusher)?.count ?? 0
  return { driver, sessions, pusher, syncs, perRun, runs, grants: feedOf(OWNER), mine: feedOf(PUSHER), push, taken }
}

/**
 * Shared builders for the space tests: an "origin" replica on which several
 * authors write (every entry signed once, here, never inside a property),
 * forged entries built by hand with signEntry, and delivery helpers.
 */
import assert from 'node:assert/strict'
import { MemoryStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/index.ts'
import { recomputedViewHash } from './view-rebuild.ts'
import { FORK_HOLD_MAX_MS, SpaceReplica, signEntry, signJoinProof } from '../../src/space/index.ts'
import type { IngestResult } from '../../src/space/index.ts'
import type { Body, Entry, GrantableRole, Position, SignedBytes } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { authorKeyOf, entryIdOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'

export const hex = (kp: KeyPair): AuthorKey => authorKeyOf(kp.publicKey)
export const wire = (e: Entry): SignedBytes => [e.bytes, e.sig]
export const MARKER = 'marker/'

/** An origin replica that records every entry appended to it, per feed. */
export class Origin {
  readonly replica: SpaceReplica
  readonly feeds = new Map<string, Entry[]>()
  /** Who issued each invite made through invite() (hex id), so that join() can redeem it. */
  readonly issuers = new Map<string, KeyPair>()
  t: number

  constructor (owner: KeyPair, name: string, t = T0) {
    this.t = t
    const store = new MemoryStore()
    this.replica = SpaceReplica.create(store, owner, name, this.t)
    stores.set(this.replica, store)
  }

  get genesis (): SignedBytes {
    return [this.replica.genesis.bytes, this.replica.genesis.sig]
  }

  append (kp: KeyPair, body: Body): Entry {
    const e = this.replica.append(kp, body, ++this.t)
    this.record(e)
    return e
  }

  record (e: Entry): void {
    const k = `${authorKeyOf(e.author)}/${e.epoch}`
    const feed = this.feeds.get(k)
    if (feed === undefined) this.feeds.set(k, [e])
    else {
      assert.equal(e.seq, feed.length)
      feed.push(e)
    }
  }

  feedOf (kp: KeyPair, epoch?: number): Entry[] {
    for (const [k, feed] of this.feeds) {
      const [author, ep] = k.split('/') as [string, string]
      if (author === hex(kp) && (epoch === undefined || Number(ep) === epoch)) return feed
    }
    throw new Error(`no feed of ${hex(kp).slice(0, 8)}`)
  }

  /** Opens an epoch for an author that has not written yet, so a grant can name it. */
  epochOf (kp: KeyPair): number {
    return this.replica.openEpoch(hex(kp), this.t)
  }

  grant (by: KeyPair, member: KeyPair, role: GrantableRole, from: Position): Entry {
    return this.append(by, { t: 'acl.grant', member: member.publicKey, role, from })
  }

  revoke (by: KeyPair, member: KeyPair, at: Position, keep: number[] = []): Entry {
    return this.append(by, { t: 'acl.revoke', member: member.publicKey, at, keep })
  }

  invite (by: KeyPair, inviteKey: KeyPair, role: GrantableRole, uses: number): Entry {
    const e = this.append(by, { t: 'invite', key: inviteKey.publicKey, role, uses, expiresMs: T0 + 1e10 })
    this.issuers.set(entryIdOf(e.id), by)
    return e
  }

  /** A join, redeemed at once by the invite's issuer (decision 18) unless `redeem` is false. */
  join (joiner: KeyPair, invite: Entry, inviteKey: KeyPair, redeem = true): Entry {
    const join = this.append(joiner, { t: 'join', invite: invite.id, proof: signJoinProof(inviteKey, this.replica.id, joiner.publicKey) })
    if (redeem) this.redeem(invite, join)
    return join
  }

  /** The invite's issuer records the redemption of `join` in its own feed. */
  redeem (invite: Entry, join: Entry, by: KeyPair | undefined = this.issuers.get(entryIdOf(invite.id))): Entry {
    assert.ok(by !== undefined, 'redeem: the invite was not made through Origin.invite; name its issuer')
    return this.append(by, { t: 'invite.redeem', invite: invite.id, join: join.id })
  }

  allEntries (): Entry[] {
    return [...this.feeds.values()].flat()
  }
}

/** Hand-signed entries with increasing clocks (forgeries, forks, backdating). */
export class Forger {
  readonly space: Uint8Array
  t: number

  constructor (space: Uint8Array, t: number) {
    this.space = space
    this.t = t
  }

  /** The entry after `last` in its feed. */
  after (kp: KeyPair, last: Entry, body: Body): Entry {
    return signEntry(kp, { space: this.space, author: kp.publicKey, epoch: last.epoch, seq: last.seq + 1, prev: last.id, clock: { wallMs: ++this.t, counter: 0 }, body })
  }

  /** Seq 0 of a feed (author, epoch). */
  first (kp: KeyPair, epoch: number, body: Body, prev: Uint8Array | null = null): Entry {
    return signEntry(kp, { space: this.space, author: kp.publicKey, epoch, seq: 0, prev, clock: { wallMs: ++this.t, counter: 0 }, body })
  }

  /** A chain of entries after `last` (or from seq 0 of `epoch`). */
  chain (kp: KeyPair, start: Entry | { epoch: number, prev?: Uint8Array | null }, bodies: readonly Body[]): Entry[] {
    const out: Entry[] = []
    let last: Entry | undefined = 'id' in start ? start : undefined
    for (const body of bodies) {
      const e = last === undefined ? this.first(kp, (start as { epoch: number }).epoch, body, (start as { prev?: Uint8Array | null }).prev ?? null) : this.after(kp, last, body)
      out.push(e)
      last = e
    }
    return out
  }
}

export const markerPut = (name: string): Body => ({ t: 'kv.put', key: `${MARKER}${name}`, value: `${MARKER}${name}` })
export const markerCounter = (name: string): Body => ({ t: 'counter.add', name: `${MARKER}${name}`, delta: 7 })
export const markerLedger = (name: string): Body => ({ t: 'ledger.append', tx: { marker: `${MARKER}${name}` } })

/** Every marker visible in a replica's views (kv keys and values, counters, ledger), as strings. */
export function visibleMarkers (r: SpaceReplica, counterNames: readonly string[]): string[] {
  const found: string[] = []
  for (const { key, value } of r.kvList()) {
    if (key.startsWith(MARKER) || JSON.stringify(value).includes(MARKER)) found.push(`kv:${key}`)
  }
  for (const tx of r.ledgerList()) if (JSON.stringify(tx).includes(MARKER)) found.push(`ledger:${JSON.stringify(tx)}`)
  for (const name of counterNames) if (r.counterGet(name) !== 0) found.push(`counter:${name}`)
  return found
}

/** The same bytes with the last occurrence of an ASCII string replaced by another of the same length. */
export function replaceAscii (bytes: Uint8Array, from: string, to: string): Uint8Array {
  const at = Buffer.from(bytes).lastIndexOf(from)
  assert.ok(at >= 0 && from.length === to.length)
  const out = new Uint8Array(bytes)
  out.set(Buffer.from(to), at)
  return out
}

export interface Delivery { readonly run: readonly SignedBytes[], readonly from: string }

export function fresh (genesis: SignedBytes): SpaceReplica {
  const store = new MemoryStore()
  const r = SpaceReplica.adopt(store, genesis)
  assert.ok(r instanceof SpaceReplica, 'adopt failed')
  stores.set(r, store)
  return r
}

/** The store of each replica made here, for checks that read it directly. */
const stores = new WeakMap<SpaceReplica, Store>()

/** The view hash of `r`'s space rebuilt from the entries its store holds (view-rebuild.ts). */
export function rebuiltViewHash (r: SpaceReplica): string {
  const store = stores.get(r)
  assert.ok(store !== undefined, 'not a replica made by test/space/scenario.ts')
  return recomputedViewHash(store, r.key)
}

export function deliver (r: SpaceReplica, deliveries: readonly Delivery[], now: number): IngestResult[] {
  const results = deliveries.map(d => r.ingestRun(d.run, d.from, now))
  // Then time passes: lower fork proofs held while their feed's hold lasted (space/fork-holds.ts) are committed.
  r.commitHeldForks(now + FORK_HOLD_MAX_MS)
  return results
}

/** Orders `items` by generated sort keys (a permutation that shrinks well), then inserts duplicates. */
export function permute<T> (items: readonly T[], keys: readonly number[], dups: readonly { i: number, at: number }[] = []): T[] {
  const order = items.map((item, i) => ({ item, k: keys[i] ?? 0, i })).sort((a, b) => a.k - b.k || a.i - b.i).map(x => x.item)
  for (const d of dups) {
    const item = items[d.i % items.length]
    if (item !== undefined) order.splice(d.at % (order.length + 1), 0, item)
  }
  return order
}

/** Splits each chain into contiguous runs where `cuts` says so (one flag per entry, in chain order). */
export function splitRuns<T> (chains: readonly (readonly T[])[], cuts: readonly boolean[]): T[][] {
  const runs: T[][] = []
  let flag = 0
  for (const chain of chains) {
    let run: T[] = []
    for (const e of chain) {
      run.push(e)
      if (cuts[flag++] === true) { runs.push(run); run = [] }
    }
    if (run.length > 0) runs.push(run)
  }
  return runs
}

/** Runs a fast-check property with a known seed (FC_SEED to replay), printing the seed if it fails. */
export async function checkProperty (name: string, run: (seed: number) => Promise<unknown> | unknown): Promise<void> {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
  try {
    await run(seed)
  } catch (err) {
    console.error(`property "${name}" failed; replay with FC_SEED=${seed}`)
    if (err instanceof Error) err.message = `[FC_SEED=${seed}] ${err.message}`
    throw err
  }
}

export const T_DELIVER_OFFSET = 10_000

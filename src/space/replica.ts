import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import {
  ACL_TYPES, bytesEqual, compareBytes, compareClocks, decodeCbor, decodeEntry, decodeGenesis, decodeStatus,
  encodeCbor, fromHex, isCodecError, toHex, RUN_BYTES_MAX, RUN_ENTRIES_MAX, POSITION_MAX, CLOCK_COUNTER_MAX, storedEntryClock
} from '../codec/index.ts'
import type { Body, Clock, Entry, FeedRow, FileChunk, Role, SignedBytes, SignedGenesis, SignedStatus } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { AuthorHex, Batch, FeedState, ForkProof, SpaceKey, Store, StoredEntry, ViewName, ViewWrite } from '../store/index.ts'
import { computeAcl } from './acl-compute.ts'
import type { Acl } from './acl.ts'
import type { ForkAt } from './acl-compute.ts'
import { PendingQueue } from './pending.ts'
import type { PendingEntry } from './pending.ts'
import { emptyResult, SpaceError } from './outcome.ts'
import type { IngestResult, Reject } from './outcome.ts'
import {
  decodeStoredEntry, entrySignatureValid, genesisSignatureValid, joinProofValid, signEntry, signGenesis, signJoinProof,
  signStatus, statusSignatureValid
} from './signing.ts'
import { aclRows, applyDataEntry, compareFileVersions, decodeFileRow, isDataBody, KvOrderCache, ViewOverlay, EMPTY_ROWS } from './views.ts'
import type { FileState, FileVersion } from './views.ts'
import { atLeast } from './roles.ts'
import { readOrMark, readOrSkip } from './reads.ts'
import { nextEpoch } from './epochs.ts'

/**
 * One space as held by one node: its genesis, the feeds it stores, the ACL
 * computed from them, the views, and the pending queue.
 *
 * Map of the ingest path (ingestRun):
 *   decode every entry -> one feed, consecutive seqs, linked by hash -> verify
 *   the run's last signature (decision 2) -> #ingestAuthentic: skip what we
 *   hold (or prove a fork), check the link to our head, the clock, the ACL
 *   coverage of the feed, joins' proofs -> store entries and their view
 *   updates in one commit -> retry what was pending on them.
 *
 * Invariants:
 *   1. Stored feeds are contiguous from seq 0 and linked by hash.
 *   2. Views equal a rebuild from the stored entries (the rebuild is the same code).
 *   3. Nothing past a proven fork is stored from then on, served or pulled.
 */
export const CLOCK_SKEW_MAX_MS = 60_000

interface AuthEntry { readonly entry: Entry, readonly verified: boolean }

export interface ReplicaOptions {
  /** Added to the epochs this replica opens for local authors, drawn by the node once per process (decision 15, epochs.ts). */
  readonly epochSalt?: number
}

export class SpaceReplica {
  readonly key: SpaceKey
  readonly id: Uint8Array
  readonly genesis: SignedGenesis
  readonly owner: AuthorHex
  readonly #store: Store
  readonly #aclEntries: Entry[]
  #acl: Acl
  #clock: Clock
  readonly #pending = new PendingQueue()
  readonly #epochs = new Map<AuthorHex, number>()
  readonly #headClocks = new Map<string, Clock>()
  /** The order of committed kv rows (this replica is the only writer of its space's views, like #headClocks assumes). */
  readonly #kvOrders = new KvOrderCache(10_000)
  readonly #epochSalt: number
  /** A revoke of a local author a peer showed us before we store it (decision 18: a revoked node is told): writes refused. */
  readonly #revokedNotices = new Map<AuthorHex, Entry>()
  readonly #judgedNotices = new Set<string>()

  private constructor (store: Store, genesis: SignedGenesis, opts: ReplicaOptions = {}) {
    this.#store = store
    this.#epochSalt = opts.epochSalt ?? 0
    this.genesis = genesis
    this.key = genesis.cid.toString()
    this.id = genesis.cid.bytes
    this.owner = toHex(genesis.owner)
    this.#aclEntries = [...store.entries(this.key, 'acl')].map(e => decodeStoredEntry(e.bytes, e.sig))
    this.#acl = this.#computeAcl(this.#aclEntries)
    this.#clock = { wallMs: 0, counter: 0 }
    for (const f of store.feeds(this.key)) {
      const c = this.#headClock(f)
      if (c !== undefined && compareClocks(c, this.#clock) > 0) this.#clock = c
    }
  }

  /** A new space owned by `owner`; its id is the CID of the signed genesis. */
  static create (store: Store, owner: KeyPair, name: string, nowMs: number, opts: ReplicaOptions = {}): SpaceReplica {
    const genesis = signGenesis(owner, { name, createdMs: nowMs })
    return SpaceReplica.#firstCommit(store, genesis, opts)
  }

  /** A space this store already holds. */
  static open (store: Store, key: SpaceKey, opts: ReplicaOptions = {}): SpaceReplica {
    const g = store.genesis(key)
    if (g === undefined) throw new SpaceError('UNKNOWN_SPACE', `space ${key} is not held here; join it with an invite first`)
    return new SpaceReplica(store, decodeGenesis(g.bytes, g.sig), opts)
  }

  /**
   * A space learned from a peer (a joiner gets the genesis at the handshake).
   * Returns a Reject if the genesis is not what `expected` names or is not signed by its owner.
   */
  static adopt (store: Store, signed: SignedBytes, expected?: SpaceKey, opts: ReplicaOptions = {}): SpaceReplica | Reject {
    const genesis = decodeOrReject(() => decodeGenesis(signed[0], signed[1]))
    if ('reason' in genesis) return genesis
    if (expected !== undefined && genesis.cid.toString() !== expected) return { reason: 'wrong-space', detail: `genesis is ${genesis.cid.toString()}, not ${expected}` }
    if (!genesisSignatureValid(genesis)) return { reason: 'bad-signature', detail: 'genesis not signed by its owner' }
    const key = genesis.cid.toString()
    if (store.genesis(key) === undefined) return SpaceReplica.#firstCommit(store, genesis, opts)
    return new SpaceReplica(store, genesis, opts)
  }

  /** The genesis and the first views (the owner's acl row) in one commit: a crash leaves both or neither. */
  static #firstCommit (store: Store, genesis: SignedGenesis, opts: ReplicaOptions): SpaceReplica {
    const replica = new SpaceReplica(store, genesis, opts)
    replica.#commitRebuild([], [], { space: replica.key, genesis: { bytes: genesis.bytes, sig: genesis.sig } })
    return replica
  }

  get acl (): Acl {
    return this.#acl
  }

  get pendingCount (): number {
    return this.#pending.size
  }

  /** Bytes held pending (as PENDING_BYTES_MAX counts them). */
  get pendingBytes (): number {
    return this.#pending.bytes
  }

  /** Bytes held pending of what `peer` brought. */
  pendingBytesFrom (peer: AuthorHex): number {
    return this.#pending.bytesFrom(peer)
  }

  /** A peer left: what it brought that is still pending is forgotten. Returns the feeds (author/epoch) that held some. */
  dropPendingFrom (peer: AuthorHex): string[] {
    return this.#pending.dropFrom(peer)
  }

  // ---------------------------------------------------------------- writes

  /**
   * Appends a local entry: signed, put through the same checks as anything
   * received (so a reader cannot write even locally), committed before this
   * returns (decision 12: acknowledged means committed).
   */
  append (keyPair: KeyPair, body: Body, nowMs: number): Entry {
    const author = toHex(keyPair.publicKey)
    const epoch = this.#epochFor(author, nowMs)
    const feed = this.#store.feed(this.key, author, epoch)
    const seq = feed?.count ?? 0
    const prev = seq > 0 ? fromHex(feed?.head as string) : this.#lastHeadBefore(author, epoch)
    this.#refuseIfRevoked(author)
    if (isDataBody(body) && !atLeast(this.#acl.roleAt(author, { epoch, seq }), 'writer')) {
      throw new SpaceError('NOT_ALLOWED', `your role in space ${this.genesis.name} (${this.#acl.roleAt(author, { epoch, seq }) ?? 'none'}) does not allow ${body.t}; ask an admin of the space to grant you writer`)
    }
    const entry = signEntry(keyPair, { space: this.id, author: keyPair.publicKey, epoch, seq, prev, clock: this.#nextClock(nowMs), body })
    const result = this.#ingestAuthentic([{ entry, verified: true }], 'local', nowMs)
    if (!result.stored.some(e => bytesEqual(e.id, entry.id))) { // stored may also hold pending entries this one unblocked
      const role = this.#acl.roleAt(author, { epoch, seq })
      throw new SpaceError('NOT_ALLOWED', `your role in space ${this.genesis.name} (${role ?? 'none'}) does not allow ${body.t}${result.reject !== undefined ? ` (${result.reject.detail})` : ''}; ask an admin of the space to grant you writer`)
    }
    return entry
  }

  /**
   * Appends several local entries in one commit (a folder pass records its
   * files together): the same checks as append(), one fsync for all. All or
   * nothing: if the role does not allow them, none is written.
   */
  appendMany (keyPair: KeyPair, bodies: readonly Body[], nowMs: number): Entry[] {
    if (bodies.length === 0) return []
    const author = toHex(keyPair.publicKey)
    const epoch = this.#epochFor(author, nowMs)
    const feed = this.#store.feed(this.key, author, epoch)
    let seq = feed?.count ?? 0
    let prev = seq > 0 ? fromHex(feed?.head as string) : this.#lastHeadBefore(author, epoch)
    this.#refuseIfRevoked(author)
    for (const body of bodies) {
      if (isDataBody(body) && !atLeast(this.#acl.roleAt(author, { epoch, seq }), 'writer')) {
        throw new SpaceError('NOT_ALLOWED', `your role in space ${this.genesis.name} (${this.#acl.roleAt(author, { epoch, seq }) ?? 'none'}) does not allow ${body.t}; ask an admin of the space to grant you writer`)
      }
    }
    const entries: Entry[] = []
    for (const body of bodies) {
      const entry = signEntry(keyPair, { space: this.id, author: keyPair.publicKey, epoch, seq, prev, clock: this.#nextClock(nowMs), body })
      entries.push(entry)
      prev = entry.id
      seq++
    }
    const result = this.#ingestAuthentic(entries.map(entry => ({ entry, verified: true })), 'local', nowMs)
    const stored = new Set(result.stored.map(e => toHex(e.id)))
    const missing = entries.find(e => !stored.has(toHex(e.id)))
    if (missing !== undefined) {
      throw new SpaceError('NOT_ALLOWED', `not all of ${entries.length} entries were accepted in space ${this.genesis.name}${result.reject !== undefined ? ` (${result.reject.detail})` : ''}`)
    }
    return entries
  }

  /**
   * Opens a new epoch for a local author (decisions 6 and 15): at its first
   * write of this replica's life (a process start), since no store can prove
   * it is not a restored copy. Above every epoch it holds, at least the wall
   * time, plus this process's salt (epochs.ts).
   */
  openEpoch (author: AuthorHex, nowMs: number): number {
    const own = this.#store.feeds(this.key).filter(f => f.author === author).map(f => f.epoch)
    const epoch = nextEpoch(own, nowMs, this.#epochSalt)
    this.#epochs.set(author, epoch)
    return epoch
  }

  /**
   * Joins with an invite (decision 9): a join entry at seq 0 of a new epoch,
   * countersigned by the invite key. It stays pending until the invite entry
   * arrives from the inviter; until then pendingJoin() presents it at the handshake.
   */
  join (keyPair: KeyPair, inviteId: Uint8Array, inviteKey: KeyPair, nowMs: number): { entry: Entry, stored: boolean } {
    const author = toHex(keyPair.publicKey)
    const epoch = this.openEpoch(author, nowMs)
    const proof = signJoinProof(inviteKey, this.id, keyPair.publicKey)
    const entry = signEntry(keyPair, {
      space: this.id, author: keyPair.publicKey, epoch, seq: 0, prev: this.#lastHeadBefore(author, epoch),
      clock: this.#nextClock(nowMs), body: { t: 'join', invite: inviteId, proof }
    })
    const result = this.#ingestAuthentic([{ entry, verified: true }], 'local', nowMs)
    if (result.reject !== undefined) throw new SpaceError('INVALID_INPUT', `this invite does not match the space: ${result.reject.detail}; ask for a new invite`)
    return { entry, stored: result.stored.length > 0 }
  }

  publishStatus (keyPair: KeyPair, body: Record<string, unknown>, nowMs: number): SignedStatus {
    const { bytes, sig } = signStatus(keyPair, { space: this.id, author: keyPair.publicKey, clock: this.#nextClock(nowMs), body })
    const result = this.ingestStatus([bytes, sig], nowMs)
    if (result !== 'stored') throw new SpaceError('NOT_ALLOWED', `status not accepted: ${typeof result === 'string' ? result : result.detail}`)
    return decodeStatus(bytes, sig)
  }

  /** Where this author's next local entry goes: its epoch, and the seq after its feed's last. */
  nextPosition (author: AuthorHex, nowMs: number): { epoch: number, seq: number } {
    const epoch = this.#epochFor(author, nowMs)
    return { epoch, seq: this.#store.feed(this.key, author, epoch)?.count ?? 0 }
  }

  // ---------------------------------------------------------------- ingest

  /** A run of one feed's entries from a peer, in seq order, as `[bytes, sig]` pairs. */
  ingestRun (run: readonly SignedBytes[], from: string, nowMs: number): IngestResult {
    if (run.length === 0) return emptyResult()
    const entries: Entry[] = []
    for (const [bytes, sig] of run) {
      const e = decodeOrReject(() => decodeEntry(bytes, sig))
      if ('reason' in e) return { ...emptyResult(), reject: e }
      entries.push(e)
    }
    const first = entries[0] as Entry
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry
      if (!bytesEqual(e.space, this.id)) return { ...emptyResult(), reject: { reason: 'wrong-space', detail: 'entry of another space' } }
      if (i === 0) continue
      const before = entries[i - 1] as Entry
      if (!bytesEqual(e.author, first.author) || e.epoch !== first.epoch || e.seq !== before.seq + 1 || e.prev === null || !bytesEqual(e.prev, before.id)) {
        return { ...emptyResult(), reject: { reason: 'broken-chain', detail: `entry ${i} of the run does not follow entry ${i - 1}` } }
      }
    }
    const last = entries[entries.length - 1] as Entry
    if (!entrySignatureValid(last)) return { ...emptyResult(), reject: { reason: 'bad-signature', detail: `run ending at seq ${last.seq}` } }
    return this.#ingestAuthentic(entries.map((entry, i) => ({ entry, verified: i === entries.length - 1 })), from, nowMs)
  }

  /** Two entries at one position, each with its own signature (decision 7). */
  ingestFork (a: SignedBytes, b: SignedBytes): IngestResult {
    const ea = decodeOrReject(() => decodeEntry(a[0], a[1]))
    const eb = decodeOrReject(() => decodeEntry(b[0], b[1]))
    if ('reason' in ea) return { ...emptyResult(), reject: ea }
    if ('reason' in eb) return { ...emptyResult(), reject: eb }
    const samePosition = bytesEqual(ea.space, this.id) && bytesEqual(eb.space, this.id) && bytesEqual(ea.author, eb.author) && ea.epoch === eb.epoch && ea.seq === eb.seq
    if (!samePosition || bytesEqual(ea.id, eb.id)) return { ...emptyResult(), reject: { reason: 'bad-fork-proof', detail: 'not two different entries at one position of this space' } }
    // One proof per feed (the lowest): a proof at or after a proven fork is a duplicate, before any signature is checked.
    const frozenAt = this.#store.feed(this.key, toHex(ea.author), ea.epoch)?.frozenAt
    if (frozenAt != null && frozenAt <= ea.seq) return { ...emptyResult(), duplicates: 1 }
    // Only a position someone granted can be forked (decision 17): two entries a stranger signed in its own feed prove nothing.
    if (ea.seq >= this.#acl.feedLimit(toHex(ea.author), ea.epoch)) return { ...emptyResult(), reject: { reason: 'ungranted-fork', detail: `seq ${ea.seq} of a feed no grant covers here` } }
    if (!entrySignatureValid(ea) || !entrySignatureValid(eb)) return { ...emptyResult(), reject: { reason: 'bad-fork-proof', detail: 'an entry of the proof is not signed by its author' } }
    return this.#commitFork(ea, eb)
  }

  /** A standalone status record: kept only if newer than what we hold for its author. */
  ingestStatus (record: SignedBytes, nowMs: number): 'stored' | 'stale' | 'not-member' | 'future' | Reject {
    const s = decodeOrReject(() => decodeStatus(record[0], record[1]))
    if ('reason' in s) return s
    if (!bytesEqual(s.space, this.id)) return { reason: 'wrong-space', detail: 'status of another space' }
    const author = toHex(s.author)
    if (this.#acl.currentRole(author) === null) return 'not-member'
    if (s.clock.wallMs > nowMs + CLOCK_SKEW_MAX_MS) return 'future'
    // Staleness before the signature: the copies of a record that reach us
    // from several neighbours cost a lookup, not a verification each.
    const old = this.status(author)
    if (old !== undefined && (compareClocks(old.clock, s.clock) || compareBytes(old.id, s.id)) >= 0) return 'stale'
    if (!statusSignatureValid(s.author, s.id, s.sig)) return { reason: 'bad-signature', detail: 'status record not signed by its author' }
    this.#store.commit({ space: this.key, viewWrites: [{ view: 'status', key: s.author, value: encodeCborPair(record) }], durable: false })
    return 'stored'
  }

  /** Retries pending entries: after time passed (clock skew) or the ACL changed. */
  retryPending (nowMs: number): IngestResult[] {
    const results: IngestResult[] = []
    for (const feed of this.#pending.feeds()) {
      const [author, epochText] = feed.split('/') as [string, string]
      const count = this.#store.feed(this.key, author, Number(epochText))?.count ?? 0
      const run = this.#pending.takeRun(feed, count)
      if (run.length === 0) continue
      for (const group of groupByPeer(run)) results.push(this.#ingestAuthentic(group.items, group.from, nowMs))
    }
    return results
  }

  #ingestAuthentic (items: readonly AuthEntry[], from: string, nowMs: number): IngestResult {
    const result = emptyResult()
    const head = items[0]?.entry
    if (head === undefined) return result
    const author = toHex(head.author)
    const epoch = head.epoch
    const feedKey = `${author}/${epoch}`
    const feed = this.#store.feed(this.key, author, epoch)
    let count = feed?.count ?? 0
    const frozenAt = feed?.frozenAt ?? null
    const verifiedNow: string[] = []
    let i = 0
    // Skip what we hold; a different entry at a held position is a fork.
    for (; i < items.length && (items[i] as AuthEntry).entry.seq < count; i++) {
      const { entry, verified } = items[i] as AuthEntry
      const held = this.#store.entryAt(this.key, author, epoch, entry.seq) as StoredEntry
      if (held.id === toHex(entry.id)) {
        result.duplicates++
        if (verified && !held.verified) verifiedNow.push(held.id)
        continue
      }
      const heldEntry = readOrSkip(() => decodeStoredEntry(held.bytes, held.sig))
      if (heldEntry === undefined) return result // held under an older version's weaker checks: no proof can be made of it
      if (!entrySignatureValid(entry)) return { ...result, reject: { reason: 'bad-signature', detail: `entry at a forked position ${entry.seq} is not signed by its author` } }
      if (!held.verified && !entrySignatureValid(heldEntry)) return result
      return { ...this.#commitFork(heldEntry, entry), duplicates: result.duplicates }
    }
    const rest = items.slice(i).filter(it => frozenAt === null || it.entry.seq < frozenAt)
    result.dropped = items.length - i - rest.length
    if (rest.length === 0) return this.#commitVerified(result, verifiedNow)
    const first = (rest[0] as AuthEntry).entry
    if (first.seq > count) {
      result.pending = this.#pending.add(feedKey, rest.map(it => ({ ...it, from })))
      return this.#commitVerified(result, verifiedNow)
    }
    if (count > 0 && (first.prev === null || toHex(first.prev) !== feed?.head)) {
      result.diverged = { author, epoch, seq: count - 1 }
      return this.#commitVerified(result, verifiedNow)
    }
    let prevClock = count > 0 ? this.#headClock(feed as FeedState) : undefined
    let acl = this.#acl
    const aclAdded: Entry[] = []
    const toStore: AuthEntry[] = []
    for (let k = 0; k < rest.length; k++) {
      const item = rest[k] as AuthEntry
      const e = item.entry
      if (prevClock !== undefined && compareClocks(e.clock, prevClock) <= 0) {
        result.reject = { reason: 'clock-regression', detail: `seq ${e.seq} has a clock not after seq ${e.seq - 1}` }
        break
      }
      const blocked = e.clock.wallMs > nowMs + CLOCK_SKEW_MAX_MS || (e.seq >= acl.feedLimit(author, epoch) && !(e.seq === 0 && e.body.t === 'join'))
      const joinCheck = e.body.t === 'join' ? this.#checkJoin(e, aclAdded) : 'ok'
      if (joinCheck === 'bad') {
        result.reject = { reason: 'bad-join-proof', detail: `join at seq ${e.seq} is not countersigned by its invite's key` }
        break
      }
      if (blocked || joinCheck === 'missing') {
        result.pending += this.#pending.add(feedKey, rest.slice(k).map(it => ({ ...it, from })))
        break
      }
      toStore.push(item)
      prevClock = e.clock
      if (ACL_TYPES.includes(e.body.t)) {
        aclAdded.push(e)
        // Only a join changes the coverage of its own feed (the rest of this run); other acl entries take effect at the commit.
        if (e.body.t === 'join') acl = this.#computeAcl([...this.#aclEntries, ...aclAdded])
      }
    }
    if (toStore.length > 0) this.#commitEntries(toStore, aclAdded, acl, verifiedNow)
    else this.#commitVerified(result, verifiedNow)
    result.stored.push(...toStore.map(it => it.entry))
    result.aclChanged = aclAdded.length > 0
    if (toStore.length > 0) this.#retryAfterStore(feedKey, nowMs, result)
    return result
  }

  #commitVerified (result: IngestResult, verifiedNow: readonly string[]): IngestResult {
    if (verifiedNow.length > 0) this.#store.commit({ space: this.key, verified: verifiedNow })
    return result
  }

  #commitEntries (items: readonly AuthEntry[], aclAdded: readonly Entry[], acl: Acl, verifiedNow: readonly string[]): void {
    const stored: StoredEntry[] = items.map(({ entry, verified }) => ({
      author: toHex(entry.author), epoch: entry.epoch, seq: entry.seq, id: toHex(entry.id), bytes: entry.bytes, sig: entry.sig,
      verified, kind: ACL_TYPES.includes(entry.body.t) ? 'acl' : 'data'
    }))
    const batch: Batch = { space: this.key, entries: stored, verified: verifiedNow }
    if (aclAdded.length > 0) {
      const next = this.#computeAcl([...this.#aclEntries, ...aclAdded])
      if (this.#reachesBack(this.#acl, next)) this.#commitRebuild(items.map(it => it.entry), aclAdded, batch, next)
      else this.#commitAclChange(items, aclAdded, next, batch)
    } else {
      const overlay = new ViewOverlay({ get: (view, key) => this.#store.viewGet(this.key, view, key) }, this.#kvOrders)
      for (const { entry } of items) if (this.#effectiveData(acl, entry)) applyDataEntry(overlay, entry)
      this.#store.commit({ ...batch, viewWrites: overlay.writes() })
      this.#kvOrders.remember(overlay)
    }
    const last = (items[items.length - 1] as AuthEntry).entry
    this.#headClocks.set(`${toHex(last.author)}/${last.epoch}`, last.clock)
    if (compareClocks(last.clock, this.#clock) > 0) this.#clock = last.clock
  }

  /**
   * Recomputes the ACL and every view from all stored entries plus `added`,
   * and commits them with `batch` (replacing all view rows): after an acl
   * entry or a fork proof, whose effect can reach back over stored entries.
   */
  #commitRebuild (added: readonly Entry[], aclAdded: readonly Entry[], batch?: Batch, acl?: Acl): void {
    // Memory follows the store only once the commit succeeded (a full disk throws, and nothing changed).
    const next = acl ?? this.#computeAcl([...this.#aclEntries, ...aclAdded], batch?.fork)
    const overlay = new ViewOverlay(EMPTY_ROWS)
    const apply = (e: Entry): void => { if (this.#effectiveData(next, e)) applyDataEntry(overlay, e) }
    // An entry stored under an older version's weaker checks that today's decoder refuses is held but not effective, alike on every node.
    for (const stored of this.#store.entries(this.key, 'data')) { const e = readOrSkip(() => decodeStoredEntry(stored.bytes, stored.sig)); if (e !== undefined) apply(e) }
    for (const e of added) if (isDataBody(e.body)) apply(e)
    const statusRows: ViewWrite[] = []
    for (const [key, value] of this.#store.viewRows(this.key, 'status')) {
      if (next.currentRole(toHex(key)) !== null) statusRows.push({ view: 'status', key, value })
    }
    this.#kvOrders.clear()
    this.#store.commit({ space: this.key, ...batch, replaceViews: true, viewWrites: [...overlay.writes(), ...aclRows(next), ...statusRows] })
    this.#aclEntries.push(...aclAdded)
    this.#acl = next
    this.#kvOrders.remember(overlay) // built from no rows: every kv row there is
  }

  /**
   * Whether going from ACL `before` to `after` changes which stored data
   * entries are effective: only then must the views be rebuilt. Most acl
   * entries (an invite, a join, a grant to a new member) open windows over
   * feeds that hold no data yet, and a rebuild would read every entry.
   */
  #reachesBack (before: Acl, after: Acl): boolean {
    const changed = before.changedAuthors(after)
    if (changed === 'all') return true
    for (const author of changed) {
      for (const pos of this.#store.dataPositions(this.key, author)) {
        if (atLeast(before.roleAt(author, pos), 'writer') !== atLeast(after.roleAt(author, pos), 'writer')) return true
      }
    }
    return false
  }

  /**
   * Commits a batch with acl entries whose new ACL (`acl`) leaves every stored
   * data entry as effective as it was: the batch's data entries are applied
   * incrementally, the acl rows rewritten, and the status rows of members who
   * are members no more dropped, as a rebuild would.
   */
  #commitAclChange (items: readonly AuthEntry[], aclAdded: readonly Entry[], acl: Acl, batch: Batch): void {
    const before = this.#acl
    const overlay = new ViewOverlay({ get: (view, key) => this.#store.viewGet(this.key, view, key) }, this.#kvOrders)
    for (const { entry } of items) if (this.#effectiveData(acl, entry)) applyDataEntry(overlay, entry)
    const now = new Set(acl.members().map(m => m.member))
    const removed: ViewWrite[] = []
    for (const m of before.members()) {
      if (!now.has(m.member)) removed.push({ view: 'acl', key: fromHex(m.member), value: null })
      if (m.role !== null && acl.currentRole(m.member) === null) removed.push({ view: 'status', key: fromHex(m.member), value: null })
    }
    this.#store.commit({ ...batch, viewWrites: [...overlay.writes(), ...removed, ...aclRows(acl)] })
    this.#aclEntries.push(...aclAdded)
    this.#acl = acl
    this.#kvOrders.remember(overlay)
  }

  #commitFork (a: Entry, b: Entry): IngestResult {
    const author = toHex(a.author)
    const feed = this.#store.feed(this.key, author, a.epoch)
    if (feed?.frozenAt != null && feed.frozenAt <= a.seq) return { ...emptyResult(), duplicates: 1 }
    const [x, y] = compareBytes(a.id, b.id) < 0 ? [a, b] : [b, a]
    const fork: ForkProof = { author, epoch: a.epoch, seq: a.seq, a: [x.bytes, x.sig], b: [y.bytes, y.sig] }
    this.#commitRebuild([], [], { space: this.key, fork })
    return { ...emptyResult(), fork, aclChanged: true }
  }

  #retryAfterStore (feedKey: string, nowMs: number, result: IngestResult): void {
    const [author, epochText] = feedKey.split('/') as [string, string]
    const count = this.#store.feed(this.key, author, Number(epochText))?.count ?? 0
    const next = this.#pending.takeRun(feedKey, count)
    const more = [...groupByPeer(next).map(g => this.#ingestAuthentic(g.items, g.from, nowMs))]
    if (result.aclChanged) more.push(...this.retryPending(nowMs))
    for (const r of more) {
      result.stored.push(...r.stored)
      result.duplicates += r.duplicates
      result.aclChanged ||= r.aclChanged
      if (r.fork !== undefined) result.fork ??= r.fork
    }
  }

  /** 'missing' while the invite is not stored (pending); 'bad' if the proof does not verify. */
  #checkJoin (e: Entry, aclAdded: readonly Entry[]): 'ok' | 'missing' | 'bad' {
    assert.equal(e.body.t, 'join')
    if (e.body.t !== 'join') return 'bad'
    const inviteId = toHex(e.body.invite)
    const invite = aclAdded.find(x => toHex(x.id) === inviteId) ?? this.#aclEntries.find(x => toHex(x.id) === inviteId)
    if (invite === undefined) return 'missing'
    if (invite.body.t !== 'invite') return 'bad'
    return joinProofValid(invite.body.key, this.id, e.author, e.body.proof) ? 'ok' : 'bad'
  }

  #effectiveData (acl: Acl, e: Entry): boolean {
    return isDataBody(e.body) && atLeast(acl.roleAt(toHex(e.author), e), 'writer')
  }

  #computeAcl (entries: readonly Entry[], extraFork?: ForkProof): Acl {
    const forks: ForkAt[] = this.#store.forks(this.key).map(f => ({ author: f.author, epoch: f.epoch, seq: f.seq }))
    if (extraFork !== undefined) forks.push({ author: extraFork.author, epoch: extraFork.epoch, seq: extraFork.seq })
    const proofs = [...this.#store.forks(this.key), ...(extraFork !== undefined ? [extraFork] : [])]
    const forkEntries = proofs.flatMap(f => [f.a, f.b]).flatMap(([bytes, sig]) => readOrSkip(() => decodeStoredEntry(bytes, sig)) ?? [])
    return computeAcl({ owner: this.owner, entries, forks, forkEntries })
  }

  #epochFor (author: AuthorHex, nowMs: number): number {
    const known = this.#epochs.get(author)
    if (known !== undefined && this.#store.feed(this.key, author, known)?.frozenAt == null) return known // a proven fork: go on in a new epoch (decision 7)
    // Only an epoch this replica opened is continued: a stored one may have gone on in a copy of this store (decision 15).
    return this.openEpoch(author, nowMs)
  }

  #lastHeadBefore (author: AuthorHex, epoch: number): Uint8Array | null {
    const earlier = this.#store.feeds(this.key).filter(f => f.author === author && f.epoch < epoch && f.head !== null)
    const last = earlier.sort((a, b) => b.epoch - a.epoch)[0]
    return last?.head != null ? fromHex(last.head) : null
  }

  #nextClock (nowMs: number): Clock {
    const c = this.#clock
    const next = nowMs > c.wallMs ? { wallMs: Math.min(nowMs, POSITION_MAX), counter: 0 } : { wallMs: c.wallMs, counter: Math.min(c.counter + 1, CLOCK_COUNTER_MAX) }
    this.#clock = next
    return next
  }

  #headClock (feed: FeedState): Clock | undefined {
    const key = `${feed.author}/${feed.epoch}`
    const cached = this.#headClocks.get(key)
    if (cached !== undefined) return cached
    if (feed.count === 0) return undefined
    const head = this.#store.entryAt(this.key, feed.author, feed.epoch, feed.count - 1) as StoredEntry
    // An entry stored under an older version's weaker checks may no longer decode: its feed still goes on from its clock.
    const clock = readOrSkip(() => decodeStoredEntry(head.bytes, head.sig).clock) ?? storedEntryClock(head.bytes)
    this.#headClocks.set(key, clock)
    return clock
  }

  // ---------------------------------------------------------------- sync support

  /** This node's version vector for the space (frozen feeds end before their fork, decision 7). */
  vector (): FeedRow[] {
    return this.#store.feeds(this.key).map(f => this.#row(f))
  }

  feedRow (author: AuthorHex, epoch: number): FeedRow | undefined {
    const f = this.#store.feed(this.key, author, epoch)
    return f === undefined ? undefined : this.#row(f)
  }

  #row (f: FeedState): FeedRow {
    const count = f.frozenAt === null ? f.count : Math.min(f.count, f.frozenAt)
    const head = count === f.count ? f.head : this.#store.entryAt(this.key, f.author, f.epoch, count - 1)?.id ?? null
    return { author: fromHex(f.author), epoch: f.epoch, count, head: head === null ? null : fromHex(head), frozen: f.frozenAt !== null }
  }

  /** How far a feed is worth pulling: below the fork, and below the ACL's limit (seq 0 always: it may be a join). */
  pullLimit (author: AuthorHex, epoch: number): number {
    const frozenAt = this.#store.feed(this.key, author, epoch)?.frozenAt ?? Infinity
    return Math.min(frozenAt, Math.max(1, this.#acl.feedLimit(author, epoch)))
  }

  /**
   * Entries [from, to) of a feed to send, ending at an entry whose own
   * signature is verified (decision 2), within one message's limits. If no
   * such entry is in reach, the server verifies the last one itself once.
   */
  serve (author: AuthorHex, epoch: number, from: number, to: number): SignedBytes[] {
    const limit = Math.min(to, this.pullLimit(author, epoch))
    if (from >= limit) return []
    const run = this.#store.run(this.key, author, epoch, from, limit, RUN_ENTRIES_MAX)
    let bytes = 0
    let end = 0
    while (end < run.length && bytes + (run[end] as StoredEntry).bytes.length <= RUN_BYTES_MAX) bytes += (run[end++] as StoredEntry).bytes.length
    let last = end - 1
    while (last >= 0 && !(run[last] as StoredEntry).verified) last--
    if (last < 0 && end > 0) {
      const candidate = run[end - 1] as StoredEntry
      if (entrySignatureValid(decodeStoredEntry(candidate.bytes, candidate.sig))) {
        this.#store.commit({ space: this.key, verified: [candidate.id] })
        last = end - 1
      }
    }
    return run.slice(0, last + 1).map(e => [e.bytes, e.sig] as const)
  }

  /** Id of the stored entry at a position (hex), for comparing heads with a peer's. */
  entryIdAt (author: AuthorHex, epoch: number, seq: number): string | undefined {
    return this.#store.entryAt(this.key, author, epoch, seq)?.id
  }

  /** Where pulling a feed resumes: stored entries plus the contiguous run already held pending (not re-asked for). */
  resumeAt (author: AuthorHex, epoch: number): number {
    const count = this.#store.feed(this.key, author, epoch)?.count ?? 0
    return this.#pending.contiguousEnd(`${author}/${epoch}`, count)
  }

  /**
   * Our own join while it waits for its invite (it is pending here until the
   * inviter's feed arrives): presented at the handshake, so the inviter can
   * store it and start serving us (decision 9).
   */
  pendingJoin (author: AuthorHex): SignedBytes | undefined {
    let newest: Entry | undefined
    for (const feed of this.#pending.feeds()) {
      if (!feed.startsWith(`${author}/`)) continue
      const first = this.#pending.peek(feed, 0)
      // The newest join is the one its user waits on (an older one may have been refused).
      if (first !== undefined && first.entry.body.t === 'join' && (newest === undefined || first.entry.epoch > newest.epoch)) newest = first.entry
    }
    return newest === undefined ? undefined : [newest.bytes, newest.sig]
  }

  /**
   * A revoke of `member` (a local author) shown by a peer before this node can
   * store it (decision 18): it counts iff adding it to the ACL entries held
   * here leaves the member no role, judged by the same rules as a stored one.
   * Then local writes are refused until it is stored (or for this run of the
   * daemon). True if it is noted now.
   */
  noteRevoke (entry: Entry, member: AuthorHex): boolean {
    if (entry.body.t !== 'acl.revoke' || toHex(entry.body.member) !== member || !bytesEqual(entry.space, this.id)) return false
    if (this.#revokedNotices.has(member) || this.#acl.currentRole(member) === null) return false
    // Each revoke is judged once (a peer repeating one that does not count costs a lookup, not an ACL).
    const id = `${toHex(entry.id)}|${this.#aclEntries.length}` // judged again once more acl entries are held
    if (this.#judgedNotices.has(id)) return false
    if (this.#judgedNotices.size >= 256) this.#judgedNotices.clear()
    this.#judgedNotices.add(id)
    if (!entrySignatureValid(entry) || this.#computeAcl([...this.#aclEntries, entry]).currentRole(member) !== null) return false
    this.#revokedNotices.set(member, entry)
    return true
  }

  /** The revoke that took `member`'s role (stored, or noted from a peer), for telling it or the user; undefined while it has one. */
  revokeOf (member: AuthorHex): Entry | undefined {
    const noted = this.#revokedNotices.get(member)
    if (noted !== undefined) return noted
    if (this.#acl.currentRole(member) !== null) return undefined
    return this.#aclEntries.filter(e => e.body.t === 'acl.revoke' && toHex(e.body.member) === member && atLeast(this.#acl.roleAt(toHex(e.author), e), 'admin')).sort((a, b) => compareBytes(a.id, b.id))[0]
  }

  /** The role `author` holds from now on as this node knows it: null after a revoke it was shown (see noteRevoke). */
  localRole (author: AuthorHex): Role | null {
    return this.#revokedNotices.has(author) ? null : this.#acl.currentRole(author)
  }

  #refuseIfRevoked (author: AuthorHex): void {
    if (this.#acl.currentRole(author) !== null && !this.#revokedNotices.has(author)) return
    const revoke = this.revokeOf(author)
    if (revoke === undefined) return
    throw new SpaceError('NOT_ALLOWED', `you were revoked from space ${this.genesis.name} by ${toHex(revoke.author).slice(0, 16)}… (revoke entry ${toHex(revoke.id).slice(0, 16)}…); nothing was written; ask an admin of the space to grant you a role again`)
  }

  /** When an invite stored here expires (ms), or undefined if it is not held. */
  inviteExpiresMs (inviteId: Uint8Array): number | undefined {
    const hex = toHex(inviteId)
    const invite = this.#aclEntries.find(e => toHex(e.id) === hex)
    return invite?.body.t === 'invite' ? invite.body.expiresMs : undefined
  }

  forkProofs (): ForkProof[] {
    return this.#store.forks(this.key)
  }

  statusHeads (): { author: Uint8Array, clock: Clock }[] {
    return this.statuses().map(s => ({ author: s.author, clock: s.clock }))
  }

  /** The record as stored (its bytes and signature: serving one costs no decoding), or undefined if the row does not decode. */
  statusRecord (author: AuthorHex): SignedBytes | undefined {
    const row = this.#store.viewGet(this.key, 'status', fromHex(author))
    return row === undefined ? undefined : readOrSkip(() => decodeCbor(row, 'status row', 1 << 20, false) as SignedBytes)
  }

  // ---------------------------------------------------------------- views

  /**
   * SHA-256 over every row of the given views, in view then key order: two
   * nodes with equal hashes answer every read the same. Status is left out by
   * default: it is telemetry pushed on its own path, not derived from feeds.
   */
  viewHash (views: readonly ViewName[] = DERIVED_VIEWS): string {
    return hashRows(views.map(view => [view, this.#store.viewRows(this.key, view)] as const))
  }

  /** The same hash over views rebuilt from the stored entries alone (a check of invariant 2; never used on the hot path). */
  recomputedViewHash (views: readonly ViewName[] = DERIVED_VIEWS): string {
    const acl = this.#computeAcl([...this.#store.entries(this.key, 'acl')].map(e => decodeStoredEntry(e.bytes, e.sig)))
    const overlay = new ViewOverlay(EMPTY_ROWS)
    for (const stored of this.#store.entries(this.key, 'data')) {
      const e = readOrSkip(() => decodeStoredEntry(stored.bytes, stored.sig))
      if (e !== undefined && this.#effectiveData(acl, e)) applyDataEntry(overlay, e)
    }
    const rows = [...overlay.writes(), ...aclRows(acl)].filter(w => w.value !== null)
    return hashRows(views.map(view => [view, rows.filter(r => r.view === view).map(r => [r.key, r.value as Uint8Array] as const).sort((a, b) => compareBytes(a[0], b[0]))] as const))
  }

  kvGet (key: string): { value: unknown, author: AuthorHex } | undefined {
    const row = this.#store.viewGet(this.key, 'kv', new Uint8Array(Buffer.from(key, 'utf8')))
    if (row === undefined) return undefined
    const r = readOrMark(() => decodeCbor(row, 'kv row', 1 << 20, false) as [number, number, Uint8Array, number, number, Uint8Array, boolean, unknown])
    if (!Array.isArray(r)) return { value: r, author: '' }
    return r[6] === true ? undefined : { value: r[7], author: r[2] instanceof Uint8Array ? toHex(r[2]) : '' }
  }

  /** Every key with its value; a row that cannot be read has a marker for its value (space/reads.ts). */
  kvList (): { key: string, value: unknown }[] {
    const out: { key: string, value: unknown }[] = []
    for (const [key, row] of this.#store.viewRows(this.key, 'kv')) {
      const r = readOrMark(() => decodeCbor(row, 'kv row', 1 << 20, false) as unknown[])
      if (!Array.isArray(r)) out.push({ key: Buffer.from(key).toString('utf8'), value: r })
      else if (r[6] !== true) out.push({ key: Buffer.from(key).toString('utf8'), value: r[7] })
    }
    return out
  }

  /**
   * A path's current version and its conflicts: of the versions nobody
   * superseded, the winner is a file over a deletion, then the newer mtime,
   * then the later clock, then the higher author and id (as Syncthing
   * settles a conflict); the others are conflicts, kept, never lost.
   */
  fileGet (path: string): FileState | undefined {
    const row = this.#store.viewGet(this.key, 'files', new Uint8Array(Buffer.from(path, 'utf8')))
    return row === undefined ? undefined : this.#fileState(path, row)
  }

  /** Every path that has a version, in path order (deleted ones included, with `current.deleted`). */
  filesList (): FileState[] {
    return [...this.#store.viewRows(this.key, 'files')].map(([key, row]) => this.#fileState(Buffer.from(key).toString('utf8'), row))
  }

  #fileState (path: string, row: Uint8Array): FileState {
    const versions = decodeFileRow(row).heads.map(id => {
      const stored = this.#store.entryById(this.key, toHex(id))
      assert.ok(stored !== undefined, `files view names entry ${toHex(id)}, which is not stored`)
      const e = decodeStoredEntry(stored.bytes, stored.sig)
      assert.ok(e.body.t === 'file')
      const { t: _, parts, ...body } = e.body
      const version = { id: toHex(e.id), author: toHex(e.author), clock: e.clock, ...body }
      return parts === undefined ? version : { ...version, ...this.#chunksFromParts(e.author, e.seq, e.epoch, parts, body.size) }
    }).sort(compareFileVersions)
    return { path, current: versions[0] as FileVersion, conflicts: versions.slice(1) }
  }

  /**
   * A big file's chunk list from its parts: file.part entries of its author
   * that come before it. One in its own epoch is held (feeds are stored
   * whole from seq 0); one in an earlier epoch may not be yet, and then the
   * version waits for it.
   */
  #chunksFromParts (author: Uint8Array, seq: number, epoch: number, parts: readonly { epoch: number, seq: number }[], size: number): { chunks: FileChunk[], problem?: string } {
    const chunks: FileChunk[] = []
    const a = toHex(author)
    for (const p of parts) {
      if (p.epoch > epoch || (p.epoch === epoch && p.seq >= seq)) return { chunks: [], problem: `its chunk list names part ${p.epoch}/${p.seq}, which does not come before it` }
      const stored = this.#store.entryAt(this.key, a, p.epoch, p.seq)
      if (stored === undefined) return { chunks: [], problem: `part ${p.epoch}/${p.seq} of its chunk list is not here yet` }
      const body = decodeStoredEntry(stored.bytes, stored.sig).body
      if (body.t !== 'file.part') return { chunks: [], problem: `its chunk list names entry ${p.epoch}/${p.seq}, which is a ${body.t}, not a part` }
      for (const c of body.chunks) chunks.push(c)
    }
    const total = chunks.reduce((n, c) => n + c[1], 0)
    if (total !== size) return { chunks: [], problem: `its parts hold ${total} bytes of chunks, not its size ${size}` }
    return { chunks }
  }

  counterGet (name: string): number {
    const row = this.#store.viewGet(this.key, 'counter', new Uint8Array(Buffer.from(name, 'utf8')))
    if (row === undefined) return 0
    const [p, n] = decodeCbor(row, 'counter row', 64, false) as [number, number]
    return p - n
  }

  ledgerList (): unknown[] {
    return [...this.#store.viewRows(this.key, 'ledger')].map(([, v]) => readOrMark(() => decodeCbor(v, 'ledger row', 1 << 20, false)))
  }

  aclList (): { member: AuthorHex, role: Role | null }[] {
    return [...this.#store.viewRows(this.key, 'acl')].map(([k, v]) => ({ member: toHex(k), role: (decodeCbor(v, 'acl row', 1 << 20, false) as { role: Role | null }).role }))
  }

  status (author: AuthorHex): SignedStatus | undefined {
    const row = this.#store.viewGet(this.key, 'status', fromHex(author))
    return row === undefined ? undefined : readStatusRow(row)
  }

  /** Every status record held that still decodes (one stored under older, weaker checks is left out, not thrown). */
  statuses (): SignedStatus[] {
    return [...this.#store.viewRows(this.key, 'status')].flatMap(([, v]) => readStatusRow(v) ?? [])
  }
}

const DERIVED_VIEWS: readonly ViewName[] = ['kv', 'counter', 'ledger', 'files', 'acl']

function hashRows (views: readonly (readonly [ViewName, Iterable<readonly [Uint8Array, Uint8Array]>])[]): string {
  const h = crypto.createHash('sha256')
  const len = Buffer.alloc(4)
  for (const [view, rows] of views) {
    h.update(view)
    for (const [key, value] of rows) {
      len.writeUInt32BE(key.length); h.update(len); h.update(key)
      len.writeUInt32BE(value.length); h.update(len); h.update(value)
    }
  }
  return h.digest('hex')
}

function readStatusRow (row: Uint8Array): SignedStatus | undefined {
  return readOrSkip(() => {
    const [bytes, sig] = decodeCbor(row, 'status row', 1 << 20, false) as [Uint8Array, Uint8Array]
    return decodeStatus(bytes, sig)
  })
}

function encodeCborPair (record: SignedBytes): Uint8Array {
  return encodeCbor([record[0], record[1]])
}

/** A decoded value, or the codec's error as a reject (decision 13: a peer's bad input is a value). */
function decodeOrReject<T extends object> (decode: () => T): T | Reject {
  try {
    return decode()
  } catch (err) {
    if (isCodecError(err)) return { reason: 'malformed', detail: err.message }
    throw err
  }
}

function groupByPeer (items: readonly PendingEntry[]): { from: string, items: AuthEntry[] }[] {
  const groups: { from: string, items: AuthEntry[] }[] = []
  for (const it of items) {
    const g = groups[groups.length - 1]
    if (g !== undefined && g.from === it.from) g.items.push(it)
    else groups.push({ from: it.from, items: [it] })
  }
  return groups
}

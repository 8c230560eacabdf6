import { compareClocks, toHex } from '../codec/index.ts'
import type { Body, Clock,
 Entry, FeedRow, Position, Role, SignedBytes, SignedGenesis, SignedStatus } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { entryIdOf, isEntryId } from '../ids/index.ts'
import type { ForkProof, Store, ViewName } from '../store/index.ts'
import type { Acl } from './acl.ts'
import { commitHeldForks } from './commits.ts'
import { recordFileVersions } from './file-versions.ts'
import type { AppendLocal, NewFileVersion } from './file-versions.ts'
import { ingestFork, ingestRun, ingestStatus, retryPending } from './ingest.ts'
import type { StatusOutcome } from './ingest.ts'
import { adoptSpace, createSpace, openSpace } from './lifecycle.ts'
import { isLeaveNotice } from './leave-notice.ts'
import * as local from './local-writes.ts'
import type { LocalBodies, LocalOutcome } from './local-writes.ts'
import { NOTHING_RELEASED } from './outcome.ts'
import type { FeedPosition, IngestResult, Reject, ReleasedByLocal } from './outcome.ts'
import { localRole, noteRevoke, revokeOf } from './revocation.ts'
import * as serving from './serving.ts'
import type { ReplicaState } from './state.ts'
import * as pages from './view-pages.ts'
import type { Page } from './view-pages.ts'
import * as reads from './view-reads.ts'
import type { FileState, FileVersion } from './views.ts'


export interface ReplicaOptions {
  /** Added to the epochs this replica opens for local authors, drawn by the node once per process (decision 15). */
  readonly epochSalt?: number
}

/**
 * One space as held by one node: its genesis, the feeds it stores, the ACL
 * computed from them, the views, and the pending queue. This class is the
 * face other folders call; each method delegates to the module that owns
 * its concern, all of them functions over one ReplicaState (state.ts):
 *   lifecycle.ts      create, open, adopt; a space's first commit
 *   local-writes.ts   appendBodies (append is its one-body case), join, status, epochs, the clock
 *   file-versions.ts  file records with their chunk-list parts, positions allocated at signing
 *   ingest.ts         runs, fork proofs and status records from peers; the pending queue
 *   commits.ts        every write to the store, and the rebuild of the views
 *   revocation.ts     revokes of a local author shown by a peer before it is stored
 *   serving.ts        what a peer is sent: vector, runs, pull limits
 *   view-reads.ts     reads of the views, each row through its codec in views.ts
 *   view-pages.ts     the kv and ledger lists a bounded page at a time
 * Pure over the store (layers.test.ts): the time comes in as `nowMs`; never
 * imports sync/, net/ or anything above.
 */
export class SpaceReplica {
  readonly #s: ReplicaState

  private constructor (state: ReplicaState) {
    this.#s = state
  }

  /** A new space owned by `owner`; its id is the CID of the signed genesis. */
  static create (store: Store, owner: KeyPair, name: string, nowMs: number, opts: ReplicaOptions = {}): SpaceReplica {
    return new SpaceReplica(createSpace(store, owner, name, nowMs, opts.epochSalt ?? 0))
  }

  /** A space this store already holds. */
  static open (store: Store, key: SpaceKey, opts: ReplicaOptions = {}): SpaceReplica {
    return new SpaceReplica(openSpace(store, key, opts.epochSalt ?? 0))
  }

  /**
   * A space learned from a peer (a joiner gets the genesis at the handshake).
   * Returns a Reject if the genesis is not what `expected` names or is not signed by its owner.
   */
  static adopt (
    store: Store, signed: SignedBytes, expected?: SpaceKey, opts: ReplicaOptions = {}
  ): SpaceReplica | Reject {
    const s = adoptSpace(store, signed, expected, opts.epochSalt ?? 0)
    return 'reason' in s ? s : new SpaceReplica(s)
  }

  get key (): SpaceKey { return this.#s.key }
  get id (): Uint8Array { return this.#s.id }
  get genesis (): SignedGenesis { return this.#s.genesis }
  get owner (): AuthorKey { return this.#s.owner }
  get acl (): Acl { return this.#s.acl }
  /** What the last local write let out of pending (stored with it), once: for the sync layer to announce. */
  takeReleasedByLocal (): ReleasedByLocal {
    const released = this.#s.releasedByLocal
    this.#s.releasedByLocal = NOTHING_RELEASED
    return released
  }

  get pendingCount (): number { return this.#s.pending.size }

  /** Bytes held pending (as PENDING_BYTES_MAX counts them). */
  get pendingBytes (): number { return this.#s.pending.bytes }

  /** Bytes held pending of what `peer` brought. */
  pendingBytesFrom (peer: AuthorKey): number { return this.#s.pending.bytesFrom(peer) }

  /** A peer left: what it brought that is still pending is forgotten. Returns the feeds (author/epoch) held. */
  dropPendingFrom (peer: AuthorKey): string[] { return this.#s.pending.dropFrom(peer) }

  // ---------------------------------------------------------------- local writes (local-writes.ts)

  /** Local entries in one commit, all or nothing (see local-writes.ts). */
  appendBodies (keyPair: KeyPair, bodies: LocalBodies, nowMs: number): Entry[] {
    return local.appendBodies(this.#s, keyPair, bodies, nowMs)
  }

  /** Data bodies of several writers in one commit, each judged alone (group commit, see local-writes.ts). */
  appendEach (keyPair: KeyPair, bodies: readonly Body[], nowMs: number): LocalOutcome[] {
    return local.appendEach(this.#s, keyPair, bodies, nowMs)
  }

  /** One local entry: appendBodies' one-body case. */
  append (keyPair: KeyPair, body: Body, nowMs: number): Entry {
    return local.appendBodies(this.#s, keyPair, [body], nowMs)[0] as Entry
  }

  /**
   * File versions with their chunk-list parts in one commit through `append` (file-versions.ts); their record ids.
   * `decoded` learns the records as a read of the files view would decode them (view-reads.ts).
   */
  recordFileVersions (
    versions: readonly NewFileVersion[], append: AppendLocal, decoded?: reads.DecodedVersions
  ): string[] {
    if (decoded === undefined) return recordFileVersions(this.#s, versions, append)
    let written: readonly Entry[] = []
    const ids = recordFileVersions(this.#s, versions, bodies => (written = append(bodies)))
    // Committed: a cache that cannot learn them must not fail the write. The next read decodes them instead.
    try {
      reads.learnFileVersions(this.#s, written, decoded)
    } catch {
      decoded.clear()
    }
    return ids
  }

  openEpoch (author: AuthorKey, nowMs: number): number { return local.openEpoch(this.#s, author, nowMs) }

  /** The highest epoch `author` opened in this space (-1: none), as a leave records it (node/left-epochs.ts). */
  highestOwnEpoch (author: AuthorKey): number { return local.highestOwnEpoch(this.#s, author) }

  /** Epochs opened from now on are above `epoch`: one this node opened before it left the space. */
  openAbove (epoch: number): void {
    if (epoch > this.#s.epochFloor) this.#s.epochFloor = epoch
  }

  join (keyPair: KeyPair, inviteId: Uint8Array, inviteKey: KeyPair, nowMs: number): { entry: Entry, stored: boolean } {
    return local.join(this.#s, keyPair, inviteId, inviteKey, nowMs)
  }

  /** Stored if newer than ours held; `after`: a clock of an earlier record of ours it must come after. */
  publishStatus (keyPair: KeyPair, body: Record<string, unknown>, nowMs: number, after?: Clock): SignedStatus {
    return local.publishStatus(this.#s, keyPair, body, nowMs, after)
  }

  /** A status record of ours, signed and not stored (a leave notice, said as the space's rows go). */
  signStatus (keyPair: KeyPair, body: Record<string, unknown>, nowMs: number): SignedStatus {
    return local.signOwnStatus(this.#s, keyPair, body, nowMs)
  }

  /** Where this author's next local entry goes: its epoch, and the seq after its feed's last. */
  nextPosition (author: AuthorKey, nowMs: number): Position { return local.nextPosition(this.#s, author, nowMs) }

  /**
   * Our own join while it waits for its invite (it is pending here until the
   * inviter's feed arrives): presented at the handshake, so the inviter can
   * store it and start serving us (decision 9).
   */
  pendingJoin (author: AuthorKey): SignedBytes | undefined {
    const join = local.pendingJoinOf(this.#s, author)
    return join === undefined ? undefined : [join.bytes, join.sig]
  }

  /** The same join as an entry: which invite it redeems, its id (a join written again reuses it: node/own-joins.ts). */
  pendingJoinEntry (author: AuthorKey): Entry | undefined { return local.pendingJoinOf(this.#s, author) }

  /** Our join as written before a restart, held (or stored) again: the entry, or undefined if it is not one of ours. */
  restoreJoin (author: AuthorKey, join: SignedBytes, nowMs: number): Entry | undefined {
    return local.restoreJoin(this.#s, author, join, nowMs)
  }

  /** Our joins still pending here, forgotten: the issuer refused them; none is presented any more. */
  dropPendingJoins (author: AuthorKey): void { local.dropPendingJoins(this.#s, author) }

  // ---------------------------------------------------------------- ingest (ingest.ts)

  /** A run of one feed's entries from a peer, in seq order, as `[bytes, sig]` pairs. */
  ingestRun (run: readonly SignedBytes[], from: string, nowMs: number): IngestResult {
    return ingestRun(this.#s, run, from, nowMs)
  }

  /** Two entries at one position, each with its own signature (decision 7). */
  ingestFork (a: SignedBytes, b: SignedBytes, nowMs: number): IngestResult { return ingestFork(this.#s, a, b, nowMs) }

  /** Fork proofs of authors whose hold is over (fork-holds.ts), committed: one result (one rebuild) an author. */
  commitHeldForks (nowMs: number): IngestResult[] { return commitHeldForks(this.#s, nowMs) }

  /** When the earliest held fork proof is due to be committed, or null if none is held. */
  nextForkDue (): number | null { return this.#s.forkHolds.nextDue() }

  /** A standalone status record: kept only if newer than what we hold for its author (and, if `now` says so, now). */
  ingestStatus (record: SignedBytes, nowMs: number, now?: (st: SignedStatus) => boolean): StatusOutcome {
    return ingestStatus(this.#s, record, nowMs, now)
  }

  /** Retries pending entries: after time passed (clock skew) or the ACL changed. */
  retryPending (nowMs: number): IngestResult[] { return retryPending(this.#s, nowMs) }

  // ---------------------------------------------------------------- revocation (revocation.ts)

  /** A revoke of `member` (a local author) shown by a peer before this node can store it (decision 18). */
  noteRevoke (entry: Entry, member: AuthorKey): boolean { return noteRevoke(this.#s, entry, member) }

  /** The revoke that took `member`'s role (stored, or noted from a peer); undefined while it has one. */
  revokeOf (member: AuthorKey): Entry | undefined { return revokeOf(this.#s, member) }

  /** The role `author` holds from now on as this node knows it: null after a revoke it was shown. */
  localRole (author: AuthorKey): Role | null { return localRole(this.#s, author) }

  /** When an invite stored here expires (ms), or undefined if it is not held. */
  inviteExpiresMs (inviteId: Uint8Array): number | undefined {
    const hex = toHex(inviteId)
    const invite = this.#s.aclEntries.find(e => entryIdOf(e.id) === hex)
    return invite?.body.t === 'invite' ? invite.body.expiresMs : undefined
  }

  forkProofs (): ForkProof[] { return this.#s.store.forks(this.#s.key) }

  // ---------------------------------------------------------------- serving (serving.ts)

  /** This node's version vector for the space (frozen feeds end before their fork, decision 7). */
  vector (): FeedRow[] { return serving.vector(this.#s) }

  feedRow (author: AuthorKey, epoch: number): FeedRow | undefined { return serving.feedRow(this.#s, author, epoch) }

  /** How far a feed is worth pulling: below the fork, and below the ACL's limit (seq 0 always: it may be a join). */
  pullLimit (author: AuthorKey, epoch: number): number { return serving.pullLimit(this.#s, author, epoch) }

  /** The seq of the fork proven of a feed (the lowest: the one proof held), or null when none is. */
  frozenAt (author: AuthorKey, epoch: number): number | null {
    return this.#s.store.feed(this.#s.key, author, epoch)?.frozenAt ?? null
  }

  /** Whether our entry at a position carries a signature its author botched (checked once). */
  botchedAt (author: AuthorKey, epoch: number, seq: number): boolean {
    return serving.botchedAt(this.#s, author, epoch, seq)
  }

  /**
   * Positions below a proof where a valid copy of ours may prove the fork lower, lowest first: wherever our entry
   * carries a botched signature, just below the proof, and where a peer showed a valid entry that differs from ours
   * (copies-elsewhere.ts).
   */
  botchedBelow (proof: FeedPosition): number[] {
    const { author, epoch, seq } = proof
    const seqs = new Set(this.#s.copiesElsewhere.below(`${author}/${epoch}`, seq))
    if (seq > 0) seqs.add(seq - 1)
    return [...seqs].filter(at => this.botchedAt(author, epoch, at))
  }

  /** Entries [from, to) of a feed to send, ending at an entry whose own signature is verified (decision 2). */
  serve (author: AuthorKey, epoch: number, from: number, to: number, checks?: serving.SignatureChecks): SignedBytes[] {
    return serving.serve(this.#s, author, epoch, from, to, checks)
  }

  /** Id of the stored entry at a position (hex), for comparing heads with a peer's. */
  entryIdAt (author: AuthorKey, epoch: number, seq: number): string | undefined {
    return serving.entryIdAt(this.#s, author, epoch, seq)
  }

  /** Where pulling a feed resumes: stored entries plus the contiguous run already held pending. */
  resumeAt (author: AuthorKey, epoch: number): number { return serving.resumeAt(this.#s, author, epoch) }

  statusHeads (): { author: Uint8Array, clock: Clock, id: Uint8Array }[] {
    return this.statuses().map(s => ({ author: s.author, clock: s.clock, id: s.id }))
  }

  /** The status record as stored, or undefined if the row does not decode. */
  statusRecord (author: AuthorKey): SignedBytes | undefined { return serving.statusRecord(this.#s, author) }

  // ---------------------------------------------------------------- views (view-reads.ts)

  /** SHA-256 over every row of the given views (status left out by default): equal hashes, equal reads. */
  viewHash (views?: readonly ViewName[]): string { return reads.viewHash(this.#s, views) }

  kvGet (key: string): { value: unknown, author: AuthorKey | null } | undefined { return reads.kvGet(this.#s, key) }

  /** Every key with its value; a row that cannot be read has a marker for its value (space/reads.ts). */
  kvList (): { key: string, value: unknown }[] { return reads.kvList(this.#s) }

  /** A path's current version and its conflicts (the winner as Syncthing settles a conflict). */
  fileGet (path: string): FileState | undefined { return reads.fileGet(this.#s, path) }

  /**
   * Every path that has a version, in path order (deleted ones included, with `current.deleted`); `decoded` keeps the
   * versions for the next list (view-reads.ts).
   */
  filesList (decoded?: reads.DecodedVersions): FileState[] { return reads.filesList(this.#s, decoded) }
  /** Superseded versions of `path` of that size and mode, newest first, a bounded number looked at (view-reads.ts). */
  supersededFileVersions (path: string, size: number, mode: number): FileVersion[] {
    return reads.supersededFileVersions(this.#s, path, size, mode)
  }

  /** Whether file version `id` (hex) is stored here, valid or not (a store put back from a backup lacks later ones). */
  holdsFileVersion (id: string): boolean { return isEntryId(id) && this.#s.store.holdsFindable(this.#s.key, id) }

  counterGet (name: string): number | bigint { return reads.counterGet(this.#s, name) }

  ledgerList (): unknown[] { return reads.ledgerList(this.#s) }

  /** A page of kv rows after the view key `after` (empty: from the first): view-pages.ts. */
  kvPage (after: Uint8Array, limit: number): Page<{ key: string, value: unknown }> {
    return pages.kvPage(this.#s, after, limit)
  }

  ledgerPage (after: Uint8Array, limit: number): Page<unknown> { return pages.ledgerPage(this.#s, after, limit) }

  aclList (): { member: AuthorKey, role: Role | null }[] { return reads.aclList(this.#s) }

  status (author: AuthorKey): SignedStatus | undefined { return reads.status(this.#s, author) }

  /**
   * Whether `author`'s node said it left this space (its newest status record here is a leave notice,
   * leave-notice.ts) and wrote nothing since: a member back (its join, any write) has an entry of a later clock.
   */
  saidItLeft (author: AuthorKey): boolean { return this.saidTheyLeft([author]).has(author) }

  /**
   * Of `authors` (every member by default), those whose node said it left this space and wrote nothing here since
   * (saidItLeft). One pass over the space's feeds, and only when some newest record is a leave notice.
   */
  saidTheyLeft (authors?: readonly AuthorKey[]): Set<AuthorKey> {
    const notices = new Map<AuthorKey, Clock>()
    for (const author of authors ?? this.aclList().map(m => m.member)) {
      const s = reads.status(this.#s, author)
      if (s !== undefined && isLeaveNotice(s)) notices.set(author, s.clock)
    }
    if (notices.size === 0) return new Set()
    for (const f of this.#s.store.feeds(this.#s.key)) {
      const at = notices.get(f.author)
      // A feed's clocks only grow (ingest.ts): its last entry is its newest, and its clock is cached.
      const last = at === undefined ? undefined : this.#s.headClock(f)
      if (last !== undefined && at !== undefined && compareClocks(last, at) > 0) notices.delete(f.author)
    }
    return new Set(notices.keys())
  }

  /** Every status record held that still decodes (one stored under older, weaker checks is left out). */
  statuses (): SignedStatus[] { return reads.statuses(this.#s) }
}

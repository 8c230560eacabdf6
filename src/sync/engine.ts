import type { CID } from 'multiformats/cid'
import {
  ACL_TYPES, bytesEqual, cidFromBytes, cidFromString, cidOf, decodeEntry, decodeMessage, decodeStatus, encodeMessage, fromHex, isCodecError, toHex,
  ENTRY_BYTES_MAX, FEEDS_PER_MESSAGE_MAX, RUN_BYTES_MAX
} from '../codec/index.ts'
import type { Body, Clock, Entry, FeedRange, FeedRow, Message, MessageType, SignedBytes, SpaceHello, StatusHead } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { MESSAGE_BYTES_MAX, RUN_ENTRIES_MAX } from '../codec/index.ts'
import { PENDING_BYTES_MAX, PENDING_BYTES_PER_PEER_MAX } from '../space/index.ts'
import type { IngestResult, SpaceReplica } from '../space/index.ts'
import { redeemDecision, SpaceError } from '../space/index.ts'
import type { AuthorHex, ForkProof, SpaceKey } from '../store/index.ts'
import {
  BAN_MS, BANNED_MAX, LATE_ANSWER_MS, PENDING_RETRY_MS, PROBE_BACK_ENTRIES, PULL_BYTES_PER_PEER_MAX, REQUEST_TIMEOUT_MS, SCORE, SUPERSEDED_MAX,
  WANT_WINDOW_BYTES, WANT_WINDOW_ENTRIES
} from './constants.ts'
import { feedKey, parseFeedKey, Session } from './session.ts'
import { ClaimBudget, CLAIMS_PER_PEER_MAX, preferredSource, UNMATCHED_TAGS_PER_PEER_MAX } from './claims.ts'
import { ServeBudget } from './serve-budget.ts'
import { helloTags, spaceTag, tagIndex } from './space-tags.ts'
import type { SharedSpace } from './session.ts'
import { emptyStats } from './stats.ts'
import type { SyncStats } from './stats.ts'

/**
 * The replication protocol as a pure state machine (one per node): bytes and
 * the time go in, bytes to send and events come out. No sockets, no timers,
 * no clock of its own, so the simulator runs exactly this code.
 *
 *   handle:  connect(peer) · disconnect(peer) · receive(peer, bytes) · tick()
 *   command: append(space, body) · publishStatus(space, body)
 *   poll:    drain() -> messages · events() · nextDeadline()
 *
 * How data moves (docs/architecture.md, "Sync protocol"):
 *   1. On connect both sides send `hello`: per space the peer is a member of,
 *      the genesis, the version vector (feed -> count, head, frozen) and status
 *      heads; every other space only as a blinded tag (space-tags.ts) that only
 *      a peer knowing the space id can match. A non-member is served nothing.
 *   2. Each side pulls what it lacks with `want` ranges, one peer per feed at
 *      a time, in windows of WANT_WINDOW_ENTRIES (receiver-driven backpressure);
 *      the peer answers with `entries` runs in chain order, or `none`.
 *   3. After storing anything, a node announces new heads (`have`) to member
 *      neighbours that do not hold them; a neighbour that lacks them pulls
 *      once, from one announcer, and asks another after REQUEST_TIMEOUT_MS.
 *   4. Fork proofs (`fork`) go to every member neighbour sharing the space.
 *   5. Garbage, invalid entries, replays and floods score the sender;
 *      honest duplicates never do. Past the limit the link ends (`bye`).
 */
export interface SpaceDirectory {
  get (key: SpaceKey): SpaceReplica | undefined
  all (): Iterable<SpaceReplica>
}

export type SyncEvent =
  | { readonly type: 'stored', readonly space: SpaceKey, readonly entries: readonly Entry[], readonly from: AuthorHex | 'local' }
  | { readonly type: 'fork', readonly space: SpaceKey, readonly proof: ForkProof }
  | { readonly type: 'misbehaviour', readonly peer: AuthorHex, readonly reason: string, readonly points: number, readonly score: number }
  | { readonly type: 'disconnect', readonly peer: AuthorHex, readonly reason: string }
  /** A status record newer than what we held was stored (ours or a peer's). */
  | { readonly type: 'status', readonly space: SpaceKey, readonly author: AuthorHex, readonly from: AuthorHex | 'local' }
  /** A peer answered a join of ours (decision 18): 'redeemed', 'waiting', or why the issuer refused it. */
  | { readonly type: 'join-answer', readonly space: SpaceKey, readonly join: string, readonly from: AuthorHex, readonly outcome: string, readonly detail: string }
  /** A peer showed us a revoke that takes our role in a space (decision 18): local writes there are refused. */
  | { readonly type: 'revoked', readonly space: SpaceKey, readonly by: AuthorHex }

export interface Outbound { readonly peer: AuthorHex, readonly type: MessageType, readonly bytes: Uint8Array }

interface Request {
  readonly peer: AuthorHex
  readonly from: number
  readonly to: number
  deadline: number
  readonly tried: ReadonlySet<AuthorHex>
  /** Entry bytes received for it so far: the answer ends at `to` or at WANT_WINDOW_BYTES. */
  bytes: number
  /** What its answer can weigh at most, reserved from the peer's PULL_BYTES_PER_PEER_MAX. */
  readonly worstBytes: number
}

/** An entry on the wire at most: its bytes, its signature and the framing around them. */
const ENTRY_WIRE_BYTES_MAX = ENTRY_BYTES_MAX + 128

/** An `entries` message at most (a run of RUN_BYTES_MAX and the signatures and framing of RUN_ENTRIES_MAX entries), and a `none`. */
const RUN_WIRE_BYTES_MAX = RUN_BYTES_MAX + RUN_ENTRIES_MAX * 80
const NONE_WIRE_BYTES = 128

/** The most a pull of `count` entries can bring (the server stops after the run that reaches WANT_WINDOW_BYTES). */
function pullWorstBytes (count: number): number {
  return Math.min(count * ENTRY_WIRE_BYTES_MAX, WANT_WINDOW_BYTES + RUN_BYTES_MAX + 1024 * 128)
}

export interface SyncInit {
  readonly keyPair: KeyPair
  readonly spaces: SpaceDirectory
  readonly nowMs: number
  /**
   * How new entries travel: `announce` (the protocol: heads announced, each
   * entry pulled once) or `flood`, naive flooding (every new entry pushed to
   * every member neighbour but its sender). Flooding exists only as the
   * baseline benchmarks measure the protocol against.
   */
  readonly relay?: Relay
  /**
   * Bytes handed out by drain() for `peer` that its transport has not yet
   * written (absent: 0, a transport that writes at once). With the engine's
   * own undrained bytes, bounded by SERVE_QUEUE_BYTES_PER_PEER_MAX.
   */
  readonly backlog?: (peer: AuthorHex) => number
}

export type Relay = 'announce' | 'flood'

export class SyncEngine {
  readonly self: AuthorHex
  readonly stats: SyncStats = emptyStats()
  readonly #keyPair: KeyPair
  readonly #spaces: SpaceDirectory
  readonly #flood: boolean
  readonly #sessions = new Map<AuthorHex, Session>()
  readonly #banned = new Map<AuthorHex, number>()
  readonly #requests = new Map<string, Request>()
  /** Per peer: the worst-case bytes of its open pulls, and the pulls that wait for it to have room. */
  readonly #pullBytes = new Map<AuthorHex, number>()
  readonly #waiting = new Map<AuthorHex, Set<string>>()
  readonly #probes = new Set<string>()
  /** Requests given up on (timeout, `none`, disconnect): their late answers are honest duplicates, never replays. */
  readonly #superseded = new Map<string, number>()
  #outbox: { peer: AuthorHex, msg: Message }[] = []
  /**
   * Status records announced to us and asked of one announcer (key: space
   * and author): the newest clock announced, who was asked, who else
   * announced it (asked next, on a timeout or an older answer), until when.
   */
  readonly #statusWants = new Map<string, { space: SpaceKey, author: AuthorHex, clock: Clock, asked: AuthorHex, others: AuthorHex[], deadline: number }>()
  /** The clock of the status record we hold per space and author (null: none), so that an announcement costs no decoding. */
  readonly #statusClocks = new Map<string, Clock | null>()
  readonly #haves = new Map<AuthorHex, Map<SpaceKey, Map<string, FeedRow>>>()
  /** What each peer can make us remember (claims.ts), and the entry bytes queued for it since the last drain(). */
  readonly #claims = new ClaimBudget()
  readonly #serving: ServeBudget
  /** Per peer: the tag it would give each of our spaces (space-tags.ts), made once per session. */
  readonly #tagIndex = new Map<AuthorHex, Map<string, SpaceKey>>()
  #events: SyncEvent[] = []
  #sessionOrder = 0
  #nextPendingRetry: number | null = null
  /** Revoked peers shown their revoke in this session (`peer|space`), once each. */
  readonly #toldRevoked = new Set<string>()

  constructor (init: SyncInit) {
    this.#keyPair = init.keyPair
    this.#spaces = init.spaces
    this.#flood = init.relay === 'flood'
    this.#serving = new ServeBudget(init.backlog)
    this.self = toHex(init.keyPair.publicKey)
  }

  // ------------------------------------------------------------------ handle

  /** A link to `peer` is up. False if the peer is banned for misbehaviour (the caller closes the link). */
  connect (peer: AuthorHex, nowMs: number): boolean {
    const until = this.#banned.get(peer)
    if (until !== undefined && until > nowMs) return false
    this.#banned.delete(peer)
    if (this.#sessions.has(peer)) this.disconnect(peer, nowMs)
    const session = new Session(peer, this.#sessionOrder++, nowMs, p => this.#claims.take(p))
    this.#sessions.set(peer, session)
    this.#sendHello(session, [...this.#spaces.all()])
    return true
  }

  disconnect (peer: AuthorHex, nowMs: number): void {
    if (!this.#sessions.delete(peer)) return
    this.#haves.delete(peer)
    for (const told of [...this.#toldRevoked]) if (told.startsWith(`${peer}|`)) this.#toldRevoked.delete(told)
    for (const [key, wanted] of [...this.#statusWants]) if (wanted.asked === peer) this.#askNextAnnouncer(key, nowMs)
    for (const p of [...this.#probes]) if (p.startsWith(`${peer}|`)) this.#probes.delete(p)
    for (const [key, req] of [...this.#requests]) {
      if (req.peer !== peer) continue
      this.#closeRequest(key)
      const [space, fk] = splitRequestKey(key)
      this.#plan(space, fk, nowMs, new Set([...req.tried, peer]))
    }
    const waiting = this.#waiting.get(peer) ?? new Set()
    this.#waiting.delete(peer)
    this.#pullBytes.delete(peer)
    for (const key of waiting) {
      const [space, fk] = splitRequestKey(key)
      this.#plan(space, fk, nowMs)
    }
    this.#claims.release(peer)
    this.#serving.forget(peer)
    this.#tagIndex.delete(peer)
    // What it brought that still waits is forgotten (decision 17); those feeds are pulled again from whoever holds them.
    for (const replica of this.#spaces.all()) for (const fk of replica.dropPendingFrom(peer)) this.#plan(replica.key, fk, nowMs)
  }

  isConnected (peer: AuthorHex): boolean {
    return this.#sessions.has(peer)
  }

  peers (): AuthorHex[] {
    return [...this.#sessions.keys()]
  }

  bannedUntil (peer: AuthorHex): number | undefined {
    return this.#banned.get(peer)
  }

  receive (peer: AuthorHex, bytes: Uint8Array, nowMs: number): void {
    const session = this.#sessions.get(peer)
    if (session === undefined) return
    if (!session.score.takeMessage(nowMs) && !this.#flood) this.#penalize(session, SCORE.flood, 'flooding: messages past the rate budget', nowMs)
    if (!this.#sessions.has(peer)) return
    let msg: Message
    try {
      msg = decodeMessage(bytes)
    } catch (err) {
      if (!isCodecError(err)) throw err
      this.stats.garbageIn++
      this.#penalize(session, SCORE.garbage, `garbage: ${err.message}`, nowMs)
      return
    }
    this.stats.count('in', msg.m, bytes.length)
    switch (msg.m) {
      case 'hello': return this.#onHello(session, msg.spaces, nowMs, msg.tags ?? [])
      case 'want': return this.#onWant(session, msg.space, msg.ranges)
      case 'entries': return this.#onEntries(session, msg.space, msg.run, nowMs)
      case 'none': return this.#onNone(session, msg.space, msg.range, nowMs)
      case 'have': return this.#onHave(session, msg.space, msg.heads, nowMs)
      case 'fork': return this.#onFork(session, msg.space, msg.a, msg.b, nowMs)
      case 'status': return this.#onStatus(session, msg.space, msg.record, nowMs)
      case 'status-have': return this.#onStatusHave(session, msg.space, msg.heads, nowMs)
      case 'status-want': return this.#onStatusWant(session, msg.space, msg.authors)
      case 'join-answer': return this.#onJoinAnswer(session, msg.space, msg.join, msg.outcome, msg.detail)
      case 'bye': this.disconnect(peer, nowMs); return
      default: assertNever(msg)
    }
  }

  /** A message made the peer claim more than its budget (claims.ts): charged once for it. */
  #chargeOverClaim (session: Session, nowMs: number): void {
    if (!session.overClaimed || !this.#sessions.has(session.peer)) return
    session.overClaimed = false
    this.#penalize(session, SCORE.overClaim, `claims past the budget: over ${CLAIMS_PER_PEER_MAX} feeds and status heads`, nowMs)
  }

  /** Misbehaviour seen below the protocol (an oversized frame, too many streams): scored like garbage. */
  reportGarbage (peer: AuthorHex, reason: string, nowMs: number): void {
    const session = this.#sessions.get(peer)
    if (session === undefined) return
    this.stats.garbageIn++
    this.#penalize(session, SCORE.garbage, `garbage: ${reason}`, nowMs)
  }

  /** The block transfer (net/) caught this peer sending a chunk that does not match its hash. */
  reportCorruptBlock (peer: AuthorHex, reason: string, nowMs: number): void {
    const session = this.#sessions.get(peer)
    if (session === undefined) return
    this.#penalize(session, SCORE.corruptBlock, `corrupt block: ${reason}`, nowMs)
  }

  /** Timeouts of pulls (asked again of another peer) and retries of pending entries. */
  tick (nowMs: number): void {
    for (const [key, until] of this.#superseded) if (until <= nowMs) this.#superseded.delete(key)
    for (const [key, wanted] of [...this.#statusWants]) if (wanted.deadline <= nowMs) this.#askNextAnnouncer(key, nowMs)
    for (const [key, req] of [...this.#requests]) {
      if (req.deadline > nowMs) continue
      this.#closeRequest(key)
      this.#supersede(req.peer, key, nowMs)
      this.stats.requestTimeouts++
      const late = this.#sessions.get(req.peer)
      if (late !== undefined) late.unanswered++
      const [space, fk] = splitRequestKey(key)
      this.#plan(space, fk, nowMs, new Set([...req.tried, req.peer]))
      this.#planWaiting(req.peer, nowMs)
    }
    if (this.#nextPendingRetry !== null && this.#nextPendingRetry <= nowMs) {
      this.#nextPendingRetry = null
      for (const replica of this.#spaces.all()) {
        for (const r of replica.retryPending(nowMs)) {
          this.#afterIngest(replica, r, 'local', nowMs)
          for (const fk of new Set(r.stored.map(e => feedKey(toHex(e.author), e.epoch)))) this.#plan(replica.key, fk, nowMs)
        }
      }
      this.#schedulePendingRetry(nowMs)
    }
  }

  // ------------------------------------------------------------------ commands

  /** A local write: committed, then announced (decision 6: announce only after commit). */
  append (space: SpaceKey, body: Body, nowMs: number): Entry {
    const replica = this.#replica(space)
    const entry = replica.append(this.#keyPair, body, nowMs)
    this.#afterStore(replica, [entry], null)
    this.#events.push({ type: 'stored', space, entries: [entry], from: 'local' })
    // Our own grant, redemption or revoke: a new member is sent the full hello, a revoked one its revoke.
    if (ACL_TYPES.includes(body.t)) this.#onAclChanged(replica, nowMs)
    return entry
  }

  /** Several local writes in one commit, then announced together. */
  appendMany (space: SpaceKey, bodies: readonly Body[], nowMs: number): Entry[] {
    const replica = this.#replica(space)
    const entries = replica.appendMany(this.#keyPair, bodies, nowMs)
    if (entries.length === 0) return entries
    this.#afterStore(replica, entries, null)
    this.#events.push({ type: 'stored', space, entries, from: 'local' })
    return entries
  }

  /**
   * Our join with an invite (decision 9): a join entry at seq 0 of a new
   * epoch, stored, or pending until the invite arrives; either way the
   * space's hello presents it to every neighbour (as after spaceAdded).
   */
  join (space: SpaceKey, invite: Uint8Array, inviteKey: KeyPair, nowMs: number): Entry {
    const { entry } = this.#replica(space).join(this.#keyPair, invite, inviteKey, nowMs)
    this.spaceAdded(space)
    return entry
  }

  /** Ingests and announces entries made outside the engine (e.g. a join prepared from a token). */
  ingestLocal (space: SpaceKey, run: readonly SignedBytes[], nowMs: number): IngestResult {
    const replica = this.#replica(space)
    const result = replica.ingestRun(run, 'local', nowMs)
    this.#afterIngest(replica, result, 'local', nowMs)
    return result
  }

  publishStatus (space: SpaceKey, body: Record<string, unknown>, nowMs: number): void {
    const replica = this.#replica(space)
    const s = replica.publishStatus(this.#keyPair, body, nowMs)
    this.#statusClocks.set(`${space}|${toHex(s.author)}`, s.clock)
    this.#events.push({ type: 'status', space, author: toHex(s.author), from: 'local' })
    this.#announceStatus(replica, s.author, s.clock, null)
  }

  /** After the node adds or adopts a space: tell every neighbour. */
  spaceAdded (space: SpaceKey): void {
    const replica = this.#replica(space)
    for (const session of this.#sessions.values()) {
      this.#tagIndex.get(session.peer)?.set(toHex(spaceTag(replica.id, session.peer, this.self)), replica.key)
      this.#sendHello(session, [replica])
      // The peer may have named this space (as a tag) before we held it.
      if (session.unmatchedTags.size > 0) this.#onTags(session, [...session.unmatchedTags].map(fromHex))
    }
  }

  /** What peers make this node hold now (decision 17: each bounded per peer and in all): for `samepage stats` and tests. */
  holdings (): { pendingEntries: number, pendingBytes: number, claims: number, undrainedBytes: number } {
    let pendingEntries = 0
    let pendingBytes = 0
    for (const r of this.#spaces.all()) { pendingEntries += r.pendingCount; pendingBytes += r.pendingBytes }
    return { pendingEntries, pendingBytes, claims: this.#claims.total, undrainedBytes: this.#serving.undrained }
  }

  // ------------------------------------------------------------------ poll

  drain (): Outbound[] {
    for (const [peer, bySpace] of this.#haves) {
      for (const [space, rows] of bySpace) {
        const heads = [...rows.values()]
        for (let i = 0; i < heads.length; i += FEEDS_PER_MESSAGE_MAX) this.#send(peer, { m: 'have', space: fromCid(space), heads: heads.slice(i, i + FEEDS_PER_MESSAGE_MAX) })
      }
    }
    this.#haves.clear()
    this.#serving.drained()
    const out = this.#outbox.map(({ peer, msg }) => {
      const bytes = encodeMessage(msg)
      this.stats.count('out', msg.m, bytes.length)
      return { peer, type: msg.m, bytes }
    })
    this.#outbox = []
    return out
  }

  events (): SyncEvent[] {
    const e = this.#events
    this.#events = []
    return e
  }

  nextDeadline (): number | null {
    let next = this.#nextPendingRetry
    for (const r of this.#requests.values()) if (next === null || r.deadline < next) next = r.deadline
    for (const w of this.#statusWants.values()) if (next === null || w.deadline < next) next = w.deadline
    return next
  }

  /** Misbehaviour log per connected peer (for the API and tests). */
  scores (nowMs: number): { peer: AuthorHex, score: number, log: readonly { atMs: number, reason: string, points: number }[] }[] {
    return [...this.#sessions.values()].map(s => ({ peer: s.peer, score: s.score.value(nowMs), log: s.score.log }))
  }

  // ------------------------------------------------------------------ messages in

  #onHello (session: Session, spaces: readonly SpaceHello[], nowMs: number, tags: readonly Uint8Array[]): void {
    for (const h of spaces) {
      const replica = this.#spaces.get(cidOf(h.genesis[0]).toString())
      if (replica === undefined || !bytesEqual(replica.genesis.sig, h.genesis[1])) continue
      const shared = session.shared(replica.key)
      const feeds = h.feeds.map(row => shared.learn(row))
      for (const st of h.statuses) shared.statusKnown.set(toHex(st.author), st.clock)
      this.#tellRevoked(session, replica)
      this.#sendForkProofs(session, replica, shared)
      for (const fk of feeds) {
        this.#probeIfDiverged(session, replica, shared, fk)
        this.#plan(replica.key, fk, nowMs)
      }
      this.#presentJoin(session, replica)
      if (this.#isMember(replica, session.peer)) {
        for (const s of replica.statuses()) {
          const known = shared.statusKnown.get(toHex(s.author))
          if (known === undefined || known.wallMs < s.clock.wallMs || (known.wallMs === s.clock.wallMs && known.counter < s.clock.counter)) {
            this.#send(session.peer, { m: 'status', space: replica.id, record: [s.bytes, s.sig] })
          }
        }
      }
    }
    this.#onTags(session, tags)
    this.#chargeOverClaim(session, nowMs)
  }

  /**
   * Blinded tags of a peer's hello (space-tags.ts): one that names a space we
   * hold shows the peer holds it too (it knows the id), so our pending join
   * for it is presented there. Tags that name none are kept (bounded) for a
   * space we add later.
   */
  #onTags (session: Session, tags: readonly Uint8Array[]): void {
    if (tags.length === 0 || !this.#sessions.has(session.peer)) return
    let index = this.#tagIndex.get(session.peer)
    if (index === undefined) this.#tagIndex.set(session.peer, index = tagIndex(this.#spaces.all(), session.peer, this.self))
    for (const tag of tags) {
      const hex = toHex(tag)
      const replica = this.#spaces.get(index.get(hex) ?? '')
      if (replica === undefined) {
        if (session.unmatchedTags.size < UNMATCHED_TAGS_PER_PEER_MAX) session.unmatchedTags.add(hex)
        continue
      }
      session.unmatchedTags.delete(hex)
      session.shared(replica.key)
      this.#presentJoin(session, replica)
    }
  }

  /** A joiner presents its join to a peer that showed it holds the space: the inviter cannot pull from a feed it does not yet cover. */
  #presentJoin (session: Session, replica: SpaceReplica): void {
    const shared = session.shared(replica.key)
    const join = replica.pendingJoin(this.self)
    if (join === undefined || shared.joinPresented === toHex(join[1])) return
    shared.joinPresented = toHex(join[1])
    this.#send(session.peer, { m: 'entries', space: replica.id, run: [join] })
  }

  #onWant (session: Session, space: Uint8Array, ranges: readonly FeedRange[]): void {
    const replica = this.#spaces.get(cidKey(space))
    for (const range of ranges) {
      const author = toHex(range.author)
      // Even `none` answers stop at a hard bound: a peer that asks and never reads gets no more queued.
      if (!this.#serving.room(session.peer, this.#sessions.keys(), NONE_WIRE_BYTES, MESSAGE_BYTES_MAX)) { this.stats.wantsRefused++; break }
      if (replica === undefined || !this.#isMember(replica, session.peer)) {
        // Served nothing: a non-member learns no more than that we will not serve it.
        this.#sendNone(session.peer, space, range)
        continue
      }
      const to = Math.min(range.to, range.from + WANT_WINDOW_ENTRIES)
      let from = range.from
      let bytes = 0
      let full = false
      while (from < to && bytes < WANT_WINDOW_BYTES) {
        // What we queue for one peer (and for all) stays bounded whatever it asks: past the budget, `none` for the rest.
        if (!this.#serving.room(session.peer, this.#sessions.keys(), RUN_WIRE_BYTES_MAX)) { full = true; break }
        const run = replica.serve(author, range.epoch, from, to)
        if (run.length === 0) break
        this.#send(session.peer, { m: 'entries', space, run })
        this.#serving.queued(session.peer, runBytes(run) + run.length * 80)
        this.stats.entriesServed += run.length
        from += run.length
        bytes += runBytes(run)
      }
      if (from === range.from) this.#sendNone(session.peer, space, range)
      else session.shared(replica.key).holds(feedKey(author, range.epoch), from)
      if (full && from > range.from) this.#sendNone(session.peer, space, { ...range, from })
      if (full) this.stats.wantsRefused++
    }
  }

  /**
   * Each space bounds what a peer makes it hold pending; over all spaces
   * the same bounds hold (a peer that knows many spaces does not multiply
   * them): past them, what this peer brought is forgotten everywhere.
   */
  #boundPending (peer: AuthorHex, nowMs: number): void {
    let mine = 0
    let all = 0
    for (const r of this.#spaces.all()) { mine += r.pendingBytesFrom(peer); all += r.pendingBytes }
    if (mine <= PENDING_BYTES_PER_PEER_MAX && all <= PENDING_BYTES_MAX) return
    for (const r of this.#spaces.all()) for (const fk of r.dropPendingFrom(peer)) this.#plan(r.key, fk, nowMs)
  }

  #sendNone (peer: AuthorHex, space: Uint8Array, range: FeedRange): void {
    this.#send(peer, { m: 'none', space, range })
    this.#serving.queued(peer, NONE_WIRE_BYTES)
  }

  #onEntries (session: Session, space: Uint8Array, run: readonly SignedBytes[], nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined || run.length === 0) return
    const first = run[0] as SignedBytes
    let head: Entry
    try {
      head = decodeEntry(first[0], first[1])
    } catch (err) {
      if (!isCodecError(err)) throw err
      this.#penalize(session, SCORE.invalidEntry, `invalid entry: ${err.message}`, nowMs)
      return
    }
    const author = toHex(head.author)
    const fk = feedKey(author, head.epoch)
    const reqKey = requestKey(replica.key, fk)
    const req = this.#requests.get(reqKey)
    const probe = `${session.peer}|${replica.key}|${fk}|${head.seq}`
    const solicited = (req?.peer === session.peer) || this.#probes.delete(probe) || this.#superseded.has(`${session.peer}|${reqKey}`) ||
      (head.seq === 0 && run.length === 1 && head.body.t === 'join') || this.#isRevokeOfSelf(head, run.length)
    if (req?.peer !== session.peer) {
      // Expiry is enforced where it cannot diverge (decision 9): a join presented at the handshake after its
      // invite expired is refused here; one that reaches us later through catch-up was accepted in time elsewhere.
      const expires = head.body.t === 'join' ? replica.inviteExpiresMs(head.body.invite) : undefined
      if (expires !== undefined && expires < nowMs && replica.acl.currentRole(author) === null) {
        if (author === session.peer) this.#answer(session, replica, head.id, 'expired', `this invite expired at ${new Date(expires).toISOString()}; ask for a new one`)
        return
      }
    }
    this.stats.entriesIn += run.length
    if (!solicited && !this.#isMember(replica, session.peer) && !coveredRun(replica, author, head)) {
      // A stranger's own feed, or anything no grant covers, pushed by a non-member: not held, and charged (decision 17).
      this.stats.droppedIn += run.length
      this.#penalize(session, SCORE.unsolicited, 'entries nobody asked for, of a feed no grant covers, from a non-member', nowMs)
      return
    }
    const result = replica.ingestRun(run, session.peer, nowMs)
    this.stats.duplicatesIn += result.duplicates
    this.stats.pendingIn += result.pending
    if (result.pending > 0) this.#boundPending(session.peer, nowMs)
    this.stats.droppedIn += result.dropped
    if (result.diverged !== undefined) this.stats.divergedRuns++
    if (result.reject !== undefined) {
      this.#penalize(session, SCORE.invalidEntry, `invalid entry (${result.reject.reason}): ${result.reject.detail}`, nowMs)
    } else if (!solicited && !this.#flood && result.stored.length === 0 && result.duplicates > 0) {
      this.#penalize(session, SCORE.unsolicited, 'replay: entries nobody asked for, already held', nowMs)
    }
    if (!this.#sessions.has(session.peer)) return
    session.shared(replica.key).holds(fk, head.seq + run.length)
    if (result.diverged !== undefined) this.#probe(session, replica, feedKey(result.diverged.author, result.diverged.epoch), result.diverged.seq)
    if (result.fork !== undefined) this.#refineFork(session, replica, result.fork)
    this.#afterIngest(replica, result, session.peer, nowMs)
    if (head.seq === 0 && run.length === 1 && head.body.t === 'join' && author === session.peer && result.reject === undefined) this.#answerJoin(session, replica, head, nowMs)
    if (this.#isRevokeOfSelf(head, run.length) && result.reject === undefined && result.stored.length === 0 && replica.noteRevoke(head, this.self)) {
      this.#events.push({ type: 'revoked', space: replica.key, by: author })
    }
    if (req !== undefined && req.peer === session.peer) {
      const reached = Math.max(replica.resumeAt(author, head.epoch), head.seq + run.length)
      req.bytes += runBytes(run)
      if (reached >= req.to || req.bytes >= WANT_WINDOW_BYTES || result.reject !== undefined || result.diverged !== undefined || result.fork !== undefined) {
        this.#closeRequest(reqKey)
        this.#plan(replica.key, fk, nowMs)
        this.#planWaiting(session.peer, nowMs)
      } else {
        req.deadline = nowMs + REQUEST_TIMEOUT_MS
      }
    }
  }

  #onNone (session: Session, space: Uint8Array, range: FeedRange, nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined) return
    const fk = feedKey(toHex(range.author), range.epoch)
    const shared = session.shared(replica.key)
    // It does not hold (or will not serve) this range: stop counting on it until it announces again.
    const known = shared.known.get(fk)
    if (known !== undefined) shared.known.set(fk, Math.min(known, range.from))
    const key = requestKey(replica.key, fk)
    const req = this.#requests.get(key)
    if (req?.peer === session.peer) {
      session.unanswered++
      this.#closeRequest(key)
      this.#plan(replica.key, fk, nowMs, new Set([...req.tried, session.peer]))
      this.#planWaiting(session.peer, nowMs)
    }
  }

  #onHave (session: Session, space: Uint8Array, heads: readonly FeedRow[], nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined) return
    const shared = session.shared(replica.key)
    for (const row of heads) {
      const fk = shared.learn(row)
      this.#probeIfDiverged(session, replica, shared, fk)
      this.#plan(replica.key, fk, nowMs)
    }
    this.#chargeOverClaim(session, nowMs)
  }

  #onFork (session: Session, space: Uint8Array, a: SignedBytes, b: SignedBytes, nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined) return
    const result = replica.ingestFork(a, b)
    if (result.reject?.reason === 'ungranted-fork' && this.#isMember(replica, session.peer)) {
      // A member's proof of a feed our ACL does not cover yet (we are behind): not kept, not charged.
      return
    }
    if (result.reject !== undefined) {
      this.#penalize(session, SCORE.badForkProof, `bad fork proof: ${result.reject.detail}`, nowMs)
      return
    }
    if (result.fork !== undefined) session.shared(replica.key).frozen.add(feedKey(result.fork.author, result.fork.epoch))
    this.#afterIngest(replica, result, session.peer, nowMs)
  }

  #onStatus (session: Session, space: Uint8Array, record: SignedBytes, nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined) return
    const outcome = replica.ingestStatus(record, nowMs)
    if (typeof outcome === 'object') {
      this.#penalize(session, SCORE.badStatus, `bad status record (${outcome.reason}): ${outcome.detail}`, nowMs)
      return
    }
    const author = toHex(decodeStatusAuthor(record))
    const s = outcome === 'stored' ? replica.status(author) : undefined
    if (s !== undefined) {
      this.#statusClocks.set(`${replica.key}|${author}`, s.clock)
      const shared = session.shared(replica.key)
      if (newerClock(s.clock, shared.statusKnown.get(author))) shared.statusKnown.set(author, s.clock)
      this.#events.push({ type: 'status', space: replica.key, author, from: session.peer })
      this.#announceStatus(replica, s.author, s.clock, session.peer)
    }
    this.#statusAnswered(replica, author, nowMs)
  }

  /** Announced status records: each newer one is asked of one announcer, once. */
  #onStatusHave (session: Session, space: Uint8Array, heads: readonly StatusHead[], nowMs: number): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined || !this.#isMember(replica, session.peer)) return
    const shared = session.shared(replica.key)
    const ask: Uint8Array[] = []
    for (const h of heads) {
      const author = toHex(h.author)
      // Only members publish status records: a head of anyone else is no claim worth holding or asking for.
      if (replica.acl.currentRole(author) === null) continue
      if (newerClock(h.clock, shared.statusKnown.get(author))) shared.statusKnown.set(author, h.clock)
      if (!newerClock(h.clock, this.#statusClock(replica, author))) continue
      const key = `${replica.key}|${author}`
      const wanted = this.#statusWants.get(key)
      if (wanted !== undefined) {
        if (newerClock(h.clock, wanted.clock)) wanted.clock = h.clock
        if (wanted.asked !== session.peer && !wanted.others.includes(session.peer)) wanted.others.push(session.peer)
        continue
      }
      this.#statusWants.set(key, { space: replica.key, author, clock: h.clock, asked: session.peer, others: [], deadline: nowMs + REQUEST_TIMEOUT_MS })
      ask.push(h.author)
    }
    if (ask.length > 0) this.#send(session.peer, { m: 'status-want', space: replica.id, authors: ask })
    this.#chargeOverClaim(session, nowMs)
  }

  #onStatusWant (session: Session, space: Uint8Array, authors: readonly Uint8Array[]): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined || !this.#isMember(replica, session.peer)) return
    const shared = session.shared(replica.key)
    for (const a of authors) {
      const author = toHex(a)
      const record = replica.statusRecord(author)
      if (record === undefined) continue
      const bytes = record[0].byteLength + record[1].byteLength + 64
      if (!this.#serving.room(session.peer, this.#sessions.keys(), bytes)) { this.stats.wantsRefused++; break }
      const clock = this.#statusClock(replica, author)
      if (clock !== null && newerClock(clock, shared.statusKnown.get(author))) shared.statusKnown.set(author, clock)
      this.#send(session.peer, { m: 'status', space: replica.id, record })
      this.#serving.queued(session.peer, bytes)
    }
  }

  /** A wanted record came (or its announcer had nothing newer): done, or ask the next announcer of a newer one. */
  #statusAnswered (replica: SpaceReplica, author: AuthorHex, nowMs: number): void {
    const key = `${replica.key}|${author}`
    const wanted = this.#statusWants.get(key)
    if (wanted === undefined) return
    if (!newerClock(wanted.clock, this.#statusClock(replica, author))) {
      this.#statusWants.delete(key)
      return
    }
    this.#askNextAnnouncer(key, nowMs)
  }

  #askNextAnnouncer (key: string, nowMs: number): void {
    const wanted = this.#statusWants.get(key)
    if (wanted === undefined) return
    const replica = this.#spaces.get(wanted.space)
    let next = wanted.others.shift()
    while (next !== undefined && !this.#sessions.has(next)) next = wanted.others.shift()
    if (next === undefined || replica === undefined) {
      // Nobody else announced it: the next announcement (every period) asks again.
      this.#statusWants.delete(key)
      return
    }
    wanted.asked = next
    wanted.deadline = nowMs + REQUEST_TIMEOUT_MS
    this.#send(next, { m: 'status-want', space: replica.id, authors: [fromHex(wanted.author)] })
  }

  #statusClock (replica: SpaceReplica, author: AuthorHex): Clock | null {
    const key = `${replica.key}|${author}`
    let clock = this.#statusClocks.get(key)
    if (clock === undefined) {
      clock = replica.status(author)?.clock ?? null
      this.#statusClocks.set(key, clock)
    }
    return clock
  }

  // ------------------------------------------------------------------ decisions

  /** Pull a feed from one peer that holds more of it than we do (the fullest, then the longest connected). */
  #plan (space: SpaceKey, fk: string, nowMs: number, tried: ReadonlySet<AuthorHex> = new Set()): void {
    const key = requestKey(space, fk)
    if (this.#requests.has(key)) return
    const replica = this.#spaces.get(space)
    if (replica === undefined) return
    const { author, epoch } = parseFeedKey(fk)
    const ours = replica.resumeAt(author, epoch)
    const limit = replica.pullLimit(author, epoch)
    if (ours >= limit) return
    // Entries of this feed wait in the pending queue (clock ahead, grant missing): pull no more until they are
    // stored, or we would fetch what the bounded queue must forget, again and again (the retry re-plans).
    if (ours > (replica.feedRow(author, epoch)?.count ?? 0)) return
    let best: { session: Session, count: number, tried: boolean, unanswered: number } | undefined
    for (const session of this.#sessions.values()) {
      const count = Math.min(limit, session.spaces.get(space)?.known.get(fk) ?? 0)
      if (count <= ours) continue
      const c = { session, count, tried: tried.has(session.peer), unanswered: session.unanswered }
      if (best === undefined || preferredSource(c, best)) best = c
    }
    if (best === undefined) return
    const to = Math.min(best.count, ours + WANT_WINDOW_ENTRIES)
    const worstBytes = pullWorstBytes(to - ours)
    const peer = best.session.peer
    const reserved = this.#pullBytes.get(peer) ?? 0
    if (reserved > 0 && reserved + worstBytes > PULL_BYTES_PER_PEER_MAX) {
      // Its answers could overrun what we let one peer have in flight: wait for one of its pulls to end.
      let waiting = this.#waiting.get(peer)
      if (waiting === undefined) this.#waiting.set(peer, waiting = new Set())
      waiting.add(key)
      return
    }
    const range: FeedRange = { author: fromHex(author), epoch, from: ours, to }
    this.#send(peer, { m: 'want', space: replica.id, ranges: [range] })
    this.#requests.set(key, { peer, from: ours, to, deadline: nowMs + REQUEST_TIMEOUT_MS, tried: best.tried ? new Set() : tried, bytes: 0, worstBytes })
    this.#pullBytes.set(peer, reserved + worstBytes)
  }

  #closeRequest (key: string): void {
    const req = this.#requests.get(key)
    if (req === undefined) return
    this.#requests.delete(key)
    const left = (this.#pullBytes.get(req.peer) ?? 0) - req.worstBytes
    if (left > 0) this.#pullBytes.set(req.peer, left)
    else this.#pullBytes.delete(req.peer)
  }

  /** Pulls that waited for room at `peer`: planned again (of it or of another) while it has room. */
  #planWaiting (peer: AuthorHex, nowMs: number): void {
    const waiting = this.#waiting.get(peer)
    if (waiting === undefined) return
    for (const key of [...waiting]) {
      if ((this.#pullBytes.get(peer) ?? 0) + pullWorstBytes(1) > PULL_BYTES_PER_PEER_MAX) return
      waiting.delete(key)
      const [space, fk] = splitRequestKey(key)
      this.#plan(space, fk, nowMs)
    }
    if (waiting.size === 0) this.#waiting.delete(peer)
  }

  /** The peer's head for a feed we hold at least as far differs from ours: ask for its entry there, to prove a fork. */
  #probeIfDiverged (session: Session, replica: SpaceReplica, shared: SharedSpace, fk: string): void {
    const count = shared.known.get(fk) ?? 0
    const head = shared.heads.get(fk)
    if (count === 0 || head === undefined || head === null || shared.frozen.has(fk)) return
    const { author, epoch } = parseFeedKey(fk)
    const ours = replica.feedRow(author, epoch)
    if (ours === undefined || ours.frozen || ours.count < count) return
    if (replica.entryIdAt(author, epoch, count - 1) !== head) this.#probe(session, replica, fk, count - 1)
  }

  /**
   * Asks a peer for its entries of a feed up to `seq`, going back up to
   * PROBE_BACK_ENTRIES: the first position where they differ from ours is
   * where the fork is proven. A fork proven at the first divergence is the
   * same on every node, so everyone keeps the same prefix (decision 7).
   */
  #probe (session: Session, replica: SpaceReplica, fk: string, seq: number): void {
    const from = Math.max(0, seq - PROBE_BACK_ENTRIES + 1)
    const probe = `${session.peer}|${replica.key}|${fk}|${from}`
    if (this.#probes.has(probe)) return
    this.#probes.add(probe)
    const { author, epoch } = parseFeedKey(fk)
    this.#send(session.peer, { m: 'want', space: replica.id, ranges: [{ author: fromHex(author), epoch, from, to: seq + 1 }] })
  }

  /** A proof whose two entries have different `prev`s is not at the first divergence: look further back. */
  #refineFork (session: Session, replica: SpaceReplica, proof: ForkProof): void {
    if (proof.seq === 0) return
    const a = decodeEntry(proof.a[0], proof.a[1])
    const b = decodeEntry(proof.b[0], proof.b[1])
    if (a.prev !== null && b.prev !== null && bytesEqual(a.prev, b.prev)) return
    this.#probe(session, replica, feedKey(proof.author, proof.epoch), proof.seq - 1)
  }

  #afterIngest (replica: SpaceReplica, result: IngestResult, from: AuthorHex | 'local', nowMs: number): void {
    if (result.stored.length > 0) {
      this.stats.entriesStored += result.stored.length
      this.#events.push({ type: 'stored', space: replica.key, entries: result.stored, from })
      this.#afterStore(replica, result.stored, from === 'local' ? null : from)
      for (const e of result.stored) if (e.body.t === 'join' && e.seq === 0) this.#redeemIfMine(replica, e, nowMs)
    }
    if (result.fork !== undefined) {
      this.#events.push({ type: 'fork', space: replica.key, proof: result.fork })
      for (const session of this.#sessions.values()) {
        // Every neighbour sharing the space, the sender of the conflicting entry included (it holds one branch only);
        // not the sender of a fork message, which holds the proof already (marked frozen in #onFork).
        const fk = feedKey(result.fork.author, result.fork.epoch)
        if (!session.spaces.has(replica.key) || session.shared(replica.key).frozen.has(fk) || !this.#isMember(replica, session.peer)) continue
        session.shared(replica.key).frozen.add(fk)
        this.#send(session.peer, { m: 'fork', space: replica.id, a: result.fork.a, b: result.fork.b })
      }
    }
    if (result.aclChanged) this.#onAclChanged(replica, nowMs)
    if (result.pending > 0) this.#schedulePendingRetry(nowMs)
  }

  /** Announce new heads to member neighbours that do not hold them (never back to where they came from). */
  #afterStore (replica: SpaceReplica, entries: readonly Entry[], from: AuthorHex | null): void {
    if (this.#flood) return this.#floodOut(replica, entries, from)
    const feeds = new Set(entries.map(e => feedKey(toHex(e.author), e.epoch)))
    for (const fk of feeds) {
      const { author, epoch } = parseFeedKey(fk)
      const row = replica.feedRow(author, epoch)
      if (row === undefined || row.count === 0) continue
      for (const session of this.#sessions.values()) {
        if (session.peer === from) continue
        const shared = session.spaces.get(replica.key)
        if (shared === undefined || (shared.known.get(fk) ?? 0) >= row.count || !this.#isMember(replica, session.peer)) continue
        let bySpace = this.#haves.get(session.peer)
        if (bySpace === undefined) this.#haves.set(session.peer, bySpace = new Map())
        let rows = bySpace.get(replica.key)
        if (rows === undefined) bySpace.set(replica.key, rows = new Map())
        rows.set(fk, row)
      }
    }
  }

  /** The benchmarks' baseline: every new entry pushed to every member neighbour but its sender, known or not. */
  #floodOut (replica: SpaceReplica, entries: readonly Entry[], from: AuthorHex | null): void {
    const runs = new Map<string, SignedBytes[]>()
    for (const e of entries) {
      const fk = feedKey(toHex(e.author), e.epoch)
      let run = runs.get(fk)
      if (run === undefined) runs.set(fk, run = [])
      run.push([e.bytes, e.sig])
    }
    for (const session of this.#sessions.values()) {
      if (session.peer === from || !session.spaces.has(replica.key) || !this.#isMember(replica, session.peer)) continue
      for (const run of runs.values()) this.#send(session.peer, { m: 'entries', space: replica.id, run })
    }
  }

  #onAclChanged (replica: SpaceReplica, nowMs: number): void {
    for (const session of this.#sessions.values()) {
      const shared = session.spaces.get(replica.key)
      if (shared !== undefined) this.#tellRevoked(session, replica)
      if (shared !== undefined && !shared.memberHelloSent && this.#isMember(replica, session.peer)) this.#sendHello(session, [replica])
      for (const fk of shared?.known.keys() ?? []) this.#plan(replica.key, fk, nowMs)
    }
  }

  /**
   * A space in full (genesis, vector, status heads) only to a member; every
   * other one as a blinded tag (decision 17): a stranger learns no id, name,
   * owner or head, at most roughly how many spaces we hold. Our pending join
   * goes to a peer once it shows it holds the space (#onTags, #onHello).
   */
  #sendHello (session: Session, replicas: readonly SpaceReplica[]): void {
    const spaces: SpaceHello[] = []
    const others: Uint8Array[] = []
    for (const replica of replicas) {
      if (!this.#isMember(replica, session.peer)) { others.push(replica.id); continue }
      session.shared(replica.key).memberHelloSent = true
      spaces.push({ genesis: [replica.genesis.bytes, replica.genesis.sig], feeds: replica.vector(), statuses: replica.statusHeads() })
    }
    const tags = helloTags(others, this.self, session.peer)
    if (spaces.length > 0 || tags.length > 0) this.#send(session.peer, { m: 'hello', spaces, ...(tags.length > 0 ? { tags } : {}) })
    for (const replica of replicas) if (session.spaces.has(replica.key)) this.#presentJoin(session, replica)
  }

  // ------------------------------------------------------------------ membership (decision 18)

  /** A join for an invite of ours, stored here: redeemed (an invite.redeem in our feed) if the rules allow it. */
  #redeemIfMine (replica: SpaceReplica, join: Entry, nowMs: number): ReturnType<typeof redeemDecision> {
    const decision = redeemDecision(replica.acl, this.self, join, nowMs)
    if (decision === undefined || !decision.ok || decision.recorded || join.body.t !== 'join') return decision
    try {
      this.append(replica.key, { t: 'invite.redeem', invite: join.body.invite, join: join.id }, nowMs)
    } catch (err) {
      if (!(err instanceof SpaceError)) throw err
      return { ok: false, reason: 'issuer-not-admin', detail: err.message }
    }
    return { ok: true, recorded: true }
  }

  /** The joiner presented its join to us: tell it whether it is in, refused (and why), or waits for the invite's issuer. */
  #answerJoin (session: Session, replica: SpaceReplica, join: Entry, nowMs: number): void {
    const decision = this.#redeemIfMine(replica, join, nowMs)
    if (decision === undefined) {
      const known = join.body.t === 'join' && replica.inviteExpiresMs(join.body.invite) !== undefined
      this.#answer(session, replica, join.id, 'waiting', known
        ? 'this node did not issue the invite; only its issuer admits the join, when it gets it (from you or from any member)'
        : 'this node does not hold the invite yet')
    } else if (decision.ok) {
      this.#answer(session, replica, join.id, 'redeemed', '')
    } else {
      this.#answer(session, replica, join.id, decision.reason, decision.detail)
    }
  }

  #answer (session: Session, replica: SpaceReplica, join: Uint8Array, outcome: string, detail: string): void {
    this.#send(session.peer, { m: 'join-answer', space: replica.id, join, outcome, detail: detail.slice(0, 200) })
  }

  #onJoinAnswer (session: Session, space: Uint8Array, join: Uint8Array, outcome: string, detail: string): void {
    const replica = this.#spaces.get(cidKey(space))
    if (replica === undefined) return
    this.#events.push({ type: 'join-answer', space: replica.key, join: toHex(join), from: session.peer, outcome, detail })
  }

  /** A revoked member is told (decision 18): it is shown the revoke that took its role, once a session, unless it holds it. */
  #tellRevoked (session: Session, replica: SpaceReplica): void {
    const told = `${session.peer}|${replica.key}`
    if (this.#toldRevoked.has(told) || replica.acl.revokesOf(session.peer).length === 0 || replica.acl.currentRole(session.peer) !== null) return
    const revoke = replica.revokeOf(session.peer)
    if (revoke === undefined) return
    this.#toldRevoked.add(told)
    if ((session.spaces.get(replica.key)?.known.get(feedKey(toHex(revoke.author), revoke.epoch)) ?? 0) > revoke.seq) return
    this.#send(session.peer, { m: 'entries', space: replica.id, run: [[revoke.bytes, revoke.sig]] })
  }

  #isRevokeOfSelf (head: Entry, runLength: number): boolean {
    return runLength === 1 && head.body.t === 'acl.revoke' && toHex(head.body.member) === this.self
  }

  #sendForkProofs (session: Session, replica: SpaceReplica, shared: SharedSpace): void {
    if (!this.#isMember(replica, session.peer)) return // fork proofs carry whole entries: members only (decision 17)
    for (const proof of replica.forkProofs()) {
      const fk = feedKey(proof.author, proof.epoch)
      if (shared.frozen.has(fk)) continue
      shared.frozen.add(fk)
      this.#send(session.peer, { m: 'fork', space: replica.id, a: proof.a, b: proof.b })
    }
  }

  /** A status record we now hold, announced (author and clock: tens of bytes) to each member neighbour that may not hold it. */
  #announceStatus (replica: SpaceReplica, author: Uint8Array, clock: Clock, from: AuthorHex | null): void {
    const a = toHex(author)
    for (const session of this.#sessions.values()) {
      if (session.peer === from) continue
      const shared = session.spaces.get(replica.key)
      if (shared === undefined || !this.#isMember(replica, session.peer)) continue
      if (!newerClock(clock, shared.statusKnown.get(a))) continue
      shared.statusKnown.set(a, clock)
      this.#send(session.peer, { m: 'status-have', space: replica.id, heads: [{ author, clock }] })
    }
  }

  #penalize (session: Session, points: number, reason: string, nowMs: number): void {
    session.score.add(points, reason, nowMs)
    const score = session.score.value(nowMs)
    this.#events.push({ type: 'misbehaviour', peer: session.peer, reason, points, score })
    if (!session.score.exceeded(nowMs)) return
    this.#send(session.peer, { m: 'bye', reason: `misbehaviour score ${Math.round(score)}: ${reason}`.slice(0, 200) })
    this.#banned.set(session.peer, nowMs + BAN_MS)
    // Identities are free: the list of bans is kept to BANNED_MAX (expired ones first, then the oldest).
    if (this.#banned.size > BANNED_MAX) for (const [peer, until] of this.#banned) if (until <= nowMs) this.#banned.delete(peer)
    while (this.#banned.size > BANNED_MAX) this.#banned.delete(this.#banned.keys().next().value as AuthorHex)
    this.#events.push({ type: 'disconnect', peer: session.peer, reason })
    this.disconnect(session.peer, nowMs)
  }

  #supersede (peer: AuthorHex, reqKey: string, nowMs: number): void {
    if (this.#superseded.size >= SUPERSEDED_MAX) this.#superseded.delete(this.#superseded.keys().next().value as string)
    this.#superseded.set(`${peer}|${reqKey}`, nowMs + LATE_ANSWER_MS)
  }

  #schedulePendingRetry (nowMs: number): void {
    let pending = 0
    for (const r of this.#spaces.all()) pending += r.pendingCount
    if (pending > 0 && this.#nextPendingRetry === null) this.#nextPendingRetry = nowMs + PENDING_RETRY_MS
  }

  #isMember (replica: SpaceReplica, peer: AuthorHex): boolean {
    return replica.acl.currentRole(peer) !== null
  }

  #replica (space: SpaceKey): SpaceReplica {
    const r = this.#spaces.get(space)
    if (r === undefined) throw new Error(`UNKNOWN_SPACE: space ${space} is not held by this node`)
    return r
  }

  #send (peer: AuthorHex, msg: Message): void {
    this.#outbox.push({ peer, msg })
  }
}

/** Whether a non-member's run may be held: a join at seq 0, or positions some grant covers. */
function coveredRun (replica: SpaceReplica, author: AuthorHex, head: Entry): boolean {
  if (head.seq === 0 && head.body.t === 'join') return true
  return head.seq < replica.acl.feedLimit(author, head.epoch)
}

function requestKey (space: SpaceKey, fk: string): string {
  return `${space}|${fk}`
}

function splitRequestKey (key: string): [SpaceKey, string] {
  const i = key.indexOf('|')
  return [key.slice(0, i), key.slice(i + 1)]
}

/** The space key (CID string) of a space id from the wire; '' (held by no one) if it is not a CID. */
function cidKey (space: Uint8Array): SpaceKey {
  return cidFromBytes(space)?.toString() ?? ''
}

function fromCid (space: SpaceKey): Uint8Array {
  return (cidFromString(space) as CID).bytes
}

/** Whether clock a is newer than b (or b is unknown). */
function newerClock (a: Clock, b: Clock | null | undefined): boolean {
  return b === null || b === undefined || a.wallMs > b.wallMs || (a.wallMs === b.wallMs && a.counter > b.counter)
}

function decodeStatusAuthor (record: SignedBytes): Uint8Array {
  // Only called after ingestStatus accepted the record, so it decodes.
  return decodeStatus(record[0], record[1]).author
}

/** The entry bytes of a run, as both ends of a want count them (WANT_WINDOW_BYTES). */
function runBytes (run: readonly SignedBytes[]): number {
  let n = 0
  for (const [bytes] of run) n += bytes.byteLength
  return n
}

function assertNever (x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`)
}

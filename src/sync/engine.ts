import { codecReason, decodeMessage, encodeMessage, isCodecError } from '../codec/index.ts'
import type { Body, Entry, Message, SignedBytes, SignedStatus } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import { joinMayWait, LEAVE_NOTICE } from '../space/index.ts'
import type { LocalBodies, LocalOutcome } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { JOIN_WAITING_MAX_MS, SCORE } from './constants.ts'
import { SyncCore } from './core.ts'
import {
  onEntries, onFork, onHave, onHello, onJoinAnswer, onNone, onStatus, onStatusHave, onStatusWant, onWant,
  publishOwnStatus, pushOwnStatus, takeStatus
} from './handlers.ts'
import { feedKey } from './keys.ts'
import { Session } from './session.ts'
import type { SyncStats } from './stats.ts'
import { isMember } from './types.ts'
import type { Outbound, SyncEvent, SyncInit } from './types.ts'

/**
 * The replication protocol as a pure state machine (one per node): bytes and
 * the time go in, bytes to send and events come out. No sockets, no timers,
 * no clock of its own, so the simulator runs exactly this code.
 *
 *   handle:  connect(peer) · disconnect(peer) · receive(peer, bytes) · tick()
 *   command: append(space, body) · appendBodies · publishStatus(space, body) · sign/pushLeaveNotice ·
 *            spaceAdded · spaceRemoved
 *   poll:    drain() -> messages · events() · nextDeadline()
 *
 * The engine owns the sessions (session.ts) and hands each message type to
 * one handler (handlers.ts) over the shared state (core.ts); the protocols
 * are parts that each return what to send:
 *   pulls.ts          feed pulls: plans, requests, pull budget, waiting pulls, fork probes, late answers
 *   asked.ts          the ranges asked of each peer and not yet wholly answered (honest duplicates vs replays)
 *   status-gossip.ts  status records: status-have / status-want, announcer rotation (pure, usable alone)
 *   relay.ts          how new entries travel: AnnounceRelay (`have`), or a strategy a benchmark injects
 *   membership.ts     hello and space tags, join answers, revoke notices, fork proofs
 *   score.ts          misbehaviour scores, message budget, bans
 *   claims.ts, serve-budget.ts   what a peer can make us remember, and serving wants within a budget
 *   keys.ts           typed keys (FeedKey, TupleMap): no state keyed by strings glued from parts
 * No part imports the engine or the core; only the handlers and the engine read the core.
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
export class SyncEngine {
  readonly self: AuthorKey
  readonly stats: SyncStats
  readonly #core: SyncCore
  #sessionOrder = 0

  constructor (init: SyncInit) {
    this.#core = new SyncCore(init)
    this.self = this.#core.self
    this.stats = this.#core.stats
  }

  // ------------------------------------------------------------------ handle

  /** A link to `peer` is up. False if the peer is banned for misbehaviour (the caller closes the link). */
  connect (peer: AuthorKey, nowMs: number): boolean {
    const core = this.#core
    if (!core.bans.admits(peer, nowMs)) return false
    if (core.sessions.has(peer)) this.disconnect(peer, nowMs)
    // A member of none of our spaces claims only within the strangers' share (claims.ts STRANGER_CLAIMS_MAX).
    const stranger = (): boolean => ![...core.spaces.all()].some(r => isMember(r, peer))
    const session = new Session(peer, this.#sessionOrder++, nowMs, p => core.claims.take(p, stranger))
    core.sessions.set(peer, session)
    core.send(core.membership.hello(session, [...core.spaces.all()]))
    return true
  }

  disconnect (peer: AuthorKey, nowMs: number): void {
    this.#core.disconnect(peer, nowMs)
  }

  isConnected (peer: AuthorKey): boolean {
    return this.#core.sessions.has(peer)
  }

  bannedUntil (peer: AuthorKey): number | undefined {
    return this.#core.bans.until(peer)
  }

  /**
   * Whether `peer`'s session presented a join waiting for its issuer here (Session.waitingJoin), less than
   * JOIN_WAITING_MAX_MS ago, that its invite could still admit at `nowMs` (asked again at each of the connection
   * guard's graces: an invite used up, revoked or expired meanwhile ends the wait).
   */
  joinWaiting (peer: AuthorKey, nowMs: number): boolean {
    const waiting = this.#core.sessions.get(peer)?.waitingJoin
    if (waiting === undefined || nowMs - waiting.sinceMs >= JOIN_WAITING_MAX_MS) return false
    const replica = this.#core.spaces.get(waiting.space)
    return replica !== undefined && joinMayWait(replica.acl, waiting.join, nowMs)
  }

  /** One message from `peer`: decoded, charged against its message budget, and handed to the handler of its type. */
  receive (peer: AuthorKey, bytes: Uint8Array, nowMs: number): void {
    const core = this.#core
    const session = core.sessions.get(peer)
    if (session === undefined) return
    if (!session.score.takeMessage(nowMs) && !core.relay.pushes) {
      core.penalize(session, SCORE.flood, 'flooding: messages past the rate budget', nowMs)
    }
    if (!core.sessions.has(peer)) return
    let msg: Message
    try {
      msg = decodeMessage(bytes)
    } catch (err) {
      if (!isCodecError(err)) throw err
      this.stats.garbageIn++
      core.penalize(session, SCORE.garbage, `garbage: ${codecReason(err)}`, nowMs)
      return
    }
    this.stats.count('in', msg.m, bytes.length)
    switch (msg.m) {
      case 'hello': return onHello(core, session, msg, nowMs)
      case 'want': return onWant(core, session, msg)
      case 'entries': return onEntries(core, session, msg, nowMs)
      case 'none': return onNone(core, session, msg, nowMs)
      case 'have': return onHave(core, session, msg, nowMs)
      case 'fork': return onFork(core, session, msg, nowMs)
      case 'status': return onStatus(core, session, msg, nowMs)
      case 'status-have': return onStatusHave(core, session, msg, nowMs)
      case 'status-want': return onStatusWant(core, session, msg)
      case 'join-answer': return onJoinAnswer(core, session, msg)
      case 'bye': core.disconnect(peer, nowMs); return
      default: assertNever(msg)
    }
  }

  /** Misbehaviour seen below the protocol (an oversized frame, too many streams): scored like garbage. */
  reportGarbage (peer: AuthorKey, reason: string, nowMs: number): void {
    const session = this.#core.sessions.get(peer)
    if (session === undefined) return
    this.stats.garbageIn++
    this.#core.penalize(session, SCORE.garbage, `garbage: ${reason}`, nowMs)
  }

  /** The block transfer (net/) caught this peer sending a chunk that does not match its hash. */
  reportCorruptBlock (peer: AuthorKey, reason: string, nowMs: number): void {
    const session = this.#core.sessions.get(peer)
    if (session === undefined) return
    this.#core.penalize(session, SCORE.corruptBlock, `corrupt block: ${reason}`, nowMs)
  }

  /** Timeouts of pulls and status wants (asked again of another peer) and retries of pending entries. */
  tick (nowMs: number): void {
    const core = this.#core
    for (const held of core.status.heldDue(nowMs)) {
      const replica = core.spaces.get(held.space)
      if (replica !== undefined) takeStatus(core, held.from, replica, held.record, nowMs)
    }
    core.send(core.status.tick(nowMs))
    core.send(core.pulls.tick(nowMs))
    if (core.nextForkCommit !== null && core.nextForkCommit <= nowMs) this.#commitHeldForks(nowMs)
    if (core.nextPendingRetry === null || core.nextPendingRetry > nowMs) return
    core.nextPendingRetry = null
    for (const replica of core.spaces.all()) {
      for (const r of replica.retryPending(nowMs)) core.afterRetry(replica, r, nowMs)
    }
    core.schedulePendingRetry(nowMs)
  }

  /** Fork proofs held while their author's hold lasted (space/fork-holds.ts): committed together, then relayed. */
  #commitHeldForks (nowMs: number): void {
    const core = this.#core
    core.nextForkCommit = null
    for (const replica of core.spaces.all()) {
      for (const result of replica.commitHeldForks(nowMs)) core.afterIngest(replica, result, 'local', nowMs)
      const due = replica.nextForkDue()
      if (due !== null && (core.nextForkCommit ?? Infinity) > due) core.nextForkCommit = due
    }
  }

  // ------------------------------------------------------------------ commands

  /** A local write: committed, then announced (decision 6: announce only after commit). */
  append (space: SpaceKey, body: Body, nowMs: number): Entry {
    return this.#core.append(space, body, nowMs)
  }

  /** Several local writes in one commit, then announced together. */
  appendBodies (space: SpaceKey, bodies: LocalBodies, nowMs: number): Entry[] {
    const core = this.#core
    const replica = core.replica(space)
    const entries = core.localWrite(replica, nowMs, () => replica.appendBodies(core.keyPair, bodies, nowMs))
    if (entries.length === 0) return entries
    core.afterLocalEntries(replica, entries, nowMs)
    return entries
  }

  /** Data writes of several callers in one commit, each judged alone; what was stored is announced once. */
  appendEach (space: SpaceKey, bodies: readonly Body[], nowMs: number): LocalOutcome[] {
    const core = this.#core
    const replica = core.replica(space)
    const outcomes = core.localWrite(replica, nowMs, () => replica.appendEach(core.keyPair, bodies, nowMs))
    const entries = outcomes.flatMap(o => 'entry' in o ? [o.entry] : [])
    if (entries.length === 0) return outcomes
    core.afterLocalEntries(replica, entries, nowMs)
    return outcomes
  }

  /**
   * Our join with an invite (decision 9): a join entry at seq 0 of a new
   * epoch, stored, or pending until the invite arrives; either way the
   * space's hello presents it to every neighbour (as after spaceAdded).
   */
  join (space: SpaceKey, invite: Uint8Array, inviteKey: KeyPair, nowMs: number): Entry {
    const core = this.#core
    const replica = core.replica(space)
    const { entry } = core.localWrite(replica, nowMs, () => replica.join(core.keyPair, invite, inviteKey, nowMs))
    this.spaceAdded(space)
    core.afterLocalRelease(replica, nowMs)
    return entry
  }

  /**
   * Our join as written before a restart (node/own-joins.ts), pending again or stored: presented to every
   * neighbour as join() presents a new one. Undefined if it is not a join of ours in this space.
   */
  restoreJoin (space: SpaceKey, join: SignedBytes, nowMs: number): Entry | undefined {
    const core = this.#core
    const replica = core.replica(space)
    const entry = core.localWrite(replica, nowMs, () => replica.restoreJoin(core.self, join, nowMs))
    this.spaceAdded(space)
    core.afterLocalRelease(replica, nowMs)
    return entry
  }

  /** Our joins of `space` still pending, forgotten (their issuer refused them: node/own-joins.ts); none presented. */
  dropJoins (space: SpaceKey): void {
    this.#core.spaces.get(space)?.dropPendingJoins(this.#core.self)
  }

  /** Our status record, stored and announced to member neighbours (status-gossip.ts). */
  publishStatus (space: SpaceKey, body: Record<string, unknown>, nowMs: number): void {
    publishOwnStatus(this.#core, this.#core.replica(space), body, nowMs)
  }

  /** Our leave notice for `space` (space/leave-notice.ts), signed and not stored: the space's rows go next. */
  signLeaveNotice (space: SpaceKey, nowMs: number): SignedStatus {
    return this.#core.replica(space).signStatus(this.#core.keyPair, LEAVE_NOTICE, nowMs)
  }

  /**
   * Once the space's rows are gone, before the space leaves the engine: the notice pushed whole to every member
   * neighbour, who keep it and pass it on by the status gossip (announced instead, nobody could pull it from us).
   * Returns how many member neighbours it went to.
   */
  pushLeaveNotice (space: SpaceKey, notice: SignedStatus): number {
    return pushOwnStatus(this.#core, this.#core.replica(space), notice)
  }

  /** After the node adds or adopts a space: tell every neighbour. */
  spaceAdded (space: SpaceKey): void {
    const core = this.#core
    const replica = core.replica(space)
    for (const session of core.sessions.values()) core.send(core.membership.spaceAdded(session, replica))
  }

  /**
   * After the node left a space (removed from its directory first): nothing of it is pulled, served, announced or
   * gossiped from now on. What neighbours learn of it is the leave notice pushed before (pushLeaveNotice); no right
   * changes (decision 5: nobody revokes itself), and they still list this node as a member.
   */
  spaceRemoved (space: SpaceKey, nowMs: number): void {
    this.#core.spaceGone(space, nowMs)
  }

  /**
   * This node's own entries in `space` that no connected member has shown it
   * holds (by its hello, announcements, or what it pulled): for a leave,
   * which would delete their only copy. Peers not connected now count as
   * holding nothing: what a peer held before its link dropped is not known here.
   */
  unsentOwn (space: SpaceKey): number {
    const replica = this.#core.spaces.get(space)
    if (replica === undefined) return 0
    let unsent = 0
    for (const row of replica.vector()) {
      if (authorKeyOf(row.author) !== this.self) continue
      const fk = feedKey(this.self, row.epoch)
      let held = 0
      for (const session of this.#core.sessions.values()) {
        held = Math.max(held, session.spaces.get(space)?.known.get(fk) ?? 0)
      }
      unsent += Math.max(0, row.count - held)
    }
    return unsent
  }

  /** What peers make this node hold now (decision 17: bounded per peer and in all): for `samepage stats`, tests. */
  holdings (): { pendingEntries: number, pendingBytes: number, claims: number, undrainedBytes: number } {
    let pendingEntries = 0
    let pendingBytes = 0
    for (const r of this.#core.spaces.all()) { pendingEntries += r.pendingCount; pendingBytes += r.pendingBytes }
    const { claims, serving } = this.#core
    return { pendingEntries, pendingBytes, claims: claims.total, undrainedBytes: serving.undrained }
  }

  // ------------------------------------------------------------------ poll

  drain (): Outbound[] {
    const core = this.#core
    core.send(core.relay.flush())
    core.serving.drained()
    const out = core.outbox.map(({ peer, msg }) => {
      const bytes = encodeMessage(msg)
      this.stats.count('out', msg.m, bytes.length)
      return { peer, type: msg.m, bytes }
    })
    core.outbox = []
    return out
  }

  events (): SyncEvent[] {
    const e = this.#core.events
    this.#core.events = []
    return e
  }

  nextDeadline (): number | null {
    let next = this.#core.nextPendingRetry
    const { pulls, status, nextForkCommit } = this.#core
    for (const d of [pulls.nextDeadline(), status.nextDeadline(), nextForkCommit]) {
      if (d !== null && (next === null || d < next)) next = d
    }
    return next
  }
}

function assertNever (x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`)
}

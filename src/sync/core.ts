import { ACL_TYPES, cidFromBytes, compareClocks, decodeEntry, fromHex, REASON_BYTES_MAX } from '../codec/index.ts'
import type { Body, Clock, Entry, SignedBytes, StatusHead } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf, printable, spaceKeyOf } from '../ids/index.ts'
import { emptyResult, PENDING_BYTES_MAX, PENDING_BYTES_PER_PEER_MAX, SpaceError } from '../space/index.ts'
import type { IngestResult, ReleasedFault, SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { ClaimBudget, CLAIMS_PER_PEER_MAX } from './claims.ts'
import { PENDING_RETRY_MS, REASON_CHARS_MAX, SCORE } from './constants.ts'
import { asFeedKey, feedKey } from './keys.ts'
import type { FeedKey } from './keys.ts'
import { Membership } from './membership.ts'
import { FeedPulls } from './pulls.ts'
import { AnnounceRelay } from './relay.ts'
import type { Relay, RelayNeighbour } from './relay.ts'
import { BanList } from './score.ts'
import { ServeBudget } from './serve-budget.ts'
import type { Session, SharedSpace } from './session.ts'
import { emptyStats } from './stats.ts'
import type { SyncStats } from './stats.ts'
import { StatusGossip, stampOf } from './status-gossip.ts'
import type { StatusNeighbour, StatusSpace } from './status-gossip.ts'
import { isMember } from './types.ts'
import type { Send, SpaceDirectory, SyncEvent, SyncInit } from './types.ts'

/**
 * The engine's state and the steps every handler shares (engine.ts is its
 * public face, handlers.ts reads messages into it): the sessions, the parts
 * (pulls, status gossip, relay, membership, budgets, bans), what to send
 * and the events, and what follows a store, an ACL change or a charge.
 * Internal to sync/: nothing outside imports it.
 */
export class SyncCore {
  readonly self: AuthorKey
  readonly stats: SyncStats = emptyStats()
  readonly keyPair: KeyPair
  readonly spaces: SpaceDirectory
  readonly sessions = new Map<AuthorKey, Session>()
  readonly bans = new BanList()
  readonly relay: Relay
  readonly pulls: FeedPulls
  readonly status: StatusGossip
  readonly membership: Membership
  /** What each peer can make us remember (claims.ts), and the entry bytes queued for it since the last drain(). */
  readonly claims = new ClaimBudget()
  readonly serving: ServeBudget
  outbox: Send[] = []
  events: SyncEvent[] = []
  nextPendingRetry: number | null = null
  /** When a held fork proof is due to be committed (SpaceReplica.nextForkDue), the earliest over all spaces. */
  nextForkCommit: number | null = null

  constructor (init: SyncInit) {
    this.keyPair = init.keyPair
    this.spaces = init.spaces
    this.self = authorKeyOf(init.keyPair.publicKey)
    this.relay = init.relay ?? new AnnounceRelay()
    this.serving = new ServeBudget(init.backlog)
    this.pulls = new FeedPulls(init.spaces, this.sessions, this.stats)
    this.status = new StatusGossip(peer => this.sessions.has(peer))
    this.membership = new Membership(this.self, init.spaces, (space, body, nowMs) => this.append(space, body, nowMs))
  }

  disconnect (peer: AuthorKey, nowMs: number): void {
    if (!this.sessions.delete(peer)) return
    this.relay.peerGone(peer)
    this.send(this.status.peerGone(peer, nowMs))
    this.send(this.pulls.peerGone(peer, nowMs))
    this.claims.release(peer)
    this.serving.forget(peer)
    this.membership.peerGone(peer)
    // What it brought that still waits is forgotten (decision 17); those feeds are pulled again from who holds them.
    for (const replica of this.spaces.all()) {
      for (const fk of replica.dropPendingFrom(peer)) this.plan(replica.key, asFeedKey(fk), nowMs)
    }
  }

  /**
   * The node left `space` (it is no longer in the directory): what every part holds of it goes, and no neighbour's
   * state of it is kept, so nothing of it is pulled, served, announced or asked from here on.
   */
  spaceGone (space: SpaceKey, nowMs: number): void {
    for (const session of this.sessions.values()) {
      this.forgetShared(session, space)
      session.toldRevoked.delete(space)
    }
    this.send(this.pulls.spaceGone(space, nowMs))
    this.status.spaceGone(space)
    this.relay.spaceGone?.(space)
    this.membership.spaceGone(space)
  }

  /**
   * What `session`'s peer showed of `space` goes: we left it, or the peer said it left (its own leave notice, on its
   * own session), so it holds nothing of it now, and a later hello of it starts afresh.
   */
  forgetShared (session: Session, space: SpaceKey): void {
    const shared = session.spaces.get(space)
    // Each feed and status head the peer showed of it took a slot of its claim budget (session.ts): they come back.
    if (shared !== undefined) {
      this.claims.give(session.peer, shared.known.size + shared.statusKnown.size + shared.unheldStatus.size)
    }
    session.spaces.delete(space)
  }

  /**
   * `session`'s peer said on its own session that it left the space (its leave notice of clock `clock`): if it wrote
   * nothing there since, what it showed of the space goes, as it holds nothing of it now (it no longer counts as
   * holding our entries), and its tag when it comes back gets our member hello again (Membership.tags). Looked at
   * once until the peer writes there again (afterStore): notices alone can neither draw hello after hello nor cost
   * scan after scan, while a member that came back and leaves again is seen leaving again.
   */
  peerLeft (session: Session, replica: SpaceReplica, clock: Clock): void {
    const space = replica.key
    if (session.leftSaid.has(space)) return
    session.leftSaid.set(space, { clock, joinAnswered: session.spaces.get(space)?.joinAnswered })
    if (replica.saidItLeft(session.peer)) this.forgetShared(session, space)
  }

  /**
   * Records `session`'s peer sent whose authors were no members here then (a joiner catching up drops them): those
   * of authors the ACL now admits are asked of it again, as if it announced them now.
   */
  #askUnheld (session: Session, replica: SpaceReplica, shared: SharedSpace, nowMs: number): void {
    const heads: StatusHead[] = []
    for (const [author, stamp] of shared.unheldStatus) {
      if (!isMember(replica, author)) continue
      shared.unheldStatus.delete(author)
      heads.push({ author: fromHex(author), ...stamp })
    }
    if (heads.length === 0) return
    this.claims.give(session.peer, heads.length) // their slots come back (announced() takes one where it keeps a head)
    const from = { peer: session.peer, known: shared.statusKnown }
    this.send(this.status.announced(this.statusView(replica), from, heads, nowMs))
  }

  /** A replica as status gossip reads it. */
  statusView (replica: SpaceReplica): StatusSpace {
    return {
      key: replica.key,
      id: replica.id,
      stampOf: author => stampOf(replica.status(author)),
      isMember: author => isMember(replica, author)
    }
  }

  /** A local write: committed, then announced (decision 6: announce only after commit). */
  append (space: SpaceKey, body: Body, nowMs: number): Entry {
    const replica = this.replica(space)
    const entry = this.localWrite(replica, nowMs, () => replica.append(this.keyPair, body, nowMs))
    this.afterStore(replica, [entry], null)
    this.events.push({ type: 'stored', space, count: 1, entries: [entry], from: 'local' })
    // Our own grant, redemption or revoke: a new member is sent the full hello, a revoked one its revoke.
    if (ACL_TYPES.includes(body.t)) this.onAclChanged(replica, nowMs)
    this.afterLocalRelease(replica, nowMs)
    return entry
  }

  /** Entries written here in one commit (appendBodies, appendEach): announced, told, what they released followed. */
  afterLocalEntries (replica: SpaceReplica, entries: readonly Entry[], nowMs: number): void {
    this.afterStore(replica, entries, null)
    this.events.push({ type: 'stored', space: replica.key, count: entries.length, entries, from: 'local' })
    this.afterLocalRelease(replica, nowMs)
  }

  /** A local write; what it let out of pending is followed up also when it is refused after storing part of it. */
  localWrite<T> (replica: SpaceReplica, nowMs: number, write: () => T): T {
    try {
      return write()
    } catch (err) {
      this.afterLocalRelease(replica, nowMs)
      throw err
    }
  }

  /**
   * What a local write let out of pending (a grant admits entries a peer sent before it) was stored with it, from
   * peers: announced to every member neighbour and followed up, as a timer's retry of pending entries is.
   */
  afterLocalRelease (replica: SpaceReplica, nowMs: number): void {
    const { entries, faults, forks } = replica.takeReleasedByLocal()
    if (entries.length === 0 && faults.length === 0 && forks.length === 0) return
    const aclChanged = entries.some(e => ACL_TYPES.includes(e.body.t)) || forks.length > 0
    const result = { ...emptyResult(), stored: [...entries], releasedFaults: [...faults], releasedForks: [...forks] }
    this.afterRetry(replica, { ...result, aclChanged }, nowMs)
  }

  /** Entries a retry of pending ones stored: announced to all, and their feeds pulled on from where they now end. */
  afterRetry (replica: SpaceReplica, result: IngestResult, nowMs: number): void {
    this.afterIngest(replica, result, 'local', nowMs, true)
    const feeds = new Set(result.stored.map(e => feedKey(authorKeyOf(e.author), e.epoch)))
    for (const fk of feeds) this.plan(replica.key, fk, nowMs)
  }

  // ------------------------------------------------------------------ after a change
  afterIngest (
    replica: SpaceReplica, result: IngestResult, from: AuthorKey | 'local', nowMs: number, released = false
  ): void {
    const stored = result.stored
    if (stored.length > 0) {
      this.stats.entriesStored += stored.length
      const event = { type: 'stored' as const, space: replica.key, count: stored.length, entries: stored, from }
      this.events.push(released ? { ...event, released } : event)
      if (from === 'local') this.afterStore(replica, stored, null)
      else if (result.released.length === 0) this.afterStore(replica, stored, from)
      else {
        // What the run let out of pending came earlier, maybe from elsewhere, so its sender may lack it too: a join
        // held here for want of its invite, let through by the invite its issuer sent, is for that issuer to redeem.
        const released = new Set(result.released)
        this.afterStore(replica, stored.filter(e => !released.has(e)), from)
        this.afterStore(replica, result.released, null)
      }
      for (const e of stored) {
        if (e.body.t === 'join' && e.seq === 0) this.membership.redeemIfMine(replica, e, nowMs)
      }
    }
    for (const proof of result.fork === undefined ? result.releasedForks : [result.fork, ...result.releasedForks]) {
      this.events.push({ type: 'fork', space: replica.key, proof })
      this.send(this.membership.relayFork(replica, proof, this.sessions.values()))
      this.send(this.pulls.askCopiesBelow(replica, proof, null, nowMs))
    }
    // A proof held for its author's hold goes on at once: each node holds and commits at its own pace, so a proof
    // crosses the network in one hold, not one a hop.
    const held = result.forkHeld
    if (held !== undefined) this.send(this.membership.relayFork(replica, held, this.sessions.values()))
    if (result.aclChanged) this.onAclChanged(replica, nowMs)
    const botched = result.heldBotched
    if (botched !== undefined) this.send(this.pulls.askCopies(replica, botched, null, from, nowMs))
    if (result.resigned !== undefined) this.send(this.pulls.refineAgain(replica, result.resigned, nowMs))
    const forkDue = replica.nextForkDue()
    if (forkDue !== null && (this.nextForkCommit ?? Infinity) > forkDue) this.nextForkCommit = forkDue
    for (const fault of result.releasedFaults) this.#releasedFault(replica, fault, nowMs)
    if (result.pending > 0) this.schedulePendingRetry(nowMs)
  }

  /**
   * Entries a peer sent earlier, held pending, found wrong once let through, as they would have been at once had they
   * needed no wait: invalid, charged to that peer (no honest peer sends a bad join proof or a clock regression: it
   * stores neither); not linked to what we stored since, probed of that peer to prove the fork (nothing else would
   * ask it: the run was taken). A peer gone is neither.
   */
  #releasedFault (replica: SpaceReplica, fault: ReleasedFault, nowMs: number): void {
    const session = this.sessions.get(fault.from as AuthorKey)
    if (session === undefined || !session.spaces.has(replica.key)) return
    if ('forked' in fault) {
      // A fork proven by entries it sent: asked further down of it, as for a fork found in a run it sent now.
      this.send(this.pulls.refineFork(session, replica, fault.forked, nowMs))
      return
    }
    if ('diverged' in fault) {
      const { author, epoch, seq } = fault.diverged
      this.stats.divergedRuns++
      this.send(this.pulls.probe(session, replica, feedKey(author, epoch), seq, nowMs))
      session.shared(replica.key).diverges(feedKey(author, epoch), seq + 1)
      return
    }
    const reason = `invalid entry (${fault.reject.reason}), held pending: ${fault.reject.detail}`
    this.penalize(session, SCORE.invalidEntry, reason, nowMs)
  }

  /** New entries go to member neighbours as the relay decides (never back to where they came from). */
  afterStore (replica: SpaceReplica, entries: readonly Entry[], from: AuthorKey | null): void {
    const neighbours: RelayNeighbour[] = []
    for (const session of this.sessions.values()) {
      const left = session.leftSaid.get(replica.key)
      // A peer that said it left wrote here since: it came back, and a notice of it counts again (peerLeft).
      if (left !== undefined && entries.some(e => compareClocks(e.clock, left.clock) > 0 &&
        authorKeyOf(e.author) === session.peer)) session.leftSaid.delete(replica.key)
      const shared = session.spaces.get(replica.key)
      if (session.peer === from || shared === undefined || !isMember(replica, session.peer)) continue
      neighbours.push({ peer: session.peer, known: shared.known })
    }
    this.send(this.relay.stored(replica, entries, neighbours))
    this.send(this.membership.owedForks(replica, entries, this.sessions.values()))
  }

  onAclChanged (replica: SpaceReplica, nowMs: number): void {
    for (const session of this.sessions.values()) {
      const shared = session.spaces.get(replica.key)
      if (shared === undefined) continue
      this.send(this.membership.tellRevoked(session, replica))
      const member = isMember(replica, session.peer)
      // Nothing is announced to a peer while it is no member: granted again, it is sent our vector anew.
      if (!member) shared.memberHelloSent = false
      else if (!shared.memberHelloSent) this.send(this.membership.lateHello(session, replica))
      if (member && shared.unheldStatus.size > 0) this.#askUnheld(session, replica, shared, nowMs)
      for (const { a, b } of session.takeUngrantedForks(replica.key)) this.takeFork(session, replica, a, b, nowMs)
      for (const fk of shared.known.keys()) this.plan(replica.key, fk, nowMs)
    }
  }

  /** A fork proof a peer sent: stored and relayed, kept for later (of a feed not granted here yet), or charged. */
  takeFork (session: Session, replica: SpaceReplica, a: SignedBytes, b: SignedBytes, nowMs: number): void {
    const result = replica.ingestFork(a, b, nowMs)
    // A proof of a feed our ACL does not cover yet: we may be behind the sender's ACL, or it sent it before our ACL
    // admitted it. Kept (bounded) until our ACL changes, not charged (the position is checked before the signatures:
    // it cost a decode), but for a non-member's proof of its own feed: two entries it signed itself prove nothing.
    if (result.reject?.reason === 'ungranted-fork') {
      const ownFeed = authorKeyOf(decodeEntry(a[0], a[1]).author) === session.peer
      if (!ownFeed || isMember(replica, session.peer)) {
        if (!session.spaces.has(replica.key)) return
        let keptByAll = 0
        for (const s of this.sessions.values()) keptByAll += s.ungrantedForkBytes
        session.keepUngrantedFork(replica.key, a, b, keptByAll)
        return
      }
    }
    if (result.reject !== undefined) {
      this.penalize(session, SCORE.badForkProof, `bad fork proof: ${result.reject.detail}`, nowMs)
      return
    }
    const fork = result.fork ?? result.forkHeld
    const proof = decodeEntry(a[0], a[1])
    const fk = feedKey(authorKeyOf(proof.author), proof.epoch)
    if (session.spaces.has(replica.key)) session.shared(replica.key).heldFork(fk, proof.seq)
    // A proof above the first divergence: asked further down, of the one that holds a branch (decision 7).
    if (fork !== undefined) this.send(this.pulls.refineFork(session, replica, fork, nowMs))
    this.afterIngest(replica, result, session.peer, nowMs)
    // Ours is lower (theirs was a duplicate): it goes back, or the sender would stay frozen higher than everyone.
    const ours = fork === undefined ? replica.forkProofs().find(p => feedKey(p.author, p.epoch) === fk) : undefined
    if (ours !== undefined) this.send(this.membership.relayFork(replica, ours, [session]))
    // Ours is theirs: both froze there, maybe each on its own branch below it (each took it from the forker, or a
    // lower proof one of us found was held and lost in a restart): refined with it, as a proof found in a run is.
    if (ours?.seq === proof.seq) this.send(this.pulls.refineFork(session, replica, ours, nowMs))
  }

  // ------------------------------------------------------------------ charges and bounds

  /**
   * Each space bounds what a peer makes it hold pending; over all spaces
   * the same bounds hold (a peer that knows many spaces does not multiply
   * them): past them, what this peer brought is forgotten everywhere.
   */
  boundPending (peer: AuthorKey, nowMs: number): void {
    let mine = 0
    let all = 0
    for (const r of this.spaces.all()) { mine += r.pendingBytesFrom(peer); all += r.pendingBytes }
    if (mine <= PENDING_BYTES_PER_PEER_MAX && all <= PENDING_BYTES_MAX) return
    for (const r of this.spaces.all()) for (const fk of r.dropPendingFrom(peer)) this.plan(r.key, asFeedKey(fk), nowMs)
  }

  /** A message made the peer claim more than its budget (claims.ts): charged once for it. */
  chargeOverClaim (session: Session, nowMs: number): void {
    if (!session.overClaimed || !this.sessions.has(session.peer)) return
    session.overClaimed = false
    const reason = `claims past the budget: over ${CLAIMS_PER_PEER_MAX} feeds and status heads`
    this.penalize(session, SCORE.overClaim, reason, nowMs)
  }

  /** Scored (score.ts); past the limit: `bye`, banned for BAN_MS, disconnected. */
  penalize (session: Session, points: number, said: string, nowMs: number): void {
    const reason = printable(said, REASON_CHARS_MAX)
    session.score.add(points, reason, nowMs)
    const score = session.score.value(nowMs)
    this.events.push({ type: 'misbehaviour', peer: session.peer, reason, points, score })
    if (!session.score.exceeded(nowMs)) return
    // At most 3 UTF-8 bytes a UTF-16 unit: within what a peer's decoder takes (REASON_BYTES_MAX).
    const bye = printable(`misbehaviour score ${Math.round(score)}: ${reason}`, Math.floor(REASON_BYTES_MAX / 3))
    this.send([{ peer: session.peer, msg: { m: 'bye', reason: bye } }])
    this.bans.ban(session.peer, nowMs)
    this.events.push({ type: 'disconnect', peer: session.peer, reason })
    this.disconnect(session.peer, nowMs)
  }

  schedulePendingRetry (nowMs: number): void {
    let pending = 0
    for (const r of this.spaces.all()) pending += r.pendingCount
    if (pending > 0 && this.nextPendingRetry === null) this.nextPendingRetry = nowMs + PENDING_RETRY_MS
  }

  plan (space: SpaceKey, fk: FeedKey, nowMs: number): void {
    this.send(this.pulls.plan(space, fk, nowMs))
  }

  statusNeighbours (replica: SpaceReplica): StatusNeighbour[] {
    const out: StatusNeighbour[] = []
    for (const session of this.sessions.values()) {
      const shared = session.spaces.get(replica.key)
      if (shared === undefined || !isMember(replica, session.peer)) continue
      out.push({ peer: session.peer, known: shared.statusKnown })
    }
    return out
  }

  /** The space a wire id names, if we hold it (an id that is not a CID names none). */
  space (id: Uint8Array): SpaceReplica | undefined {
    const cid = cidFromBytes(id)
    return cid === undefined ? undefined : this.spaces.get(spaceKeyOf(cid))
  }

  replica (space: SpaceKey): SpaceReplica {
    const r = this.spaces.get(space)
    if (r === undefined) throw new SpaceError('UNKNOWN_SPACE', `space ${space} is not held by this node`)
    return r
  }

  send (sends: readonly Send[]): void {
    for (const s of sends) this.outbox.push(s)
  }
}

import { bytesEqual, cidOf, codecReason, decodeEntry, decodeStatus, isCodecError, newerStatus } from '../codec/index.ts'
import type { Clock, Entry, Message, SignedBytes, SignedStatus } from '../codec/index.ts'
import { authorKeyOf, entryIdOf, spaceKeyOf } from '../ids/index.ts'
import { BACK_NOTICE, isLeaveNotice, SpaceError } from '../space/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { runBytes } from './asked.ts'
import { SCORE } from './constants.ts'
import type { SyncCore } from './core.ts'
import { feedKey } from './keys.ts'
import type { FeedKey } from './keys.ts'
import { answer } from './membership.ts'
import { serveWant } from './serve-budget.ts'
import type { Session } from './session.ts'
import { stampOf } from './status-gossip.ts'
import { isMember } from './types.ts'

/**
 * One handler per message type (as js-libp2p kad-dht's rpc/handlers): each
 * reads one decoded message from a session into the engine's state and
 * queues what the parts decide to send. engine.ts dispatches to them after
 * the message was decoded and charged against the peer's message budget.
 */
type Msg<T extends Message['m']> = Extract<Message, { m: T }>

export function onHello (core: SyncCore, session: Session, msg: Msg<'hello'>, nowMs: number): void {
  const { spaces, tags = [] } = msg
  for (const h of spaces) {
    const replica = core.spaces.get(spaceKeyOf(cidOf(h.genesis[0])))
    if (replica === undefined || !bytesEqual(replica.genesis.sig, h.genesis[1])) continue
    const shared = session.shared(replica.key)
    // A row past the claim budget is not kept: nothing is probed or planned from it (tens of thousands cost seconds).
    const feeds = h.feeds.flatMap(row => shared.learn(row) ?? [])
    // Raised, never lowered: records we pushed it may be newer than the heads its hello was sent with.
    for (const st of h.statuses) {
      const author = authorKeyOf(st.author)
      if (newerStatus(st, shared.statusKnown.get(author))) shared.statusKnown.set(author, stampOf(st))
    }
    core.send(core.membership.tellRevoked(session, replica))
    core.send(core.membership.forkProofs(session, replica, shared))
    for (const proof of replica.forkProofs()) core.send(core.pulls.askCopiesBelow(replica, proof, session.peer, nowMs))
    for (const fk of feeds) {
      core.send(core.pulls.probeIfDiverged(session, replica, shared, fk, nowMs))
      core.plan(replica.key, fk, nowMs)
    }
    core.send(core.membership.presentJoin(session, replica))
    // Status records the member lacks, by the heads of its hello.
    core.send(core.membership.memberExtras(session, replica, 'push'))
  }
  if (core.sessions.has(session.peer)) core.send(core.membership.tags(session, tags))
  core.chargeOverClaim(session, nowMs)
}

export function onWant (core: SyncCore, session: Session, msg: Msg<'want'>): void {
  const replica = core.space(msg.space)
  core.send(serveWant(session, replica, msg.space, msg.ranges, core.serving, core.sessions.keys(), core.stats))
}

export function onEntries (core: SyncCore, session: Session, msg: Msg<'entries'>, nowMs: number): void {
  const { space, run } = msg
  const replica = core.space(space)
  if (replica === undefined || run.length === 0) return
  const first = run[0] as SignedBytes
  let head: Entry
  try {
    head = decodeEntry(first[0], first[1])
  } catch (err) {
    if (!isCodecError(err)) throw err
    core.penalize(session, SCORE.invalidEntry, `invalid entry: ${codecReason(err)}`, nowMs)
    return
  }
  const author = authorKeyOf(head.author)
  const fk = feedKey(author, head.epoch)
  const pulled = core.pulls.isPulling(session.peer, replica.key, fk)
  const isJoin = head.seq === 0 && run.length === 1 && head.body.t === 'join'
  const revokeOfSelf = core.membership.isRevokeOfSelf(head, run.length)
  const bytes = runBytes(run)
  const asked = core.pulls.asked(session.peer, replica.key, fk, head.seq, run.length, bytes, nowMs)
  const solicited = asked || isJoin || revokeOfSelf
  if (!pulled) {
    // Expiry is enforced where it cannot diverge (decision 9): a join presented at the handshake after its
    // invite expired is refused here; one that reaches us later through catch-up was accepted in time elsewhere.
    const expires = head.body.t === 'join' ? replica.inviteExpiresMs(head.body.invite) : undefined
    if (expires !== undefined && expires < nowMs && replica.acl.currentRole(author) === null) {
      // (What to do, "ask for a new invite", the joiner's node adds: node/membership.ts joinError.)
      const detail = `this invite expired at ${new Date(expires).toISOString()}`
      if (author === session.peer) core.send([answer(session, replica, head.id, 'expired', detail)])
      return
    }
  }
  core.stats.entriesIn += run.length
  if (!solicited && !isMember(replica, session.peer) && !coveredRun(replica, author, head)) {
    // A stranger's own feed, or anything no grant covers, pushed by a non-member: not held, and charged (decision 17).
    core.stats.droppedIn += run.length
    const reason = 'entries nobody asked for, of a feed no grant covers, from a non-member'
    core.penalize(session, SCORE.unsolicited, reason, nowMs)
    return
  }
  const result = replica.ingestRun(run, session.peer, nowMs)
  core.stats.duplicatesIn += result.duplicates
  core.stats.pendingIn += result.pending
  if (result.pending > 0) core.boundPending(session.peer, nowMs)
  core.stats.droppedIn += result.dropped
  if (result.diverged !== undefined) core.stats.divergedRuns++
  if (result.reject !== undefined) {
    const reason = `invalid entry (${result.reject.reason}): ${result.reject.detail}`
    core.penalize(session, SCORE.invalidEntry, reason, nowMs)
  } else if (!solicited && !core.relay.pushes && result.stored.length === 0 && result.duplicates > 0 &&
    result.fork === undefined) {
    // (A run that proved a fork is no replay: the proof it brought is news.)
    core.penalize(session, SCORE.unsolicited, 'replay: entries nobody asked for, already held', nowMs)
  }
  const { diverged, reject } = result
  const fork = result.fork ?? result.forkHeld
  if (core.sessions.has(session.peer)) {
    session.shared(replica.key).holds(fk, head.seq + run.length)
    if (diverged !== undefined) {
      const at = feedKey(diverged.author, diverged.epoch)
      core.send(core.pulls.probe(session, replica, at, diverged.seq, nowMs))
      session.shared(replica.key).diverges(at, diverged.seq + 1)
    }
    if (fork !== undefined) core.send(core.pulls.refineFork(session, replica, fork, nowMs))
  }
  // What the run stored, and what it let out of pending, is followed up also when its sender was just banned (a
  // valid prefix of a run, then a bad entry): others are owed it, and what it let out may be another peer's fault.
  core.afterIngest(replica, result, session.peer, nowMs)
  // Entries this peer sent earlier, let out of pending by this run, may have been charged to it up to a ban.
  if (!core.sessions.has(session.peer)) return
  if (isJoin && author === session.peer && reject === undefined) {
    const answered = core.membership.answerJoin(session, replica, head, nowMs)
    if (answered !== 'repeated') core.send(answered)
    // Pulled or asked for, a copy is ours to have wanted; pushed again, it only draws answers.
    else if (!pulled && !asked) core.penalize(session, SCORE.unsolicited, 'the same join presented again', nowMs)
  }
  if (revokeOfSelf && reject === undefined && result.stored.length === 0 && replica.noteRevoke(head, core.self)) {
    core.events.push({ type: 'revoked', space: replica.key, by: author })
  }
  if (!pulled) return
  const reached = Math.max(replica.resumeAt(author, head.epoch), head.seq + run.length)
  const ended = reject !== undefined || diverged !== undefined || fork !== undefined
  core.send(core.pulls.progress(session.peer, replica.key, fk, head.seq, reached, bytes, ended, nowMs))
}

export function onNone (core: SyncCore, session: Session, msg: Msg<'none'>, nowMs: number): void {
  const { space, range } = msg
  const replica = core.space(space)
  if (replica === undefined) return
  const fk = feedKey(authorKeyOf(range.author), range.epoch)
  const shared = session.shared(replica.key)
  // It does not hold (or will not serve) this range: stop counting on it until it announces again.
  const known = shared.known.get(fk)
  if (known !== undefined) shared.known.set(fk, Math.min(known, range.from))
  core.send(core.pulls.none(session, replica.key, fk, range.from, nowMs))
}

export function onHave (core: SyncCore, session: Session, msg: Msg<'have'>, nowMs: number): void {
  const { space, heads } = msg
  const replica = core.space(space)
  if (replica === undefined) return
  const shared = session.shared(replica.key)
  const feeds = new Set<FeedKey>()
  for (const row of heads) {
    const fk = shared.learn(row)
    if (fk === undefined) continue // past the claim budget: not kept, charged below
    core.send(core.pulls.probeIfDiverged(session, replica, shared, fk, nowMs))
    core.plan(replica.key, fk, nowMs)
    feeds.add(fk)
  }
  // A proof held back from it may be owed now that it holds more (once a feed, however many rows name it).
  for (const fk of feeds) core.send(core.membership.owedFork(session, replica, fk))
  core.chargeOverClaim(session, nowMs)
}

export function onFork (core: SyncCore, session: Session, msg: Msg<'fork'>, nowMs: number): void {
  const { space, a, b } = msg
  const replica = core.space(space)
  if (replica === undefined) return
  core.takeFork(session, replica, a, b, nowMs)
}

export function onStatus (core: SyncCore, session: Session, msg: Msg<'status'>, nowMs: number): void {
  const replica = core.space(msg.space)
  if (replica !== undefined) takeStatus(core, session.peer, replica, msg.record, nowMs)
}

/**
 * A peer's status record, from `sender` (its session may be gone: a record held for the spacing and taken now). A
 * newer record of another member is stored at most once a STATUS_SPACING_MS of its author, else held for then
 * (status-gossip.ts admitNow); ours handed back, and a member's leave notice after a record that was none, at once.
 */
export function takeStatus (core: SyncCore, sender: AuthorKey, replica: SpaceReplica, record: SignedBytes,
  nowMs: number): void {
  const session = core.sessions.get(sender)
  const outcome = replica.ingestStatus(record, nowMs, st => {
    const a = authorKeyOf(st.author)
    if (a === core.self) return true
    const admitted = core.status.admitNow(replica.key, a, record, stampOf(st), sender, nowMs)
    return admitted || (isLeaveNotice(st) && !replica.saidItLeft(a))
  })
  if (typeof outcome === 'object') {
    const why = `bad status record (${outcome.reason}): ${outcome.detail}`
    if (session !== undefined) core.penalize(session, SCORE.badStatus, why, nowMs)
    return
  }
  // Only after ingestStatus accepted the record, so it decodes.
  const decoded = decodeStatus(record[0], record[1])
  const author = authorKeyOf(decoded.author)
  // Its author may be a member we have not caught up on yet: asked again if the ACL comes to admit it.
  if (outcome === 'not-member') session?.shared(replica.key).rememberUnheld(author, stampOf(decoded))
  const s = outcome === 'stored' ? replica.status(author) : undefined
  const view = core.statusView(replica)
  if (s !== undefined && author === core.self && isLeaveNotice(s)) {
    // Our own leave notice, handed back in a space we hold again (we came back): not passed on, and superseded.
    publishBack(core, replica, s.clock, nowMs)
  } else if (s !== undefined) {
    core.events.push({ type: 'status', space: replica.key, author, from: sender })
    const from = session === undefined ? null : { peer: sender, known: session.shared(replica.key).statusKnown }
    core.send(core.status.stored(view, s.author, stampOf(s), from, core.statusNeighbours(replica)))
    // Said on its own session, as it deletes the space: looked at once until that peer writes here again (a feed
    // scan; an older notice it echoes after a rejoin does not count, as it wrote since, its join at least).
    if (session !== undefined && author === sender && isLeaveNotice(s)) core.peerLeft(session, replica, s.clock)
  }
  core.send(core.status.answered(view, author, nowMs))
}

/**
 * We are back in a space where our leave notice (of clock `notice`) still stands: a record of ours after it says so
 * (leave-notice.ts), whatever our clock says now (the notice's may be ahead of it, by a peer's skew).
 */
function publishBack (core: SyncCore, replica: SpaceReplica, notice: Clock, nowMs: number): void {
  try {
    publishOwnStatus(core, replica, BACK_NOTICE, nowMs, notice)
  } catch (err) {
    // Not accepted (no role here yet, or the clock's counter at its bound): our next write counts us back the same.
    if (!(err instanceof SpaceError)) throw err
  }
}

/** Our status record in `replica`: stored, then announced to member neighbours (status-gossip.ts). */
export function publishOwnStatus (core: SyncCore, replica: SpaceReplica, body: Record<string, unknown>,
  nowMs: number, after?: Clock): void {
  const s = replica.publishStatus(core.keyPair, body, nowMs, after)
  core.events.push({ type: 'status', space: replica.key, author: authorKeyOf(s.author), from: 'local' })
  core.send(core.status.stored(core.statusView(replica), s.author, stampOf(s), null, core.statusNeighbours(replica)))
}

/**
 * A record of ours signed and not stored (a leave notice: the space's rows are gone), pushed whole to the member
 * neighbours, since nobody could pull it from us. Returns how many it went to.
 */
export function pushOwnStatus (core: SyncCore, replica: SpaceReplica, s: SignedStatus): number {
  const neighbours = core.statusNeighbours(replica)
  core.send(core.status.pushed(core.statusView(replica), [s.bytes, s.sig], s.author, stampOf(s), neighbours))
  return neighbours.length
}

export function onStatusHave (core: SyncCore, session: Session, msg: Msg<'status-have'>, nowMs: number): void {
  const { space, heads } = msg
  const replica = core.space(space)
  if (replica === undefined) return
  const peerIsMember = isMember(replica, session.peer)
  // Of a peer no member here, only a sharing of the space it showed us (its hello) is looked at; none is made.
  const shared = peerIsMember ? session.shared(replica.key) : session.spaces.get(replica.key)
  if (shared === undefined) return
  // A head of an author no member here yet, or from a peer no member here yet (our ACL is behind: the peer announced
  // it as it admitted us): asked once the ACL admits both (SyncCore.#askUnheld). Bounded, a claim slot each.
  for (const h of heads) {
    const author = authorKeyOf(h.author)
    if (!peerIsMember || !isMember(replica, author)) shared.rememberUnheld(author, stampOf(h))
  }
  if (!peerIsMember) {
    core.chargeOverClaim(session, nowMs)
    return
  }
  const from = { peer: session.peer, known: shared.statusKnown }
  core.send(core.status.announced(core.statusView(replica), from, heads, nowMs))
  core.chargeOverClaim(session, nowMs)
}

export function onStatusWant (core: SyncCore, session: Session, msg: Msg<'status-want'>): void {
  const { space, authors } = msg
  const replica = core.space(space)
  if (replica === undefined || !isMember(replica, session.peer)) return
  const from = { peer: session.peer, known: session.shared(replica.key).statusKnown }
  const { sends, refused } = core.status.asked(core.statusView(replica), from, authors, {
    record: author => replica.statusRecord(author),
    room: bytes => core.serving.room(session.peer, core.sessions.keys(), bytes),
    queued: bytes => core.serving.queued(session.peer, bytes)
  })
  core.send(sends)
  if (refused) core.stats.wantsRefused++
}

export function onJoinAnswer (core: SyncCore, session: Session, msg: Msg<'join-answer'>): void {
  const { space, join, outcome, detail } = msg
  const replica = core.space(space)
  if (replica === undefined) return
  core.events.push({
    type: 'join-answer', space: replica.key, join: entryIdOf(join), from: session.peer, outcome, detail
  })
}

/** Whether a non-member's run may be held: a join at seq 0, or positions some grant covers. */
function coveredRun (replica: SpaceReplica, author: AuthorKey, head: Entry): boolean {
  if (head.seq === 0 && head.body.t === 'join') return true
  return head.seq < replica.acl.feedLimit(author, head.epoch)
}

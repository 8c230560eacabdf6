import { bytesEqual, FEEDS_PER_MESSAGE_MAX, fromHex, newerStatus, toHex } from '../codec/index.ts'
import type { Body, Entry, SignedBytes, SpaceHello, StatusHead } from '../codec/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import { deadTokenRefusal, joinMayWait, redeemDecision, SpaceError } from '../space/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import type { ForkProof } from '../store/index.ts'
import { UNMATCHED_TAGS_PER_PEER_MAX } from './claims.ts'
import { feedKey, parseFeedKey } from './keys.ts'
import type { FeedKey } from './keys.ts'
import type { Session, SharedSpace } from './session.ts'
import { helloTags, spaceTag, tagIndex } from './space-tags.ts'
import { stampOf } from './status-gossip.ts'
import { isMember } from './types.ts'
import type { Send, SpaceDirectory } from './types.ts'

/**
 * Who learns what of a space (decisions 17 and 18): the hello (a space in
 * full to a member, a blinded tag to anyone else), the matching of a peer's
 * tags, the presentation of our pending join and the answer to a joiner's,
 * the revoke a revoked member is shown, and fork proofs (whole entries:
 * members only). Returns what to send; writes (an invite redemption) go
 * through the engine's `append`.
 */
export class Membership {
  readonly #self: AuthorKey
  readonly #spaces: SpaceDirectory
  readonly #append: (space: SpaceKey, body: Body, nowMs: number) => Entry
  /** Per peer: the tag it would give each of our spaces (space-tags.ts), made once per session. */
  readonly #tagIndex = new Map<AuthorKey, Map<string, SpaceKey>>()

  constructor (self: AuthorKey, spaces: SpaceDirectory, append: (space: SpaceKey, body: Body, nowMs: number) => Entry) {
    this.#self = self
    this.#spaces = spaces
    this.#append = append
  }

  /**
   * A space in full (genesis, vector, status heads) only to a member; every
   * other one as a blinded tag (decision 17): a stranger learns no id, name,
   * owner or head, at most roughly how many spaces we hold. Our pending join
   * goes to a peer once it shows it holds the space (tags(), the engine's hello handler).
   */
  hello (session: Session, replicas: readonly SpaceReplica[]): Send[] {
    const spaces: SpaceHello[] = []
    const others: Uint8Array[] = []
    for (const replica of replicas) {
      if (!isMember(replica, session.peer)) { others.push(replica.id); continue }
      session.shared(replica.key).memberHelloSent = true
      const genesis: SignedBytes = [replica.genesis.bytes, replica.genesis.sig]
      spaces.push({ genesis, feeds: replica.vector(), statuses: replica.statusHeads() })
    }
    const out: Send[] = []
    const tags = helloTags(others, this.#self, session.peer)
    if (spaces.length > 0 || tags.length > 0) {
      out.push({ peer: session.peer, msg: { m: 'hello', spaces, ...(tags.length > 0 ? { tags } : {}) } })
    }
    for (const replica of replicas) if (session.spaces.has(replica.key)) out.push(...this.presentJoin(session, replica))
    return out
  }

  /**
   * Our hello of a space to a peer that became a member after the hellos were exchanged (a grant, a redeemed join, a
   * member back): with what the exchange gives a member beside our vector (memberExtras).
   */
  lateHello (session: Session, replica: SpaceReplica): Send[] {
    return [...this.hello(session, [replica]), ...this.memberExtras(session, replica, 'announce')]
  }

  /**
   * What a member gets beside our vector once its hello came: the fork proofs we hold, and the status records its
   * hello did not show it holds (status records travel by gossip, which skips a peer while it is no member). At the
   * hello exchange they are pushed (`push`). To a peer admitted later they are announced (`announce`), so that it
   * pulls each from one of the neighbours that all announce them at once, instead of getting a copy from each.
   */
  memberExtras (session: Session, replica: SpaceReplica, how: 'push' | 'announce'): Send[] {
    if (!isMember(replica, session.peer)) return []
    const shared = session.shared(replica.key)
    const out = this.forkProofs(session, replica, shared)
    const heads: StatusHead[] = []
    for (const s of replica.statuses()) {
      const author = authorKeyOf(s.author)
      if (!newerStatus(s, shared.statusKnown.get(author))) continue
      // Marked as held, as an announcement is: its hello, if it comes after, does not draw the same records again.
      shared.statusKnown.set(author, stampOf(s))
      if (how === 'announce') heads.push({ author: s.author, clock: s.clock, id: s.id })
      else out.push({ peer: session.peer, msg: { m: 'status', space: replica.id, record: [s.bytes, s.sig] } })
    }
    for (let i = 0; i < heads.length; i += FEEDS_PER_MESSAGE_MAX) {
      const some = heads.slice(i, i + FEEDS_PER_MESSAGE_MAX)
      out.push({ peer: session.peer, msg: { m: 'status-have', space: replica.id, heads: some } })
    }
    return out
  }

  /**
   * Blinded tags of a peer's hello (space-tags.ts): one that names a space we
   * hold shows the peer holds it too (it knows the id), so our pending join
   * for it is presented there. Tags that name none are kept (bounded) for a
   * space we add later.
   */
  tags (session: Session, tags: readonly Uint8Array[]): Send[] {
    if (tags.length === 0) return []
    let index = this.#tagIndex.get(session.peer)
    if (index === undefined) {
      this.#tagIndex.set(session.peer, index = tagIndex(this.#spaces.all(), session.peer, this.#self))
    }
    const out: Send[] = []
    for (const tag of tags) {
      const hex = toHex(tag)
      const key = index.get(hex)
      const replica = key === undefined ? undefined : this.#spaces.get(key)
      if (replica === undefined) {
        if (session.unmatchedTags.size < UNMATCHED_TAGS_PER_PEER_MAX) session.unmatchedTags.add(hex)
        continue
      }
      session.unmatchedTags.delete(hex)
      // A member that shows it holds the space and had no hello of it from us in this sharing gets one (with our
      // pending join): one that left (its leave notice ended the sharing, SyncCore.forgetShared) and is back, with
      // nothing yet that shows us a member, learns from it what to pull.
      if (!session.shared(replica.key).memberHelloSent && isMember(replica, session.peer)) {
        out.push(...this.lateHello(session, replica))
      } else {
        out.push(...this.presentJoin(session, replica))
      }
    }
    return out
  }

  /** We added or adopted a space: the peer gets its hello; its tags are matched again (it may have named it before). */
  spaceAdded (session: Session, replica: SpaceReplica): Send[] {
    this.#tagIndex.get(session.peer)?.set(toHex(spaceTag(replica.id, session.peer, this.#self)), replica.key)
    const out = this.hello(session, [replica])
    if (session.unmatchedTags.size > 0) out.push(...this.tags(session, [...session.unmatchedTags].map(fromHex)))
    return out
  }

  peerGone (peer: AuthorKey): void {
    this.#tagIndex.delete(peer)
  }

  /** The node left `space`: no peer's tag names it any more. */
  spaceGone (space: SpaceKey): void {
    for (const index of this.#tagIndex.values()) {
      for (const [tag, key] of [...index]) if (key === space) index.delete(tag)
    }
  }

  /**
   * A joiner presents its join to a peer that showed it holds the space: the
   * inviter cannot pull from a feed it does not yet cover.
   */
  presentJoin (session: Session, replica: SpaceReplica): Send[] {
    const shared = session.shared(replica.key)
    const join = replica.pendingJoin(this.#self)
    if (join === undefined || shared.joinPresented === toHex(join[1])) return []
    shared.joinPresented = toHex(join[1])
    return [{ peer: session.peer, msg: { m: 'entries', space: replica.id, run: [join] } }]
  }

  /** A join for an invite of ours, stored here: redeemed (an invite.redeem in our feed) if the rules allow it. */
  redeemIfMine (replica: SpaceReplica, join: Entry, nowMs: number): ReturnType<typeof redeemDecision> {
    const decision = redeemDecision(replica.acl, this.#self, join, nowMs)
    if (decision === undefined || !decision.ok || decision.recorded || join.body.t !== 'join') return decision
    try {
      this.#append(replica.key, { t: 'invite.redeem', invite: join.body.invite, join: join.id }, nowMs)
    } catch (err) {
      if (!(err instanceof SpaceError)) throw err
      return { ok: false, reason: 'issuer-not-admin', detail: err.message }
    }
    return { ok: true, recorded: true }
  }

  /**
   * The joiner presented its join to us: whether it is in, refused (and why), or waits for the invite's issuer. A
   * node that did not issue the invite refuses it only with a refusal its issuer would give too, of an invite that
   * can admit nobody any more (deadTokenRefusal): else a dead token's joiner heard 'waiting' and waited for nothing.
   * 'repeated': the same join again in this session, which no honest peer sends (the caller charges it).
   */
  answerJoin (session: Session, replica: SpaceReplica, join: Entry, nowMs: number): Send[] | 'repeated' {
    const shared = session.shared(replica.key)
    const id = toHex(join.id)
    if (shared.joinAnswered === id || session.leftSaid.get(replica.key)?.joinAnswered === id) return 'repeated'
    shared.joinAnswered = id
    const decision = this.redeemIfMine(replica, join, nowMs) ?? deadTokenRefusal(replica.acl, join, nowMs)
    if (decision === undefined) {
      const known = join.body.t === 'join' && replica.inviteExpiresMs(join.body.invite) !== undefined
      // Only a join held here (so it reaches the issuer from here too) that could still be admitted waits: a
      // stranger with a dead token (used up, expired, revoked) is one like any other (review F).
      const held = (replica.feedRow(authorKeyOf(join.author), join.epoch)?.count ?? 0) > 0
      if (held && joinMayWait(replica.acl, join, nowMs)) {
        session.waitingJoin = { space: replica.key, join, sinceMs: nowMs }
      }
      return [answer(session, replica, join.id, 'waiting', known
        ? 'this node did not issue the invite; only its issuer admits the join, ' +
          'when it gets it (from you or from any member)'
        : 'this node does not hold the invite yet')]
    }
    if (decision.ok) return [answer(session, replica, join.id, 'redeemed', '')]
    const out = [answer(session, replica, join.id, decision.reason, decision.detail)]
    // A member joining again left the space (its store starts from nothing) and dropped our hello of it while it did
    // not hold it: sent again, so it pulls its way back to the role it never lost.
    if (decision.reason === 'already-member' && isMember(replica, session.peer)) {
      out.push(...this.lateHello(session, replica))
    }
    return out
  }

  /** A revoked member is told (decision 18): shown the revoke that took its role, once a session, unless held. */
  tellRevoked (session: Session, replica: SpaceReplica): Send[] {
    if (session.toldRevoked.has(replica.key) || replica.acl.revokesOf(session.peer).length === 0) return []
    if (replica.acl.currentRole(session.peer) !== null) return []
    const revoke = replica.revokeOf(session.peer)
    if (revoke === undefined) return []
    session.toldRevoked.add(replica.key)
    const held = session.spaces.get(replica.key)?.known.get(feedKey(authorKeyOf(revoke.author), revoke.epoch)) ?? 0
    if (held > revoke.seq) return []
    return [{ peer: session.peer, msg: { m: 'entries', space: replica.id, run: [[revoke.bytes, revoke.sig]] } }]
  }

  isRevokeOfSelf (head: Entry, runLength: number): boolean {
    return runLength === 1 && head.body.t === 'acl.revoke' && authorKeyOf(head.body.member) === this.#self
  }

  /** The fork proofs we hold, to a member neighbour that lacks them (they carry whole entries: decision 17). */
  forkProofs (session: Session, replica: SpaceReplica, shared: SharedSpace): Send[] {
    if (!isMember(replica, session.peer)) return []
    const owedNow = replica.forkProofs().filter(proof => sendsFork(shared, replica, proof))
    return owedNow.map(proof => forkMessage(session, replica, proof))
  }

  /**
   * A proof held back from a peer (past what either of us held of its feed) is owed once we hold that far: looked at
   * again when we store entries of a feed frozen here (the peer that was our source announces nothing to us).
   */
  owedForks (replica: SpaceReplica, entries: readonly Entry[], sessions: Iterable<Session>): Send[] {
    const feeds = new Set<FeedKey>()
    let last: Entry | undefined
    for (const e of entries) {
      if (last !== undefined && e.epoch === last.epoch && bytesEqual(e.author, last.author)) continue
      last = e
      const author = authorKeyOf(e.author)
      if (replica.feedRow(author, e.epoch)?.frozen === true) feeds.add(feedKey(author, e.epoch))
    }
    if (feeds.size === 0) return []
    const out: Send[] = []
    for (const session of sessions) {
      if (!session.spaces.has(replica.key)) continue
      for (const fk of feeds) out.push(...this.owedFork(session, replica, fk))
    }
    return out
  }

  /** Our proof of a fork of `fk`, if we hold one and the peer is owed it now (it announced that it holds more). */
  owedFork (session: Session, replica: SpaceReplica, fk: FeedKey): Send[] {
    const { author, epoch } = parseFeedKey(fk)
    const seq = replica.frozenAt(author, epoch)
    const shared = session.shared(replica.key)
    // Decided on the fork's seq first: the proofs are read only when one is sent (once a link), not at each look.
    if (seq === null || !isMember(replica, session.peer) || !owed(shared, replica, fk, seq)) return []
    const proof = replica.forkProofs().find(p => p.author === author && p.epoch === epoch)
    return proof !== undefined && sendsFork(shared, replica, proof) ? [forkMessage(session, replica, proof)] : []
  }

  /**
   * A fork proven here goes to every neighbour sharing the space, the sender of the conflicting entry included (it
   * holds one branch only); to those it is owed (owed()).
   */
  relayFork (replica: SpaceReplica, proof: ForkProof, sessions: Iterable<Session>): Send[] {
    const out: Send[] = []
    for (const session of sessions) {
      if (!session.spaces.has(replica.key) || !isMember(replica, session.peer)) continue
      if (sendsFork(session.shared(replica.key), replica, proof)) out.push(forkMessage(session, replica, proof))
    }
    return out
  }
}

/** Our answer to a joiner's join (decision 18), its detail cut to 200 characters. */
export function answer (session: Session, replica: SpaceReplica, join: Uint8Array, outcome: string,
  detail: string): Send {
  const msg = { m: 'join-answer', space: replica.id, join, outcome, detail: detail.slice(0, 200) } as const
  return { peer: session.peer, msg }
}

/**
 * Whether a peer is owed a proof of `fk` at `seq`: it holds none as low (SharedSpace.heldFork), and, where it holds one
 * already, this one is within the feed as it or we hold it (its seq at most one of our counts: a node that pulled a
 * forked feed holds it up to the fork). A writer can sign proof after proof at seqs past every count, each lower than
 * the last: none changes a view, and relaying each to peers that hold a proof made every node rebuild its views for
 * each. Sent later, once it matters (owedFork).
 */
function owed (shared: SharedSpace, replica: SpaceReplica, fk: FeedKey, seq: number): boolean {
  const held = shared.frozen.get(fk)
  if (held === undefined) return true
  const { author, epoch } = parseFeedKey(fk)
  return seq < held && seq <= Math.max(replica.resumeAt(author, epoch), shared.known.get(fk) ?? 0)
}

/** Whether `proof` goes to the peer now (owed): then the peer is marked as holding it. */
function sendsFork (shared: SharedSpace, replica: SpaceReplica, proof: ForkProof): boolean {
  const fk = feedKey(proof.author, proof.epoch)
  return owed(shared, replica, fk, proof.seq) && shared.heldFork(fk, proof.seq)
}

function forkMessage (session: Session, replica: SpaceReplica, proof: ForkProof): Send {
  return { peer: session.peer, msg: { m: 'fork', space: replica.id, a: proof.a, b: proof.b } }
}

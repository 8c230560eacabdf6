import type { Clock, Entry, FeedRow, SignedBytes, StatusStamp } from '../codec/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import { authorKeyOf, entryIdOf } from '../ids/index.ts'
import { feedKey } from './keys.ts'
import type { FeedKey } from './keys.ts'
import { PeerScore } from './score.ts'

/** Records of authors not yet members here that one peer's sharing of a space remembers (SharedSpace.unheldStatus). */
const UNHELD_STATUS_MAX = 1024
/** Fork proofs of feeds no grant covers here yet that one peer's session keeps, all spaces together (Session). */
const UNGRANTED_FORKS_MAX = 16
const UNGRANTED_FORK_BYTES_MAX = 512 * 1024
/** The same, over every peer's session: new identities do not multiply it (decision 17). */
const UNGRANTED_FORK_BYTES_ALL_MAX = 8 * 1024 * 1024

/**
 * What we know of one neighbour: per shared space, how far it holds each
 * feed (from its hello, its announcements, what it asked for and what it
 * sent us). An entry at or below what a neighbour holds is never sent to it.
 * Each feed or status author it makes us remember takes a slot of its claim
 * budget (claims.ts): past it, the claim is not kept.
 */
export class SharedSpace {
  readonly known = new Map<FeedKey, number>()
  readonly heads = new Map<FeedKey, EntryId | null>()
  /**
   * The lowest fork seq of each feed this peer holds a proof of (it sent us one, or we sent it one; Infinity when only
   * a row of it said frozen): a proof lower still goes to it (a fork is walked down to its first divergence).
   */
  readonly frozen = new Map<FeedKey, number>()
  /** Status heads the peer holds; a new author takes a claim slot (past the budget, it is not kept). */
  readonly statusKnown: Map<AuthorKey, StatusStamp>
  /**
   * Records this peer sent whose authors were no members here then (author -> the record's stamp), asked again once
   * the ACL admits them (SyncCore.onAclChanged); at most UNHELD_STATUS_MAX, the first kept, each a claim slot.
   */
  readonly unheldStatus: Map<AuthorKey, StatusStamp>
  /** Our vector for this space went to this peer while it was a member (non-members get an empty hello). */
  memberHelloSent = false
  /**
   * Positions whose entry we hold botched and asked this peer for a valid copy of (FeedPulls.askCopies): once a
   * link each (asked again and again, peers holding only botched copies or the other branch answered without end).
   */
  readonly copiesAsked = new Set<string>()
  /**
   * The signature (hex) of our pending join last presented to this peer (once
   * it showed it holds the space); a new join is presented again.
   */
  joinPresented: string | undefined
  /**
   * The join (id, hex) this peer last presented to us: an honest peer presents
   * each join once a session (presentJoin), so a copy is answered by a charge,
   * never by another answer (an already-member's carries a hello of the space).
   */
  joinAnswered: string | undefined
  readonly #claim: () => boolean
  /** Feeds a run of this peer did not link to ours, with our count then (diverges). */
  readonly #diverged = new Map<FeedKey, number>()

  constructor (claim: () => boolean = () => true) {
    this.#claim = claim
    this.statusKnown = new ClaimedMap(claim)
    this.unheldStatus = new ClaimedMap(claim)
  }

  /** A record of `author` this peer sent while the author was no member here: kept (bounded) for a later ask. */
  rememberUnheld (author: AuthorKey, stamp: StatusStamp): void {
    if (this.unheldStatus.size < UNHELD_STATUS_MAX) this.unheldStatus.set(author, stamp)
  }

  /**
   * Its chain of `fk` and ours differ below `count` (a run it sent did not link to ours): what it holds past that
   * does not extend our feed, so it is not pulled from again for it while the link lasts, whatever it announces
   * (learn) or sends (holds): neither chain changes below our count, so the divergence stays. (Pulled again at once,
   * the same run diverged again, without end, when the fork could not be proven: its entry there, the author's,
   * carries a signature that does not verify. Both ends then charged each other for flooding.)
   */
  diverges (fk: FeedKey, count: number): void {
    const known = this.known.get(fk)
    if (known === undefined) return
    this.#diverged.set(fk, count)
    if (known > count) this.known.set(fk, count)
  }

  /** Whether a run of this peer diverged from our chain of `fk` (probed then: not again while the link lasts). */
  diverged (fk: FeedKey): boolean {
    return this.#diverged.has(fk)
  }

  /** The peer holds a proof of a fork of `fk` at `seq`: whether it held none as low before (then it lacked this). */
  heldFork (fk: FeedKey, seq: number): boolean {
    if ((this.frozen.get(fk) ?? Infinity) <= seq) return false
    this.frozen.set(fk, seq)
    return true
  }

  /** The row's feed, or undefined when it is a new claim past the budget (not kept: nothing to plan from it). */
  learn (row: FeedRow): FeedKey | undefined {
    const fk = feedKey(authorKeyOf(row.author), row.epoch)
    if (!this.known.has(fk) && !this.#claim()) return undefined
    // A feed whose chain here and ours differ: nothing it holds extends ours, whatever it announces (diverges).
    if (!this.#diverged.has(fk) && row.count >= (this.known.get(fk) ?? 0)) {
      this.known.set(fk, row.count)
      this.heads.set(fk, row.head === null ? null : entryIdOf(row.head))
    }
    // A frozen row says a fork is proven, not where: its count is the fork's seq only once it holds that far (a node
    // sent a proof before it caught up says less). Marked frozen at no seq: any proof we hold still goes to it.
    if (row.frozen && !this.frozen.has(fk)) this.frozen.set(fk, Infinity)
    return fk
  }

  holds (fk: FeedKey, count: number): void {
    if (!this.known.has(fk) && !this.#claim()) return
    // The rest of an answer whose first run diverged does not make the peer a source of that feed again.
    count = Math.min(count, this.#diverged.get(fk) ?? count)
    if (count > (this.known.get(fk) ?? 0)) {
      this.known.set(fk, count)
      this.heads.delete(fk)
    }
  }
}

export class Session {
  readonly peer: AuthorKey
  readonly order: number
  readonly score: PeerScore
  readonly spaces = new Map<SpaceKey, SharedSpace>()
  /** Pulls of this peer that ended without an answer (a timeout, or `none` for what it claimed): it is asked last. */
  unanswered = 0
  /** It claimed more than its budget (claims.ts) since this was last reset: charged once per message. */
  overClaimed = false
  /** Tags of its hello that named none of our spaces (bounded), matched again when we add a space. */
  readonly unmatchedTags = new Set<string>()
  /**
   * It presented a join on this session that waits for the invite's issuer, its invite held here (so its proof was
   * checked: the peer holds a token) and able to admit it: a joiner under way, whose link the node keeps though it is
   * no member yet, while the invite still could admit it and for JOIN_WAITING_MAX_MS at most (SyncEngine.joinWaiting).
   */
  waitingJoin: { readonly space: SpaceKey, readonly join: Entry, readonly sinceMs: number } | undefined
  /** Spaces where it was shown the revoke that took its role (membership.ts), once a session each. */
  readonly toldRevoked = new Set<SpaceKey>()
  /**
   * Spaces it said it left on this session (SyncCore.peerLeft), looked at once until it writes there again: the
   * notice's clock, and the join it had presented there before (still answered: a copy is charged, not answered).
   */
  readonly leftSaid = new Map<SpaceKey, { readonly clock: Clock, readonly joinAnswered: string | undefined }>()
  /**
   * Fork proofs it sent of feeds no grant covers here yet (we are behind its ACL, or it is behind ours in seeing us
   * as a member): a peer sends each proof once, so they are kept, the first UNGRANTED_FORKS_MAX and at most
   * UNGRANTED_FORK_BYTES_MAX over all spaces (UNGRANTED_FORK_BYTES_ALL_MAX over all peers), and taken again when
   * that space's ACL changes (SyncCore.onAclChanged). Not verified until then: the position is checked before the
   * signatures, and a bad proof is charged when judged.
   */
  #ungrantedForks: { readonly space: SpaceKey, readonly a: SignedBytes, readonly b: SignedBytes }[] = []
  #ungrantedForkBytes = 0
  readonly #claim: () => boolean

  /** Bytes of the fork proofs kept for this peer (keepUngrantedFork). */
  get ungrantedForkBytes (): number { return this.#ungrantedForkBytes }

  /**
   * A fork proof of a feed no grant covers here yet: kept while the bounds allow (`keptByAll`: what every session
   * keeps now), until the ACL changes.
   */
  keepUngrantedFork (space: SpaceKey, a: SignedBytes, b: SignedBytes, keptByAll: number): void {
    const bytes = proofBytes(a, b)
    if (this.#ungrantedForks.length >= UNGRANTED_FORKS_MAX) return
    if (this.#ungrantedForkBytes + bytes > UNGRANTED_FORK_BYTES_MAX) return
    if (keptByAll + bytes > UNGRANTED_FORK_BYTES_ALL_MAX) return
    this.#ungrantedForks.push({ space, a, b })
    this.#ungrantedForkBytes += bytes
  }

  /** The kept proofs of `space`, no longer kept (taken again by the caller). */
  takeUngrantedForks (space: SpaceKey): { readonly a: SignedBytes, readonly b: SignedBytes }[] {
    const taken = this.#ungrantedForks.filter(f => f.space === space)
    if (taken.length === 0) return taken
    this.#ungrantedForks = this.#ungrantedForks.filter(f => f.space !== space)
    for (const { a, b } of taken) this.#ungrantedForkBytes -= proofBytes(a, b)
    return taken
  }

  constructor (peer: AuthorKey, order: number, nowMs: number, claim?: (peer: AuthorKey) => 'ok' | 'peer' | 'full') {
    this.peer = peer
    this.order = order
    this.score = new PeerScore(nowMs)
    this.#claim = () => {
      const r = claim?.(peer) ?? 'ok'
      if (r === 'peer') this.overClaimed = true
      return r === 'ok'
    }
  }

  shared (space: SpaceKey): SharedSpace {
    let s = this.spaces.get(space)
    if (s === undefined) this.spaces.set(space, s = new SharedSpace(this.#claim))
    return s
  }
}

/** A map whose new keys each take a claim slot: a key that gets none is not kept. */
class ClaimedMap<K, V> extends Map<K, V> {
  readonly #claim: () => boolean

  constructor (claim: () => boolean) {
    super()
    this.#claim = claim
  }

  override set (key: K, value: V): this {
    if (this.has(key) || this.#claim()) super.set(key, value)
    return this
  }
}

function proofBytes (a: SignedBytes, b: SignedBytes): number {
  return a[0].byteLength + a[1].byteLength + b[0].byteLength + b[1].byteLength
}

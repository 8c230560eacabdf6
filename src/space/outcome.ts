import type { Entry } from '../codec/index.ts'
import { SamepageError } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { ForkProof } from '../store/index.ts'

/**
 * What happened to incoming data (decision 3). A reject is a value, never a
 * throw: sync/ turns it into a misbehaviour score for the sender.
 */
type RejectReason =
  | 'malformed' // bytes that do not decode, or are oversized (the codec's message says which)
  | 'wrong-space' // an entry or record of another space
  | 'broken-chain' // a run whose entries do not link by hash, or are not one feed in seq order
  | 'bad-signature' // the run's covering signature, or a record's own, does not verify
  | 'clock-regression' // a feed's clock went backwards: no honest author or relay produces it
  | 'bad-join-proof' // a join not countersigned by its invite's key
  | 'bad-fork-proof' // a fork message that proves nothing
  | 'ungranted-fork' // a fork proof at a position no grant covers here (a stranger's own feed, or our ACL is behind)

export interface Reject { readonly reason: RejectReason, readonly detail: string }

/** Where our chain of a feed and a peer's differ, at or before `seq`: ask that peer for it to prove a fork. */
interface Divergence { readonly author: AuthorKey, readonly epoch: number, readonly seq: number }

/**
 * A reject, a divergence or a fork found in entries held pending once an ingest let them through: for the peer that
 * sent them earlier (`from`), not for the sender of the run that let them through (a fork is refined with it).
 */
export type ReleasedFault =
  | { readonly from: string, readonly reject: Reject }
  | { readonly from: string, readonly diverged: Divergence }
  | { readonly from: string, readonly forked: ForkProof }

export interface IngestResult {
  /** Every entry stored, those of the ingested run first, then those held pending that it let through. */
  readonly stored: Entry[]
  /**
   * The part of `stored` that was held pending until this ingest let it through: it came earlier, from the sender
   * of the run or from any other peer, so the sender of the run is no proof of who holds it.
   */
  readonly released: Entry[]
  /** Entries we already held: honest duplicates, never penalized. */
  duplicates: number
  /** Authentic entries held back (a dependency is missing or the clock is ahead). */
  pending: number
  /** Entries at or past a proven fork: dropped without blame. */
  dropped: number
  reject?: Reject
  /** Our chain and the sender's differ at or before this seq: ask the sender for this entry to prove a fork. */
  diverged?: Divergence
  /** Rejects and divergences of entries let out of pending (so not in `released`), by the peers that sent them. */
  readonly releasedFaults: ReleasedFault[]
  /** A fork proven by this ingest, to forward to every neighbour. */
  fork?: ForkProof
  /**
   * A proof held while its author's hold lasts (fork-holds.ts): relayed at once, committed when the hold ends, and
   * its sender may be asked further down at once.
   */
  forkHeld?: ForkProof
  /** Forks proven by entries it let out of pending (or found at positions it passed), to forward as well. */
  readonly releasedForks: ForkProof[]
  aclChanged: boolean
  /** Our entry at a fork's first difference carries a signature its author botched: a valid copy would prove it. */
  heldBotched?: FeedPosition
  /** A valid signature replaced a botched one we held below a proven fork: the fork may be provable lower now. */
  resigned?: FeedPosition
}

/** A position in a feed. */
export interface FeedPosition { readonly author: AuthorKey, readonly epoch: number, readonly seq: number }

/** What a local write let out of pending (stored with it), what was wrong with it, and the forks it proved. */
export interface ReleasedByLocal {
  readonly entries: readonly Entry[]
  readonly faults: readonly ReleasedFault[]
  readonly forks: readonly ForkProof[]
}

export const NOTHING_RELEASED: ReleasedByLocal = { entries: [], faults: [], forks: [] }

export function emptyResult (): IngestResult {
  return {
    stored: [], released: [], releasedFaults: [], releasedForks: [], duplicates: 0, pending: 0, dropped: 0,
    aclChanged: false
  }
}

/** A user's request that cannot be done: an error with a stable code and a next step (decision 13). */
type SpaceErrorCode = 'NOT_ALLOWED' | 'INVALID_GENESIS' | 'UNKNOWN_SPACE' | 'INVALID_INPUT'

export class SpaceError extends SamepageError<SpaceErrorCode> {}

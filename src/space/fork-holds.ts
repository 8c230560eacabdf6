import type { Entry } from '../codec/index.ts'

/** The first hold after a feed's proof is committed; each lowering of that feed doubles it, up to the max. */
export const FORK_HOLD_MS = 1_000
export const FORK_HOLD_MAX_MS = 60_000

/** A lower proof of a frozen feed, verified, waiting for its feed's hold to end. */
interface HeldFork { readonly a: Entry, readonly b: Entry }

interface FeedHold {
  /** Until when a lower proof of this feed is held rather than committed. */
  until: number
  /** How long the hold after the next commit lasts. */
  next: number
  held?: HeldFork
}

/**
 * Lowering a proven fork rebuilds every view (commitRebuild reads every stored entry), and a writer can sign a lower
 * proof of its own frozen feed at each seq, one signature a step: relayed within every count, each made every node
 * rebuild once. So a feed's proof is lowered at once only when its hold (since its last commit) is over; within it the
 * lowest proof that came is kept, verified, and committed when the hold ends (ForkHolds.due). Each commit of a feed
 * doubles its next hold, from FORK_HOLD_MS up to FORK_HOLD_MAX_MS: a writer walking its fork down one seq at a time
 * makes each node rebuild about once a minute. A feed's first proof is never held, and an honest refinement walks on
 * from the held proof (its sender is asked further down at once): only its rebuilds are coalesced. One hold per
 * frozen feed, in memory: a proof held when the node stops is lost, and a peer holding it sends it again (owedFork).
 */
export class ForkHolds {
  readonly #feeds = new Map<string, FeedHold>()

  /** The seq of the proof held for `fk`, if any. */
  heldSeq (fk: string): number | undefined {
    return this.#feeds.get(fk)?.held?.a.seq
  }

  /** Whether a lower proof of `fk` must wait (its hold is not over), rather than be committed now. */
  holds (fk: string, nowMs: number): boolean {
    const hold = this.#feeds.get(fk)
    return hold !== undefined && nowMs < hold.until
  }

  /** Keeps `proof` for `fk` if it is lower than the one held. */
  hold (fk: string, proof: HeldFork): void {
    const hold = this.#feeds.get(fk)
    if (hold === undefined) return
    if (hold.held === undefined || proof.a.seq < hold.held.a.seq) hold.held = proof
  }

  /** A proof of `fk` was committed: its next lowering waits, the longer the more it was lowered lately. */
  committed (fk: string, nowMs: number): void {
    const hold = this.#feeds.get(fk)
    // Quiet for longer than the longest hold: the feed starts over at the first.
    const next = hold === undefined || nowMs >= hold.until + FORK_HOLD_MAX_MS ? FORK_HOLD_MS : hold.next
    this.#feeds.set(fk, { until: nowMs + next, next: Math.min(next * 2, FORK_HOLD_MAX_MS) })
  }

  /** The held proofs whose hold is over, taken (each to be committed, and then `committed`). */
  due (nowMs: number): HeldFork[] {
    const out: HeldFork[] = []
    for (const hold of this.#feeds.values()) {
      if (hold.held === undefined || nowMs < hold.until) continue
      out.push(hold.held)
      delete hold.held
    }
    return out
  }

  /** When the earliest held proof is due, or null if none is held. */
  nextDue (): number | null {
    let next: number | null = null
    for (const hold of this.#feeds.values()) {
      if (hold.held !== undefined && (next === null || hold.until < next)) next = hold.until
    }
    return next
  }
}

import type { Entry } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'

/** The first hold after an author's proof is committed; each commit of that author's doubles it, up to the max. */
export const FORK_HOLD_MS = 1_000
export const FORK_HOLD_MAX_MS = 60_000
/** An author whose proofs were left alone this long after its hold ended starts over at the first hold. */
export const FORK_HOLD_QUIET_MS = 10 * FORK_HOLD_MAX_MS

/**
 * Feeds of one author whose proofs are held at once, at most: within a hold of up to a minute a member could send a
 * first proof at seq 0 of one epoch after another, each kept in memory (~0.5 KB) until the hold ends.
 */
export const HELD_PER_AUTHOR_MAX = 1_024

/** A fork proof of one feed, verified, waiting for its author's hold to end. */
export interface HeldFork { readonly a: Entry, readonly b: Entry }

interface AuthorHold {
  /** Until when a proof of this author is held rather than committed. */
  until: number
  /** How long the hold after the next commit lasts. */
  next: number
  /** The lowest proof held per epoch (feed). */
  readonly held: Map<number, HeldFork>
}

/**
 * Each proof committed rebuilds every view (commitRebuild reads every stored entry), and a forked writer can sign
 * proof after proof, one signature each: lower ones in one feed (each retracts one more entry, so each is relayed
 * within every count), or first ones at seq 0 of one epoch after another (a fork cut retracts the later epochs).
 * Every node rebuilt once a signature. So an author's proof is committed at once only when its hold (since the last
 * commit of one of its proofs) is over; within it the lowest proof per feed is kept, verified, and all are committed
 * in one rebuild when the hold ends (ForkHolds.due). Each commit doubles the author's next hold, from FORK_HOLD_MS up
 * to FORK_HOLD_MAX_MS: a writer walking its forks down makes each node rebuild about once a minute. An author's first
 * proof is never held, and an honest refinement walks on from a held proof (its sender is asked further down at
 * once): only its rebuilds are coalesced. In memory: a proof held when the node stops is lost, and found again (a
 * proof sent us that equals ours is refined with its sender).
 */
export class ForkHolds {
  readonly #authors = new Map<AuthorKey, AuthorHold>()

  /** The seq of the proof held for a feed, if any. */
  heldSeq (author: AuthorKey, epoch: number): number | undefined {
    return this.#authors.get(author)?.held.get(epoch)?.a.seq
  }

  /** Whether a proof of `author` must wait (its hold is not over), rather than be committed now. */
  holds (author: AuthorKey, nowMs: number): boolean {
    const hold = this.#authors.get(author)
    return hold !== undefined && nowMs < hold.until
  }

  /**
   * Keeps `proof` if it is lower than the one held for its feed, within HELD_PER_AUTHOR_MAX feeds (the lowest
   * epochs: a fork cut retracts the later ones). False if it was not kept.
   */
  hold (author: AuthorKey, proof: HeldFork): boolean {
    const held = this.#authors.get(author)?.held
    if (held === undefined) return false
    const before = held.get(proof.a.epoch)
    if (before !== undefined) {
      if (proof.a.seq >= before.a.seq) return false
    } else if (held.size >= HELD_PER_AUTHOR_MAX) {
      const highest = Math.max(...held.keys())
      if (proof.a.epoch > highest) return false
      held.delete(highest)
    }
    held.set(proof.a.epoch, proof)
    return true
  }

  /** Proofs of `author` were committed: its next ones wait, the longer the more it was committed lately. */
  committed (author: AuthorKey, nowMs: number): void {
    const hold = this.#authors.get(author)
    const next = hold === undefined || nowMs >= hold.until + FORK_HOLD_QUIET_MS ? FORK_HOLD_MS : hold.next
    this.#authors.set(author, { until: nowMs + next, next: Math.min(next * 2, FORK_HOLD_MAX_MS), held: new Map() })
  }

  /** The proofs held for `author`, taken (to be committed together, and then `committed`). */
  take (author: AuthorKey): HeldFork[] {
    const held = this.#authors.get(author)?.held
    if (held === undefined) return []
    const proofs = [...held.values()]
    held.clear()
    return proofs
  }

  /** The authors with proofs held whose hold is over. */
  due (nowMs: number): AuthorKey[] {
    const out: AuthorKey[] = []
    for (const [author, hold] of this.#authors) if (hold.held.size > 0 && nowMs >= hold.until) out.push(author)
    return out
  }

  /** When the earliest held proof is due, or null if none is held. */
  nextDue (): number | null {
    let next: number | null = null
    for (const hold of this.#authors.values()) {
      if (hold.held.size > 0 && (next === null || hold.until < next)) next = hold.until
    }
    return next
  }
}

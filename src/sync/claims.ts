import { MESSAGE_BYTES_MAX } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { PULL_BYTES_PER_PEER_MAX } from './constants.ts'

/**
 * Bounds on what a peer can make this node remember or queue (decision 17):
 * every claim a peer makes (a feed it holds, a status record it has) takes a
 * slot from its own budget and from one shared by all peers, so new
 * identities do not multiply it; the slots come back when it leaves. A peer
 * past its own budget is refused and charged; past the shared one, nobody is
 * charged (it is not that peer's doing) and the claim is only not kept.
 */

/** Claims one peer can make us hold: rows of version vectors (feeds) and status heads, over all spaces. */
export const CLAIMS_PER_PEER_MAX = 50_000
/** The same, all peers together (~100 bytes each: tens of MiB). */
const CLAIMS_MAX = 500_000
/** Blinded tags of a peer's hello that named none of our spaces, kept to match a space we add later. */
export const UNMATCHED_TAGS_PER_PEER_MAX = 1024

/**
 * What we queue to send one peer and have not yet written to its stream: an
 * honest peer never has more than its pulls' budget in flight, plus a few
 * messages. Past it, a want is answered `none` (no sequence of wants makes us
 * queue more), and past SERVE_QUEUE_BYTES_MAX over all peers, the same.
 */
export const SERVE_QUEUE_BYTES_PER_PEER_MAX = PULL_BYTES_PER_PEER_MAX + 2 * MESSAGE_BYTES_MAX
export const SERVE_QUEUE_BYTES_MAX = 256 * 1024 * 1024

export class ClaimBudget {
  readonly #perPeer = new Map<AuthorKey, number>()
  #total = 0

  /**
   * Takes one slot for `peer`: 'ok', 'peer' (its own budget is spent: charge
   * it), or 'full' (all peers' budget is spent).
   */
  take (peer: AuthorKey): 'ok' | 'peer' | 'full' {
    const mine = this.#perPeer.get(peer) ?? 0
    if (mine >= CLAIMS_PER_PEER_MAX) return 'peer'
    if (this.#total >= CLAIMS_MAX) return 'full'
    this.#perPeer.set(peer, mine + 1)
    this.#total++
    return 'ok'
  }

  /** `count` of the peer's slots come back (the node left a space whose feeds and heads they held). */
  give (peer: AuthorKey, count: number): void {
    const mine = this.#perPeer.get(peer) ?? 0
    const back = Math.min(mine, count)
    this.#total -= back
    if (mine - back > 0) this.#perPeer.set(peer, mine - back)
    else this.#perPeer.delete(peer)
  }

  /** The peer left: every slot it held comes back. */
  release (peer: AuthorKey): void {
    this.#total -= this.#perPeer.get(peer) ?? 0
    this.#perPeer.delete(peer)
  }

  held (peer: AuthorKey): number {
    return this.#perPeer.get(peer) ?? 0
  }

  get total (): number {
    return this.#total
  }
}

/** A peer that holds what we pull, as #plan weighs it. */
interface Source { readonly count: number, readonly tried: boolean, readonly unanswered: number }

/**
 * Whether `c` is a better peer to pull from than `best`: one not yet tried
 * for this pull, then one whose pulls were all answered (a peer whose claims
 * went unanswered is asked last, not first), then the one holding the most.
 */
export function preferredSource (c: Source, best: Source): boolean {
  if (best.tried !== c.tried) return best.tried
  const [cu, bu] = [Math.min(c.unanswered, 1), Math.min(best.unanswered, 1)]
  if (cu !== bu) return cu < bu
  return c.count > best.count
}

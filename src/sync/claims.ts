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
/**
 * What of CLAIMS_MAX peers that are members of no space held here may fill: past it, their new claims are not kept
 * (uncharged, as past the shared budget), so the rest is left to members. Ten stranger identities, each within its
 * own budget and knowing only a genesis (every invite token carries one), filled CLAIMS_MAX before, and an honest
 * member's hello was then not kept and never pulled (review I). A peer a member of none of our spaces may still be
 * one whose grant we lack: it keeps this share, and stays a pull source as any peer (keeping its claims apart, in an
 * earlier form of this fix, left nodes whose ACL lagged unconverged: reviews M and N).
 */
export const STRANGER_CLAIMS_MAX = CLAIMS_MAX / 2
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
   * it), or 'full' (all peers' budget is spent, or, for a `stranger()` (a
   * member of no space held here), its share: STRANGER_CLAIMS_MAX).
   */
  take (peer: AuthorKey, stranger: () => boolean = () => false): 'ok' | 'peer' | 'full' {
    const mine = this.#perPeer.get(peer) ?? 0
    if (mine >= CLAIMS_PER_PEER_MAX) return 'peer'
    // Asked only past the strangers' share (it looks through every space's ACL).
    if (this.#total >= CLAIMS_MAX || (this.#total >= STRANGER_CLAIMS_MAX && stranger())) return 'full'
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

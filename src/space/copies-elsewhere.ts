import { bytesEqual } from '../codec/index.ts'
import type { Entry } from '../codec/index.ts'
import { authorKeyOf } from '../ids/index.ts'

/** Positions remembered, over all feeds, and their entries' bytes (up to 64 KiB each); the oldest go past either. */
export const COPIES_ELSEWHERE_MAX = 1_024
export const COPIES_ELSEWHERE_BYTES_MAX = 4 * 1024 * 1024

/**
 * Valid entries that differ from ours where ours carries a signature its author botched, one per position, in
 * memory. Our copy proves nothing there, but two valid entries that differ do: three branches that leave each other
 * at one position, where every node between a holder of one valid branch and a holder of another relays the third
 * botched there, were provable by no single link, and the holders of each branch kept their own entry there in view
 * for good (a review's storm probe). Such positions are also asked of each member that says hello later (sync
 * pulls.askCopiesBelow), since a peer linked after the first ask may hold the second entry. Only the forked author
 * signs these entries, so what is remembered costs the forker, not a peer.
 */
export class CopiesElsewhere {
  /** Per feed (author/epoch), per seq, the first valid entry seen there. */
  readonly #byFeed = new Map<string, Map<number, Entry>>()
  /** Feeds and seqs in the order remembered, for dropping the oldest. */
  readonly #order: Array<[string, number]> = []
  #bytes = 0

  /** `entry` (verified) came where ours is botched: the fork proof it makes with the one seen before, if they differ;
   * remembered, if it is the first. */
  proofWith (entry: Entry): { held: Entry, entry: Entry } | undefined {
    const feed = `${authorKeyOf(entry.author)}/${entry.epoch}`
    const seen = this.#byFeed.get(feed)?.get(entry.seq)
    if (seen !== undefined) return bytesEqual(seen.id, entry.id) ? undefined : { held: seen, entry }
    const bytes = entry.bytes.byteLength
    while (this.#order.length > 0 &&
      (this.#order.length >= COPIES_ELSEWHERE_MAX || this.#bytes + bytes > COPIES_ELSEWHERE_BYTES_MAX)) {
      this.#dropOldest()
    }
    let seqs = this.#byFeed.get(feed)
    if (seqs === undefined) this.#byFeed.set(feed, seqs = new Map())
    seqs.set(entry.seq, entry)
    this.#order.push([feed, entry.seq])
    this.#bytes += bytes
    return undefined
  }

  #dropOldest (): void {
    const [feed, seq] = this.#order.shift() as [string, number]
    const seqs = this.#byFeed.get(feed)
    this.#bytes -= seqs?.get(seq)?.bytes.byteLength ?? 0
    seqs?.delete(seq)
    if (seqs?.size === 0) this.#byFeed.delete(feed)
  }

  /** The entry seen at `entry`'s position, if it differs from `entry`. */
  differing (entry: Entry): Entry | undefined {
    const seen = this.#byFeed.get(`${authorKeyOf(entry.author)}/${entry.epoch}`)?.get(entry.seq)
    return seen === undefined || bytesEqual(seen.id, entry.id) ? undefined : seen
  }

  /** The positions of a feed below `seq` where another valid entry was seen, lowest first. */
  below (feed: string, seq: number): number[] {
    return [...this.#byFeed.get(feed)?.keys() ?? []].filter(s => s < seq).sort((a, b) => a - b)
  }
}

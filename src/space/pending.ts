import type { Entry } from '../codec/index.ts'

/**
 * Entries that are authentic but cannot be stored yet (decision 3): the
 * previous entry, the grant or the invite behind them is missing, or their
 * clock is ahead of our wall time. Bounded per peer and feed and per peer;
 * past a bound an entry is forgotten (catch-up sends it again), never an
 * error. Never counted as held in version vectors.
 */
export interface PendingEntry {
  readonly entry: Entry
  /** Its own signature was verified (not only covered by a later one). */
  readonly verified: boolean
  readonly from: string
}

export const PENDING_PER_PEER_FEED_MAX = 1024
export const PENDING_PER_PEER_MAX = 8192

export class PendingQueue {
  readonly #feeds = new Map<string, Map<number, PendingEntry>>()
  readonly #perPeer = new Map<string, number>()
  readonly #perPeerFeed = new Map<string, number>()

  /** Holds entries; returns how many were kept (the rest were over a bound and forgotten). */
  add (feed: string, items: readonly PendingEntry[]): number {
    let kept = 0
    for (const item of items) {
      let seqs = this.#feeds.get(feed)
      if (seqs?.has(item.entry.seq) === true) { kept++; continue }
      const peerFeed = `${item.from}\n${feed}`
      if ((this.#perPeer.get(item.from) ?? 0) >= PENDING_PER_PEER_MAX) continue
      if ((this.#perPeerFeed.get(peerFeed) ?? 0) >= PENDING_PER_PEER_FEED_MAX) continue
      if (seqs === undefined) this.#feeds.set(feed, seqs = new Map())
      seqs.set(item.entry.seq, item)
      this.#perPeer.set(item.from, (this.#perPeer.get(item.from) ?? 0) + 1)
      this.#perPeerFeed.set(peerFeed, (this.#perPeerFeed.get(peerFeed) ?? 0) + 1)
      kept++
    }
    return kept
  }

  /** Removes and returns the contiguous run of held entries of a feed starting at `seq`. */
  takeRun (feed: string, seq: number): PendingEntry[] {
    const seqs = this.#feeds.get(feed)
    const run: PendingEntry[] = []
    if (seqs === undefined) return run
    for (let s = seq; seqs.has(s); s++) {
      const item = seqs.get(s) as PendingEntry
      run.push(item)
      this.#forget(feed, seqs, s, item)
    }
    // Held entries below `seq` are stored by now: drop them.
    for (const [s, item] of seqs) if (s < seq) this.#forget(feed, seqs, s, item)
    if (seqs.size === 0) this.#feeds.delete(feed)
    return run
  }

  /** The first seq at or after `seq` that is not held for this feed. */
  contiguousEnd (feed: string, seq: number): number {
    const seqs = this.#feeds.get(feed)
    let s = seq
    while (seqs?.has(s) === true) s++
    return s
  }

  peek (feed: string, seq: number): PendingEntry | undefined {
    return this.#feeds.get(feed)?.get(seq)
  }

  feeds (): string[] {
    return [...this.#feeds.keys()]
  }

  get size (): number {
    let n = 0
    for (const seqs of this.#feeds.values()) n += seqs.size
    return n
  }

  #forget (feed: string, seqs: Map<number, PendingEntry>, seq: number, item: PendingEntry): void {
    seqs.delete(seq)
    const peerFeed = `${item.from}\n${feed}`
    this.#perPeer.set(item.from, (this.#perPeer.get(item.from) ?? 1) - 1)
    this.#perPeerFeed.set(peerFeed, (this.#perPeerFeed.get(peerFeed) ?? 1) - 1)
  }
}

import type { Entry } from '../codec/index.ts'

/**
 * Entries that are authentic but cannot be stored yet (decision 3): the
 * previous entry, the grant or the invite behind them is missing, or their
 * clock is ahead of our wall time. Bounded in entries per peer and feed and
 * per peer, and in bytes per peer and in all (decision 17: new identities do
 * not multiply it); past a bound an entry is forgotten (catch-up sends it
 * again), never an error. What a peer brought is forgotten when it leaves
 * (dropFrom). Never counted as held in version vectors.
 */
export interface PendingEntry {
  readonly entry: Entry
  /** Its own signature was verified (not only covered by a later one). */
  readonly verified: boolean
  readonly from: string
}

const PENDING_PER_PEER_FEED_MAX = 1024
const PENDING_PER_PEER_MAX = 8192
/**
 * Bytes one peer can make a space hold pending, and all peers together (an
 * entry counts its bytes, signature and PENDING_ENTRY_OVERHEAD).
 */

export const PENDING_BYTES_PER_PEER_MAX = 4 * 1024 * 1024
export const PENDING_BYTES_MAX = 32 * 1024 * 1024
/** What holding one decoded entry costs beyond its bytes (the decoded body, the maps): a rough, fixed figure. */
const PENDING_ENTRY_OVERHEAD = 512

function pendingWeight (item: PendingEntry): number {
  return item.entry.bytes.byteLength + item.entry.sig.byteLength + PENDING_ENTRY_OVERHEAD
}

export class PendingQueue {
  readonly #feeds = new Map<string, Map<number, PendingEntry>>()
  readonly #perPeer = new Map<string, number>()
  readonly #perPeerFeed = new Map<string, number>()
  readonly #bytesPerPeer = new Map<string, number>()
  #bytes = 0

  /** Holds entries; returns how many were kept (the rest were over a bound and forgotten). */
  add (feed: string, items: readonly PendingEntry[]): number {
    let kept = 0
    for (const item of items) {
      let seqs = this.#feeds.get(feed)
      if (seqs?.has(item.entry.seq) === true) { kept++; continue }
      const peerFeed = `${item.from}\n${feed}`
      if ((this.#perPeer.get(item.from) ?? 0) >= PENDING_PER_PEER_MAX) continue
      if ((this.#perPeerFeed.get(peerFeed) ?? 0) >= PENDING_PER_PEER_FEED_MAX) continue
      const weight = pendingWeight(item)
      const peerBytes = this.#bytesPerPeer.get(item.from) ?? 0
      if (peerBytes + weight > PENDING_BYTES_PER_PEER_MAX || this.#bytes + weight > PENDING_BYTES_MAX) continue
      if (seqs === undefined) this.#feeds.set(feed, seqs = new Map())
      seqs.set(item.entry.seq, item)
      this.#bytesPerPeer.set(item.from, peerBytes + weight)
      this.#bytes += weight
      this.#perPeer.set(item.from, (this.#perPeer.get(item.from) ?? 0) + 1)
      this.#perPeerFeed.set(peerFeed, (this.#perPeerFeed.get(peerFeed) ?? 0) + 1)
      kept++
    }
    return kept
  }

  /**
   * Removes and returns what of a feed's held entries a feed of `count` entries can take now: the contiguous run
   * from `count` on, and, in seq order, those below it. A run stored since passed their positions: each is what was
   * stored there (a duplicate) or another entry there (the proof of a fork), for the caller to tell which.
   */
  take (feed: string, count: number): { readonly passed: PendingEntry[], readonly run: PendingEntry[] } {
    const seqs = this.#feeds.get(feed)
    if (seqs === undefined) return { passed: [], run: [] }
    const below = [...seqs].filter(([s]) => s < count).sort((x, y) => x[0] - y[0])
    for (const [s, item] of below) this.#forget(feed, seqs, s, item)
    const run: PendingEntry[] = []
    for (let s = count; seqs.has(s); s++) {
      const item = seqs.get(s) as PendingEntry
      run.push(item)
      this.#forget(feed, seqs, s, item)
    }
    if (seqs.size === 0) this.#feeds.delete(feed)
    return { passed: below.map(([, item]) => item), run }
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

  /** Forgets every entry held of `feed`, whoever brought it. */
  dropFeed (feed: string): void {
    const seqs = this.#feeds.get(feed)
    if (seqs === undefined) return
    for (const [s, item] of [...seqs]) this.#forget(feed, seqs, s, item)
    this.#feeds.delete(feed)
  }

  /** Forgets what `from` brought (it left); returns the feeds that held some. */
  dropFrom (from: string): string[] {
    const feeds: string[] = []
    if (!this.#perPeer.has(from)) return feeds
    for (const [feed, seqs] of [...this.#feeds]) {
      let dropped = false
      for (const [s, item] of [...seqs]) {
        if (item.from !== from) continue
        this.#forget(feed, seqs, s, item)
        dropped = true
      }
      if (seqs.size === 0) this.#feeds.delete(feed)
      if (dropped) feeds.push(feed)
    }
    return feeds
  }

  /** Bytes held of what `from` brought. */
  bytesFrom (from: string): number {
    return this.#bytesPerPeer.get(from) ?? 0
  }

  /** Bytes held, as the bounds count them. */
  get bytes (): number {
    return this.#bytes
  }

  get size (): number {
    let n = 0
    for (const seqs of this.#feeds.values()) n += seqs.size
    return n
  }

  #forget (feed: string, seqs: Map<number, PendingEntry>, seq: number, item: PendingEntry): void {
    seqs.delete(seq)
    const peerFeed = `${item.from}\n${feed}`
    decrement(this.#perPeer, item.from, 1)
    decrement(this.#perPeerFeed, peerFeed, 1)
    const weight = pendingWeight(item)
    decrement(this.#bytesPerPeer, item.from, weight)
    this.#bytes -= weight
  }
}

/** Counts that reach 0 are deleted, so a peer that left holds no key here. */
function decrement (counts: Map<string, number>, key: string, by: number): void {
  const left = (counts.get(key) ?? by) - by
  if (left > 0) counts.set(key, left)
  else counts.delete(key)
}

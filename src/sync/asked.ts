import type { SignedBytes } from '../codec/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { ASKED_MAX, ASKED_PER_FEED_MAX, LATE_ANSWER_MS, WANT_WINDOW_BYTES } from './constants.ts'
import { TupleMap } from './keys.ts'
import type { FeedKey } from './keys.ts'

/**
 * One want of ours whose answer has not wholly come: the answer is runs in chain order from `from`, and ends at `to`
 * or after the run that brings its entry bytes to WANT_WINDOW_BYTES (serve-budget.ts serveWant), or earlier when the
 * server holds less (then the ask is forgotten at `until`).
 */
export interface Ask {
  /** Where the rest of the answer starts: moved past each run taken, so a run is taken as asked for once. */
  from: number
  readonly to: number
  bytes: number
  /** Forgotten then: Infinity while its pull or probe is open, LATE_ANSWER_MS after it was answered or given up. */
  until: number
}

/** One peer's asks, by space and feed, each feed's in the order they were sent. */
interface PeerAsks { readonly feeds: TupleMap<[SpaceKey, FeedKey], Ask[]>, count: number }

/**
 * The ranges of a feed asked of a peer (each pull's want, each send of a fork probe, recorded as it is sent) and not
 * yet wholly answered. A server answers a peer's wants in the order they came, so a run is the answer of the oldest
 * ask it falls in. Every run of such an answer is an honest duplicate however it comes, whatever else stored those
 * entries meanwhile (another peer's late answer, a push, pending released): nothing a third party sends makes an
 * honest server's answer look unasked for, and a replay outside them is still a replay. Bounded: ASKED_PER_FEED_MAX
 * a peer and feed, ASKED_MAX in all; when full, the oldest ask of the peer holding the most is forgotten, so peers
 * that make us ask much of them (only our own wants are asks) never push out the few asks of another. Forgotten
 * when the link ends and LATE_ANSWER_MS after the pull closed or the probe was answered or given up.
 */
export class AskedRanges {
  readonly #peers = new Map<AuthorKey, PeerAsks>()
  #count = 0

  /** A want of `[from, to)` sent to `peer`: its answer is expected until `until` (by default, until settled). */
  add (peer: AuthorKey, space: SpaceKey, fk: FeedKey, from: number, to: number, until = Infinity): Ask {
    const ask: Ask = { from, to, bytes: 0, until }
    if (this.#count >= ASKED_MAX) this.#dropOldestOf(this.#fullest())
    const list = this.#peers.get(peer)?.feeds.get([space, fk])
    if (list !== undefined && list.length >= ASKED_PER_FEED_MAX) this.#drop(peer, [space, fk], 0)
    let mine = this.#peers.get(peer)
    if (mine === undefined) this.#peers.set(peer, mine = { feeds: new TupleMap(), count: 0 })
    const kept = mine.feeds.get([space, fk])
    if (kept === undefined) mine.feeds.set([space, fk], [ask])
    else kept.push(ask)
    mine.count++
    this.#count++
    return ask
  }

  /**
   * A run of `length` entries (`bytes` entry bytes) of `fk` from `peer`, starting at `seq`: whether it belongs to the
   * answer of an ask (the oldest it falls in, as a server answers wants in order), whose rest then starts after it.
   */
  take (peer: AuthorKey, space: SpaceKey, fk: FeedKey, seq: number, length: number, bytes: number): boolean {
    const list = this.#peers.get(peer)?.feeds.get([space, fk])
    const i = list?.findIndex(a => a.from <= seq && seq < a.to) ?? -1
    const ask = list?.[i]
    if (ask === undefined) return false
    ask.from = seq + length
    ask.bytes += bytes
    // Wholly answered: a run past it is no part of it.
    if (ask.from >= ask.to || ask.bytes >= WANT_WINDOW_BYTES) this.#drop(peer, [space, fk], i)
    return true
  }

  /** The pull or probe of `asks` closed: the rest of their answers, however overtaken, is expected for a while. */
  settle (nowMs: number, ...asks: Ask[]): void {
    for (const ask of asks) ask.until = Math.min(ask.until, nowMs + LATE_ANSWER_MS)
  }

  /** The first of `asks` still expected was answered `none`: nothing more of it comes. False if none was expected. */
  answered (peer: AuthorKey, space: SpaceKey, fk: FeedKey, ...asks: Ask[]): boolean {
    const list = this.#peers.get(peer)?.feeds.get([space, fk])
    for (const ask of asks) {
      const i = list?.indexOf(ask) ?? -1
      if (i >= 0) return this.#drop(peer, [space, fk], i)
    }
    return false
  }

  expire (nowMs: number): void {
    for (const [peer, { feeds }] of [...this.#peers]) {
      for (const [key, list] of [...feeds.entries()]) {
        for (let i = list.length - 1; i >= 0; i--) if ((list[i] as Ask).until <= nowMs) this.#drop(peer, key, i)
      }
    }
  }

  /** The link to `peer` ended: no answer of its session comes any more. */
  peerGone (peer: AuthorKey): void {
    this.#count -= this.#peers.get(peer)?.count ?? 0
    this.#peers.delete(peer)
  }

  /** The node left `space`: its late answers are not expected. */
  spaceGone (space: SpaceKey): void {
    for (const [peer, { feeds }] of [...this.#peers]) {
      for (const [key, list] of [...feeds.entries()]) {
        if (key[0] !== space) continue
        for (let i = list.length - 1; i >= 0; i--) this.#drop(peer, key, i)
      }
    }
  }

  /** The peer holding the most asks (one that makes us ask much of it pays for it, not the others). */
  #fullest (): AuthorKey | undefined {
    let fullest: [AuthorKey, number] | undefined
    for (const [peer, { count }] of this.#peers) {
      if (fullest === undefined || count > fullest[1]) fullest = [peer, count]
    }
    return fullest?.[0]
  }

  #dropOldestOf (peer: AuthorKey | undefined): void {
    const key = peer === undefined ? undefined : this.#peers.get(peer)?.feeds.first()
    if (peer !== undefined && key !== undefined) this.#drop(peer, key, 0)
  }

  #drop (peer: AuthorKey, key: [SpaceKey, FeedKey], i: number): boolean {
    const mine = this.#peers.get(peer)
    const list = mine?.feeds.get(key)
    if (mine === undefined || list === undefined || list[i] === undefined) return false
    list.splice(i, 1)
    this.#count--
    if (list.length === 0) mine.feeds.delete(key)
    if (--mine.count === 0) this.#peers.delete(peer)
    return true
  }
}

/** The entry bytes of a run, as both ends of a want count them (WANT_WINDOW_BYTES). */
export function runBytes (run: readonly SignedBytes[]): number {
  let n = 0
  for (const [bytes] of run) n += bytes.byteLength
  return n
}

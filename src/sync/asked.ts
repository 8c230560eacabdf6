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
  /** Forgotten then: Infinity while its pull is open, LATE_ANSWER_MS after the pull closed. */
  until: number
}

/**
 * The ranges of a feed asked of a peer (pulls, and the rest of a probe's answer) and not yet wholly answered. Every
 * run of such an answer is an honest duplicate however it comes, whatever else stored those entries meanwhile
 * (another peer's late answer, a push, pending released): nothing a third party sends makes an honest server's
 * answer look unasked for, and a replay outside them is still a replay. Bounded: ASKED_PER_FEED_MAX a peer and
 * feed, ASKED_MAX in all (the oldest forgotten first); forgotten when the link ends and LATE_ANSWER_MS after the
 * pull closed.
 */
export class AskedRanges {
  readonly #asks = new TupleMap<[AuthorKey, SpaceKey, FeedKey], Ask[]>()
  #count = 0

  /** A want of `[from, to)` sent to `peer`: its answer is expected until `until` (by default, until settled). */
  add (peer: AuthorKey, space: SpaceKey, fk: FeedKey, from: number, to: number, until = Infinity): Ask {
    const ask: Ask = { from, to, bytes: 0, until }
    if (this.#count >= ASKED_MAX) {
      const oldest = this.#asks.first()
      if (oldest !== undefined) this.#drop(oldest, 0)
    }
    const key: [AuthorKey, SpaceKey, FeedKey] = [peer, space, fk]
    const list = this.#asks.get(key)
    if (list !== undefined && list.length >= ASKED_PER_FEED_MAX) this.#drop(key, 0)
    const kept = this.#asks.get(key)
    if (kept === undefined) this.#asks.set(key, [ask])
    else kept.push(ask)
    this.#count++
    return ask
  }

  /**
   * A run of `length` entries (`bytes` entry bytes) of `fk` from `peer`, starting at `seq`: whether it belongs to the
   * answer of an ask (the oldest it falls in, as a server answers wants in order), whose rest then starts after it.
   */
  take (peer: AuthorKey, space: SpaceKey, fk: FeedKey, seq: number, length: number, bytes: number): boolean {
    const key: [AuthorKey, SpaceKey, FeedKey] = [peer, space, fk]
    const list = this.#asks.get(key)
    const i = list?.findIndex(a => a.from <= seq && seq < a.to) ?? -1
    const ask = list?.[i]
    if (ask === undefined) return false
    ask.from = seq + length
    ask.bytes += bytes
    // Wholly answered: a run past it is no part of it.
    if (ask.from >= ask.to || ask.bytes >= WANT_WINDOW_BYTES) this.#drop(key, i)
    return true
  }

  /** The pull of `ask` closed: the rest of its answer, however it is overtaken, is still expected for a while. */
  settle (ask: Ask, nowMs: number): void {
    ask.until = Math.min(ask.until, nowMs + LATE_ANSWER_MS)
  }

  /** `ask` was answered `none`: nothing more of it comes. */
  answered (peer: AuthorKey, space: SpaceKey, fk: FeedKey, ask: Ask): void {
    const key: [AuthorKey, SpaceKey, FeedKey] = [peer, space, fk]
    const i = this.#asks.get(key)?.indexOf(ask) ?? -1
    if (i >= 0) this.#drop(key, i)
  }

  expire (nowMs: number): void {
    for (const [key, list] of [...this.#asks.entries()]) {
      for (let i = list.length - 1; i >= 0; i--) if ((list[i] as Ask).until <= nowMs) this.#drop(key, i)
    }
  }

  /** The link to `peer` ended: no answer of its session comes any more. */
  peerGone (peer: AuthorKey): void {
    for (const [key, list] of [...this.#asks.entries()]) {
      if (key[0] !== peer) continue
      this.#count -= list.length
      this.#asks.delete(key)
    }
  }

  /** The node left `space`: its late answers are not expected. */
  spaceGone (space: SpaceKey): void {
    for (const [key, list] of [...this.#asks.entries()]) {
      if (key[1] !== space) continue
      this.#count -= list.length
      this.#asks.delete(key)
    }
  }

  #drop (key: [AuthorKey, SpaceKey, FeedKey], i: number): void {
    const list = this.#asks.get(key)
    if (list === undefined || list[i] === undefined) return
    list.splice(i, 1)
    this.#count--
    if (list.length === 0) this.#asks.delete(key)
  }
}

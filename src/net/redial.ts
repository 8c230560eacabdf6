/**
 * When each peer we keep reaching (static peers: the command line, config,
 * invites and every peer reached before) is dialled next: exponential
 * backoff from about a second to a cap of minutes, with jitter so that
 * nodes that lost each other at the same moment do not redial in step,
 * started over when the peer is reached, and never a second dial to a peer
 * while one is in flight.
 *
 * Plain data: the time comes in as `nowMs` and the randomness as a function,
 * so the schedule is tested without timers. network.ts owns the one timer,
 * armed for nextDueMs().
 */
interface Backoff {
  /** The wait after the first failure (or a lost connection). */
  readonly firstMs: number
  /** No wait is longer than this, however many dials failed. */
  readonly capMs: number
  /** The share of each wait taken off at random (0: none; 0.5: a wait of d is anywhere in [d/2, d]). */
  readonly jitter: number
}

/** 1 s, 2 s, 4 s … up to 5 min, each wait shortened by up to half at random. */
export const REDIAL_BACKOFF: Backoff = { firstMs: 1_000, capMs: 5 * 60_000, jitter: 0.5 }

interface PeerState {
  /** Dials failed since the peer was last reached. */
  failures: number
  /** When it is dialled next; null while it is connected (or being dialled). */
  dueMs: number | null
  dialling: boolean
}

export class RedialSchedule {
  readonly #backoff: Backoff
  readonly #random: () => number
  readonly #peers = new Map<string, PeerState>()

  /** `random` returns a number in [0, 1), as Math.random does. */
  constructor (backoff: Backoff, random: () => number) {
    this.#backoff = backoff
    this.#random = random
  }

  /** A peer to keep reaching: a new one is due at once; one already known keeps its place. */
  add (key: string, nowMs: number): void {
    if (!this.#peers.has(key)) this.#peers.set(key, { failures: 0, dueMs: nowMs, dialling: false })
  }

  /** Forgets a peer (its address was learned under another key). A dial in flight ends unheeded. */
  delete (key: string): void {
    this.#peers.delete(key)
  }

  has (key: string): boolean {
    return this.#peers.has(key)
  }

  /**
   * Up to `max` peers whose time has come, earliest due first, each marked
   * as being dialled: it is not handed out again until failed() or
   * connected() says how its dial ended.
   */
  take (nowMs: number, max: number): string[] {
    const due = [...this.#peers]
      .filter(([, s]) => !s.dialling && s.dueMs !== null && s.dueMs <= nowMs)
      .sort(([, a], [, b]) => (a.dueMs as number) - (b.dueMs as number))
      .slice(0, Math.max(0, max - this.dialling()))
    for (const [, s] of due) { s.dialling = true; s.dueMs = null }
    return due.map(([key]) => key)
  }

  /** The dial failed: the peer is due again after the next, longer wait. */
  failed (key: string, nowMs: number): void {
    const s = this.#peers.get(key)
    if (s === undefined) return
    s.dialling = false
    s.failures++
    s.dueMs = nowMs + this.waitMs(s.failures)
  }

  /** Reached (by our dial or by theirs): its backoff starts over, and it is not dialled while connected. */
  connected (key: string): void {
    const s = this.#peers.get(key)
    if (s === undefined) return
    s.dialling = false
    s.failures = 0
    s.dueMs = null
  }

  /** Its last connection closed: due after the first wait (a dial in flight decides for itself). */
  disconnected (key: string, nowMs: number): void {
    const s = this.#peers.get(key)
    if (s === undefined || s.dialling) return
    s.failures = 0
    s.dueMs = nowMs + this.waitMs(1)
  }

  /** When the next peer falls due; undefined when none waits (all connected or being dialled). */
  nextDueMs (): number | undefined {
    let next: number | undefined
    for (const s of this.#peers.values()) {
      if (!s.dialling && s.dueMs !== null && (next === undefined || s.dueMs < next)) next = s.dueMs
    }
    return next
  }

  /** Dials in flight. */
  dialling (): number {
    let n = 0
    for (const s of this.#peers.values()) if (s.dialling) n++
    return n
  }

  /** The wait after `failures` failed dials in a row (1 or more): doubled each time up to the cap, less the jitter. */
  waitMs (failures: number): number {
    const { firstMs, capMs, jitter } = this.#backoff
    const full = Math.min(capMs, firstMs * 2 ** Math.min(failures - 1, 52))
    return Math.round(full * (1 - jitter * this.#random()))
  }
}

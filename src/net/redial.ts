/**
 * When each peer we keep reaching (static peers: the command line, config,
 * invites and every peer reached before) is dialled next: exponential
 * backoff from about a second to a cap of minutes, with jitter so that
 * nodes that lost each other at the same moment do not redial in step,
 * started over once a connection to the peer held (a peer that hangs up on
 * us at once, refusing or flapping, is dialled ever more slowly like one that
 * cannot be reached), and never a second dial to a peer while one is in flight.
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
  /** A connection that lasted this long was a success: the backoff starts over when it closes. */
  readonly heldMs: number
  /** New addresses for a peer (peer exchange) have it dialled at once at most this often; else its wait runs on. */
  readonly hurryMs: number
}

/**
 * 1 s, 2 s, 4 s … up to 5 min, each wait shortened by up to half at random; a connection held a minute resets it;
 * new addresses cut a wait short at most once a minute.
 */
export const REDIAL_BACKOFF: Backoff = {
  firstMs: 1_000, capMs: 5 * 60_000, jitter: 0.5, heldMs: 60_000, hurryMs: 60_000
}

interface PeerState {
  /** Dials failed (and connections closed before they held) since a connection last held. */
  failures: number
  /** When it is dialled next; null while it is connected (or being dialled). */
  dueMs: number | null
  dialling: boolean
  /** Since when it is connected (undefined: it is not). */
  connectedMs: number | undefined
  /** When new addresses last cut its wait short (hurry). */
  hurriedMs: number | undefined
  /** Hurried while a dial was in flight: due at once when that dial fails. */
  hurryAfterDial: boolean
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
    if (this.#peers.has(key)) return
    this.#peers.set(key, {
      failures: 0, dueMs: nowMs, dialling: false, connectedMs: undefined, hurriedMs: undefined, hurryAfterDial: false
    })
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
    s.connectedMs = undefined
    s.failures++
    s.dueMs = s.hurryAfterDial ? nowMs : nowMs + this.waitMs(s.failures)
    s.hurryAfterDial = false
  }

  /**
   * The peer has new addresses (peer exchange): dialled at once, or as soon
   * as its dial in flight (to the old ones) fails, instead of after its
   * wait. At most once per hurryMs, and the failures are kept, so a member
   * that keeps naming new addresses makes us dial it no more often than
   * that: its claims cannot turn us into a stream of dials at anyone.
   */
  hurry (key: string, nowMs: number): void {
    const s = this.#peers.get(key)
    if (s === undefined || s.connectedMs !== undefined) return
    if (s.hurriedMs !== undefined && nowMs - s.hurriedMs < this.#backoff.hurryMs) return
    s.hurriedMs = nowMs
    if (s.dialling) s.hurryAfterDial = true
    else s.dueMs = nowMs
  }

  /** Reached (by our dial or by theirs): not dialled while connected. */
  connected (key: string, nowMs: number): void {
    const s = this.#peers.get(key)
    if (s === undefined) return
    s.dialling = false
    s.hurryAfterDial = false
    s.dueMs = null
    s.connectedMs ??= nowMs
  }

  /**
   * Its last connection closed: due after the first wait if the connection
   * held (heldMs), else after the next, longer one. A dial in flight decides for itself.
   */
  disconnected (key: string, nowMs: number): void {
    const s = this.#peers.get(key)
    if (s === undefined) return
    const held = s.connectedMs !== undefined && nowMs - s.connectedMs >= this.#backoff.heldMs
    s.connectedMs = undefined
    if (s.dialling) return
    s.failures = held ? 1 : s.failures + 1
    s.dueMs = nowMs + this.waitMs(s.failures)
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

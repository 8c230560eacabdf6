/**
 * One peer as the block scheduler (scheduler.ts) sees it in a pass: what it
 * holds, what it was asked and when, and its rate measured from its own
 * deliveries. The timing rules that follow from the rate live here too:
 * when a block is expected of it, and when its silence counts as a stall.
 * Pure: the time always comes in.
 */
export interface PeerState {
  readonly id: string
  readonly holds: Set<string>
  /** holds.has, made once (the scheduler's picks take a function). */
  readonly has: (hash: string) => boolean
  /** Hashes asked of it and not answered, with the time each was asked. */
  readonly inFlight: Map<string, number>
  rateBytesPerMs: number | null
  /**
   * When it last delivered (or was first given work while idle): the start of the interval the next delivery measures.
   */
  busySinceMs: number
  blocksReceived: number
  bytesReceived: number
  /** The head block that poll() already saw overdue: no deadline for it again. */
  overdueSeen: string | undefined
  /** Answers in a row that said it does not hold what it was asked (reset by a delivery). */
  refusedInARow: number
  /** Until this time (0: not resting) it is asked only for what no peer awake holds: it refused too often in a row. */
  restUntilMs: number
}

/** When a block asked now of a peer whose rate is unknown is expected (for endgame choices only). */
const UNKNOWN_RATE_ETA_MS = 5_000
/** Weight of the newest delivery in a peer's smoothed rate. */
const RATE_ALPHA = 0.2

export function newPeer (id: string, nowMs: number): PeerState {
  const holds = new Set<string>()
  return {
    id,
    holds,
    has: hash => holds.has(hash),
    inFlight: new Map(),
    rateBytesPerMs: null,
    busySinceMs: nowMs,
    blocksReceived: 0,
    bytesReceived: 0,
    overdueSeen: undefined,
    refusedInARow: 0,
    restUntilMs: 0
  }
}

/** A block of `size` bytes asked at `askedAtMs` arrived now: its rate and counters move. */
export function measureDelivery (p: PeerState, askedAtMs: number, size: number, nowMs: number): void {
  const intervalMs = Math.max(1, nowMs - Math.max(p.busySinceMs, askedAtMs))
  // Smoothed in time per byte, not in bytes per time: blocks that arrive in a burst after a pause (TCP
  // buffers, a rate-limited sender) would otherwise count the burst's speed and not the pause.
  const msPerByte = intervalMs / size
  const smoothed = p.rateBytesPerMs === null
    ? msPerByte
    : (1 / p.rateBytesPerMs) * (1 - RATE_ALPHA) + msPerByte * RATE_ALPHA
  p.rateBytesPerMs = 1 / smoothed
  p.busySinceMs = nowMs
  p.blocksReceived++
  p.bytesReceived += size
  p.refusedInARow = 0
}

/** A peer's first refusal in a row costs it nothing: one chunk it lacks (a file it does not have) says little. */
const REST_AFTER_REFUSALS = 2
const REST_FIRST_MS = 100
const REST_MAX_MS = 3_000

/**
 * It said it does not hold a block it was asked for. From the second refusal in a row it rests for a time that
 * doubles with each further refusal (100 ms up to 3 s): asked only for what no peer awake holds (scheduler.ts), so
 * that a member that holds nothing yet (a fellow receiver of the same files) is not asked for every block, twice
 * over, while the one that holds them serves. A delivery ends the run; a peer that comes to hold the blocks is asked
 * again within 3 s.
 */
export function noteRefusal (p: PeerState, nowMs: number): void {
  p.refusedInARow++
  if (p.refusedInARow < REST_AFTER_REFUSALS) return
  const restMs = Math.min(REST_MAX_MS, REST_FIRST_MS * 2 ** (p.refusedInARow - REST_AFTER_REFUSALS))
  p.restUntilMs = Math.max(p.restUntilMs, nowMs + restMs)
}

/**
 * When a block is expected from `p`, with `queuedBytes` ahead of it and
 * itself. `asNew`: a block not asked of it yet (its bytes counted in
 * `queuedBytes`), for choosing an endgame copy.
 */
export function expectedAtMs (p: PeerState | undefined, queuedBytes: number, nowMs: number, asNew: boolean): number {
  if (p === undefined || p.rateBytesPerMs === null) return asNew ? nowMs + UNKNOWN_RATE_ETA_MS : Infinity
  if (asNew) return Math.max(p.busySinceMs, nowMs) + queuedBytes / p.rateBytesPerMs
  const eta = p.busySinceMs + queuedBytes / p.rateBytesPerMs
  // Overdue at its measured rate: it has slowed down, and when it will deliver is anyone's guess.
  return eta < nowMs ? Infinity : eta
}

/** How long a request with `queuedBytes` up to it may wait unanswered before `p` counts as stalled. */
export function stallAfterMs (p: PeerState, queuedBytes: number, stallMs: number): number {
  if (p.rateBytesPerMs === null) return stallMs
  // Four times what its queue up to this block should take at its rate, and never less than the floor
  // (an honest peer on a loaded machine pauses for seconds; a slow one is overtaken by the endgame anyway).
  return Math.max(stallMs, 4 * queuedBytes / p.rateBytesPerMs)
}

/**
 * How often a node publishes its status, and when its silence means it is
 * down. Each record reaches every member, announced by its author and
 * clock and pulled once (sync/: status-have, status-want), so a node
 * receives about N × copies records per period, copies ≈ 1 (a second copy
 * only when an announcer is slow to answer). The period grows with the
 * network so that this stays under STATUS_RECORDS_PER_SECOND_MAX at any size:
 *
 *   period = max(BASE_PERIOD_MS, N × copies / 100 per second)
 *
 * Up to 300 nodes publish every 3 s; 10,000 nodes every 100 s.
 */
export const STATUS_RECORDS_PER_SECOND_MAX = 100
export const BASE_PERIOD_MS = 3000
/** A period never exceeds this, whatever a record declares (a node that says "every year" is still shown down). */
export const PERIOD_MAX_MS = 3600_000
/** Alerts are published at once, but not more often than this. */
export const ALERT_SPACING_MS = 1000

export function statusPeriodMs (nodes: number, copiesPerRecord: number): number {
  const copies = Number.isFinite(copiesPerRecord) ? Math.max(1, copiesPerRecord) : 1
  const needed = Math.ceil(Math.max(1, nodes) * copies * 1000 / STATUS_RECORDS_PER_SECOND_MAX)
  return Math.min(PERIOD_MAX_MS, Math.max(BASE_PERIOD_MS, needed))
}

/** ±20%, so that nodes started together do not publish together. `random` is in [0, 1). */
export function jittered (periodMs: number, random: number): number {
  return Math.round(periodMs * (0.8 + 0.4 * random))
}

/** Silence after which a node is shown down: three of its declared periods (jitter included) and 2 s of slack. */
export function downAfterMs (declaredPeriodMs: number): number {
  const p = Math.min(PERIOD_MAX_MS, Math.max(BASE_PERIOD_MS, declaredPeriodMs))
  return Math.round(3 * 1.2 * p) + 2000
}

/**
 * A status record whose clock is further ahead of the local wall clock than
 * this is not news from the future but a wrong (or hostile) clock: ingest
 * refuses it (space/: the same skew bound as for entries), and the map never
 * counts one as fresh, so no record can make its author look up for longer
 * than the bound plus its silence allowance.
 */
export const STATUS_CLOCK_AHEAD_MAX_MS = 60_000

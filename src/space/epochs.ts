import { POSITION_MAX } from '../codec/index.ts'

/**
 * Which epoch a node's own next entry goes in (decision 15: an honest node
 * never forks itself).
 *
 * Nothing a node stores can prove that its data directory is not a restored
 * copy: a copy is byte-identical, so a store that "ends" at seq n may belong
 * to a directory whose newer twin wrote n+1.. and is gone. Nor is a peer
 * confirming our head a proof (another peer may hold more). So a process
 * never continues an epoch it did not open itself: its first local write
 * opens a new one (lazily: a start without writes makes no feed), and every
 * later write of that process continues it.
 *
 * The new epoch is above every epoch the store holds and at least the wall
 * time, so it is above any epoch a lost copy opened at an earlier millisecond;
 * plus a salt the node draws once per process in [0, EPOCH_SALT_RANGE), so
 * that two copies of one directory started at once (same identity, same
 * store, maybe the same millisecond) open different epochs but for a chance
 * of 1 in EPOCH_SALT_RANGE. The salt is added after the max, so two copies
 * whose store holds an epoch ahead of the clock still draw apart.
 */
export const EPOCH_SALT_RANGE = 2 ** 20

/** The epoch to open for an author that holds `held` epochs (decision 15; see above). */
export function nextEpoch (held: readonly number[], nowMs: number, salt: number): number {
  let base = nowMs
  for (const e of held) if (e + 1 > base) base = e + 1
  const s = Number.isSafeInteger(salt) && salt > 0 ? Math.min(salt, EPOCH_SALT_RANGE - 1) : 0
  return Math.min(POSITION_MAX, base + s)
}

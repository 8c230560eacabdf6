import type { SqliteStore } from '../store/index.ts'
import type { StorageHealth } from './storage-health.ts'
import type { NodeTelemetry } from './telemetry.ts'

/**
 * How this node is, in one word, for a service monitor's probe
 * (GET /v1/health, which needs no token and so says nothing more):
 *   - `failing`: its store takes no writes: a sync of the WAL failed (every
 *     commit is refused until a restart), or a write to the store failed
 *     because the disk refused it and no write of that kind has succeeded
 *     since, or for want of room and no write at all has succeeded since
 *     (StorageHealth: the disk is full or failing);
 *   - `degraded`: it works, but one of its own alerts is open (a disk
 *     under its free-space threshold, low memory, overheating, a peer
 *     unreachable, a folder stuck: telemetry/alerts.ts);
 *   - `ok`: neither.
 * Decided from what the node already keeps, on each call: no probe of its own.
 */
export type NodeHealth = 'ok' | 'degraded' | 'failing'

interface HealthFacts {
  readonly store: Pick<SqliteStore, 'refusesCommits'>
  readonly storage: Pick<StorageHealth, 'alerts'>
  readonly telemetry: Pick<NodeTelemetry, 'alerts'>
}

export function nodeHealth ({ store, storage, telemetry }: HealthFacts): NodeHealth {
  if (store.refusesCommits || storage.alerts().length > 0) return 'failing'
  return telemetry.alerts.length > 0 ? 'degraded' : 'ok'
}

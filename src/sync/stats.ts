import type { MessageType } from '../codec/index.ts'

/** Counters a node keeps about its own traffic: what benchmarks and the simulator report. */
export interface SyncStats {
  readonly messagesIn: Partial<Record<MessageType, number>>
  readonly bytesIn: Partial<Record<MessageType, number>>
  readonly messagesOut: Partial<Record<MessageType, number>>
  readonly bytesOut: Partial<Record<MessageType, number>>
  /** Entries received in `entries` messages: the payload copies. */
  entriesIn: number
  duplicatesIn: number
  /**
   * Entries received that went to the pending queue (a dependency missing),
   * were dropped past a fork, or did not link to our head.
   */
  pendingIn: number
  droppedIn: number
  divergedRuns: number
  entriesStored: number
  entriesServed: number
  garbageIn: number
  requestTimeouts: number
  /** Wants (ranges) answered `none`, in part or whole: what we queued for the peer or for all reached its bound. */
  wantsRefused: number
  count (direction: 'in' | 'out', type: MessageType, bytes: number): void
}

export function emptyStats (): SyncStats {
  const stats: SyncStats = {
    messagesIn: {},
    bytesIn: {},
    messagesOut: {},
    bytesOut: {},
    entriesIn: 0,
    duplicatesIn: 0,
    pendingIn: 0,
    droppedIn: 0,
    divergedRuns: 0,
    entriesStored: 0,
    entriesServed: 0,
    garbageIn: 0,
    requestTimeouts: 0,
    wantsRefused: 0,
    count (direction, type, bytes) {
      const [m, b] = direction === 'in' ? [stats.messagesIn, stats.bytesIn] : [stats.messagesOut, stats.bytesOut]
      m[type] = (m[type] ?? 0) + 1
      b[type] = (b[type] ?? 0) + bytes
    }
  }
  return stats
}

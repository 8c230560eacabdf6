import type { Connection } from '@libp2p/interface'
import { DIAL_TIMEOUT_MS } from './constants.ts'

/**
 * One session per peer (decision 11): which of two links to one peer id a
 * node keeps, the same way at both ends. Links opened within
 * SIMULTANEOUS_DIAL_MS of each other are a simultaneous dial (each side
 * dialled before it saw the other's link): both ends keep the one dialled by
 * the lower peer id. A link that comes later than that replaces the one held:
 * the peer dialled again, so for it the old link is gone (it restarted, and
 * our end has not noticed yet), or another process runs with its key (a copy
 * of its data directory), whose link would otherwise lock it out for good.
 */
export const SIMULTANEOUS_DIAL_MS = DIAL_TIMEOUT_MS

/** A link as the rule sees it: who dialled it (peer id) and when it opened here (ms). */
interface Link {
  readonly dialler: string
  readonly openedMs: number
}

/** Whether the session on `held` stays and the one `incoming` would open is refused. */
export function keepsHeld (held: Link, incoming: Link): boolean {
  if (incoming.openedMs - held.openedMs > SIMULTANEOUS_DIAL_MS) return false
  return held.dialler <= incoming.dialler
}

/** `connection` as the rule sees it, from the end whose peer id is `self`. */
export function linkOf (connection: Connection, self: string): Link {
  const dialler = connection.direction === 'outbound' ? self : connection.remotePeer.toString()
  return { dialler, openedMs: connection.timeline.open }
}

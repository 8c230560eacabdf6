import { getNetConfig } from '@libp2p/utils'
import type { Connection, PeerId } from '@libp2p/interface'
import { DIAL_TIMEOUT_MS } from './constants.ts'

/**
 * What a connection dialled to this node may hold of its slots. libp2p's only bound is maxConnections
 * (CONNECTIONS_MAX), and at it every inbound connection is refused, a member's or a joiner's alike: one stranger
 * identity that dialled 300 times (libp2p's `force` dials) and kept its links idle locked every joiner out (a review's
 * probe). So, for connections others dial to us (those we dial are the node's own choice: a static peer, an invite's
 * address, a member):
 *
 * - one peer keeps at most PEER_CONNECTIONS_MAX (one session per peer is the rule; a simultaneous dial or a relayed
 *   link beside a direct one fit): a connection past it is closed at once, whoever the peer;
 * - a stranger (no member of a space held here, no known peer) is closed after STRANGER_GRACE_MS unless by then it
 *   became a member or is a joiner under way (it presented a join whose invite this node holds and that invite could
 *   still admit it, waiting for its issuer: only a holder of a live token can; for JOIN_WAITING_MAX_MS at most),
 *   looked at again after each grace while it is one;
 * - strangers hold at most HOST_STRANGER_CONNECTIONS_MAX from one host and STRANGER_CONNECTIONS_MAX in all: the rest
 *   of the slots are kept for members. Past a bound an older stranger's goes, never the newest arrival's (#bound), so
 *   a flood of strangers or of joiners cannot keep the newest arrival, a joiner, out for good.
 *
 * A relayed connection comes only from a member (relay.ts' gater), so it is never a stranger's; the dial-back of
 * reachability.ts is no libp2p connection at all (dial-back.ts).
 */
export const PEER_CONNECTIONS_MAX = 3
export const STRANGER_GRACE_MS = DIAL_TIMEOUT_MS
export const HOST_STRANGER_CONNECTIONS_MAX = 8
export const STRANGER_CONNECTIONS_MAX = 64

interface GuardInit {
  /** Whether the peer's connections stay: a member of a space held here, or a known peer. */
  readonly kept: (peerId: string) => boolean
  /** Whether the peer is a joiner under way here (SyncDriver.joinWaiting). */
  readonly joining: (peer: PeerId) => boolean
  /** The peer's connections open now (libp2p's). */
  readonly connectionsOf: (connection: Connection) => readonly Connection[]
}

interface Stranger {
  readonly host: string | undefined
  timer: NodeJS.Timeout
  /** Kept past its first grace as a joiner under way. */
  waited: boolean
}

export class ConnectionGuard {
  readonly #init: GuardInit
  /** Strangers' inbound connections, oldest first (a Map keeps the order it was filled in). */
  readonly #strangers = new Map<Connection, Stranger>()

  constructor (init: GuardInit) {
    this.#init = init
  }

  /** A connection opened (libp2p's `connection:open`). */
  opened (connection: Connection): void {
    if (connection.direction !== 'inbound') return
    const peer = connection.remotePeer.toString()
    const all = this.#init.connectionsOf(connection)
    const others = all.filter(c => c !== connection && c.status === 'open').length
    if (others >= PEER_CONNECTIONS_MAX) {
      connection.abort(new Error(`more than ${PEER_CONNECTIONS_MAX} connections from one peer`))
      return
    }
    if (this.#init.kept(peer)) return
    const host = hostOf(connection)
    this.#strangers.set(connection, { host, timer: this.#grace(connection), waited: false })
    this.#bound(c => host !== undefined && c.host === host, HOST_STRANGER_CONNECTIONS_MAX)
    this.#bound(() => true, STRANGER_CONNECTIONS_MAX)
  }

  /** A connection closed (libp2p's `connection:close`). */
  closed (connection: Connection): void {
    clearTimeout(this.#strangers.get(connection)?.timer)
    this.#strangers.delete(connection)
  }

  /** The node stops: no more timers. */
  stop (): void {
    for (const s of this.#strangers.values()) clearTimeout(s.timer)
    this.#strangers.clear()
  }

  #grace (connection: Connection): NodeJS.Timeout {
    const timer = setTimeout(() => { this.#review(connection) }, STRANGER_GRACE_MS)
    timer.unref()
    return timer
  }

  /** A stranger's grace is over: it goes, unless it became a member or is a joiner under way. */
  #review (connection: Connection): void {
    const stranger = this.#strangers.get(connection)
    if (stranger === undefined) return
    const peer = connection.remotePeer.toString()
    if (this.#init.kept(peer)) {
      this.#strangers.delete(connection)
    } else if (this.#init.joining(connection.remotePeer)) {
      stranger.timer = this.#grace(connection)
      stranger.waited = true
    } else {
      this.#close(connection, 'a stranger that presented no join')
    }
  }

  /**
   * At most `max` of the strangers' connections `which` takes (called as the newest arrives): those that became
   * members meanwhile are no strangers any more; past it, the first of: the oldest stranger that is no joiner (the
   * newest aside: it has had no time to present its join), the oldest joiner kept past its first grace, the oldest
   * of all. So the newest arrival is never the one to go: a review's probe had 8 joiners (fake, a dead token) hold a
   * host's slots and every honest joiner from that host closed on arrival, "the oldest non-joiner" being itself. A
   * flood of fresh connections now pushes out its own oldest first, and a joiner that waited a grace already has had
   * its chance to be answered (an issuer online answers at once).
   */
  #bound (which: (s: Stranger) => boolean, max: number): void {
    const held = (): [Connection, Stranger][] => [...this.#strangers].filter(([, s]) => which(s))
    if (held().length <= max) return
    for (const [c] of held()) if (this.#init.kept(c.remotePeer.toString())) this.closed(c)
    for (let over = held(); over.length > max; over = held()) {
      const older = over.slice(0, -1)
      const victim = older.find(([c]) => !this.#init.joining(c.remotePeer)) ??
        older.find(([, s]) => s.waited) ?? older[0] as [Connection, Stranger]
      this.#close(victim[0], 'too many strangers\' connections')
    }
  }

  #close (connection: Connection, why: string): void {
    this.closed(connection)
    connection.abort(new Error(why))
  }
}

/** The remote host of a direct connection; undefined for a relayed one (its host is the relay's). */
function hostOf (connection: Connection): string | undefined {
  if (connection.remoteAddr.toString().includes('/p2p-circuit')) return undefined
  try {
    return getNetConfig(connection.remoteAddr).host
  } catch {
    return undefined
  }
}

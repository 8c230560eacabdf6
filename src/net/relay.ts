import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { reachability as reachabilityService } from './reachability.ts'
import type { Reachability, ReachService } from './reachability.ts'
import { chosenRelaysOnly, relayServerComponents } from './relay-views.ts'

/**
 * Members relay for members (circuit relay v2): a node serves as a relay
 * only to peers that are members of a space it holds, and relays a
 * connection only between two peers that are both members of one space it
 * holds. Everyone else is refused: a reservation (PERMISSION_DENIED) and a
 * relayed connection alike, checked at the relay for both ends (the
 * connection gater's relay hooks, which @libp2p/circuit-relay-v2 calls before
 * it keeps a slot or opens the other leg). The node at the far end of a
 * relayed connection checks too: it accepts one only from a member.
 *
 * Limits (node/relay-limits.ts) are sized for folders, not libp2p's signalling
 * defaults; a relayed connection is then "limited", so the protocols that
 * carry data (sync, blocks) say they run on one (RUN_ON_RELAY).
 */
export interface RelayPolicy {
  /** Whether a peer (libp2p peer id) is a member of a space held here. */
  member: (peerId: string) => boolean
  /** Whether two peers are both members of one space held here. */
  together: (a: string, b: string) => boolean
}

/** How this node relays for members: config.json "relay" (node/relay-limits.ts has the bounds, defaults, meaning). */
export interface RelayLimits {
  readonly serve: boolean
  readonly maxReservations: number
  readonly circuitsPerPeer: number
  readonly circuitMiB: number
  readonly circuitMinutes: number
  /** Relayed bytes per second, all relayed connections together (0: no cap): relay-throttle.ts. */
  readonly maxMiBps: number
}

/** Protocols that must work across a member relay (a "limited" connection in libp2p's words). */
export const RUN_ON_RELAY = { runOnLimitedConnection: true } as const
export type { Reachability }

const MIB = 1024 * 1024
const MINUTE_MS = 60_000

/** The relay service (serving members), or none when config.json says "serve": false. */
function relayServer (limits: RelayLimits, policy: RelayPolicy): { relay?: ReturnType<typeof circuitRelayServer> } {
  if (!limits.serve) return {}
  const server = circuitRelayServer({
    // Each relayed connection is one hop stream from its source and one stop stream to its destination.
    maxInboundHopStreams: limits.circuitsPerPeer,
    maxOutboundStopStreams: limits.circuitsPerPeer,
    reservations: {
      maxReservations: limits.maxReservations,
      applyDefaultLimit: true,
      defaultDataLimit: BigInt(limits.circuitMiB) * BigInt(MIB),
      defaultDurationLimit: limits.circuitMinutes * MINUTE_MS
    }
  })
  return { relay: components => server(relayServerComponents(components, policy.member, limits.maxMiBps * MIB)) }
}

/**
 * The circuit transport: dials members through a relay, and listens at relays once reservations are made; circuits
 * come only through the members `chosenRelay` names (relay-views.ts).
 */
function relayTransport (
  limits: RelayLimits, chosenRelay: (peerId: string) => boolean
): ReturnType<typeof circuitRelayTransport> {
  return chosenRelaysOnly(circuitRelayTransport({
    maxInboundStopStreams: limits.circuitsPerPeer,
    maxOutboundStopStreams: limits.circuitsPerPeer,
    reservationCompletionTimeout: 10_000
  }), chosenRelay)
}

/** The connection gater's relay hooks: members only, both ends. */
function relayGater (policy: RelayPolicy): Pick<ConnectionGater,
'denyInboundRelayReservation' | 'denyOutboundRelayedConnection' | 'denyInboundRelayedConnection'> {
  const id = (p: PeerId): string => p.toString()
  return {
    denyInboundRelayReservation: source => !policy.member(id(source)),
    denyOutboundRelayedConnection: (source, destination) => !policy.together(id(source), id(destination)),
    denyInboundRelayedConnection: (_relay, remotePeer) => !policy.member(id(remotePeer))
  }
}

export interface RelayInit {
  readonly policy: RelayPolicy
  readonly limits: RelayLimits
  /** A relay slot was reserved at a member (its peer id, our address through it): logged once. */
  readonly onReservation?: ((relayPeerId: string, addr: string) => void) | undefined
}

/** What a libp2p node needs for member relays (the circuit transport, the gater's hooks, the services); its state. */
export interface RelayParts {
  readonly transports: Array<ReturnType<typeof circuitRelayTransport>>
  readonly gater: ReturnType<typeof relayGater> | Record<string, never>
  readonly services: { relay?: ReturnType<typeof circuitRelayServer>, reach?: ReturnType<typeof reachabilityService> }
  /** Whether members can dial this node, and the members it holds a relay slot at ('unknown' before start). */
  reachability: () => { status: Reachability, relays: string[] }
}

export function relayParts (init: RelayInit | undefined): RelayParts {
  let reach: ReachService | undefined
  const reachability = (): { status: Reachability, relays: string[] } =>
    ({ status: reach?.status ?? 'unknown', relays: reach?.relays ?? [] })
  if (init === undefined) return { transports: [], gater: {}, services: {}, reachability }
  const made = reachabilityService({ member: init.policy.member, onReservation: init.onReservation })
  // A relay that brings us a circuit: a member we chose (reachability.ts), never one that chose itself.
  const chosenRelay = (peer: string): boolean => init.policy.member(peer) && (reach?.chose(peer) ?? false)
  return {
    transports: [relayTransport(init.limits, chosenRelay)],
    gater: relayGater(init.policy),
    services: { ...relayServer(init.limits, init.policy), reach: components => (reach = made(components)) },
    reachability
  }
}

/** Stream handler options for a protocol that must also work across a member relay. */
export function relayedStreams (perConnection: number): {
  maxInboundStreams: number, maxOutboundStreams: number, runOnLimitedConnection: true
} {
  return { maxInboundStreams: perConnection, maxOutboundStreams: perConnection, ...RUN_ON_RELAY }
}

/** The relay's peer id in a relayed address (…/p2p/<relay>/p2p-circuit/…), or null for a direct one. */
export function relayOf (addr: string): string | null {
  const at = addr.indexOf('/p2p-circuit')
  if (at < 0) return null
  const before = addr.slice(0, at)
  const p2p = before.lastIndexOf('/p2p/')
  return p2p < 0 ? null : before.slice(p2p + 5)
}

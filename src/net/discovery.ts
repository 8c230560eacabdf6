import type { Libp2p } from 'libp2p'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DIAL_TIMEOUT_MS } from './constants.ts'
import { dialableAddrs } from './peer-exchange.ts'

/**
 * Peers found by multicast DNS, and what libp2p's peer store may keep of a peer. Anyone on the LAN can announce any
 * peer id at any addresses, unasked: dialling every one made the node connect to any host and port a stranger named
 * (its own loopback included, 80 dials for 40 made-up ids in a review's probe), and each made-up id stayed in the
 * peer store for good. So a discovered peer is dialled only if this node wants it anyway (a member of a space held
 * here, a known peer, or a static peer: one it was given, an invite's inviter among them), at no more than the
 * addresses peer exchange's rule takes of a member's (peer-exchange.ts; no relay: mDNS is for neighbours on the LAN);
 * and the peer store keeps addresses only of peers it is connected to or wants (the connection gater's
 * filterMultiaddrForPeer), so a stranger's announcement leaves nothing, and a discovered stranger's empty record is
 * deleted at once.
 */
export interface PeerWants {
  /** This node's own peer id. */
  readonly self: string
  /** Its own listen addresses now (each ending /p2p/<self>): loopback is dialled only by a node on loopback alone. */
  readonly own: () => string[]
  /** A member of a space held here, or a known peer (Network's keepPeer). */
  readonly kept: (peerId: string) => boolean
  /** A peer this node was given to dial (the command line, an invite, peer exchange). */
  readonly static: (peerId: string) => boolean
  /** Whether the peer has a connection open now. */
  readonly connected: (peer: PeerId) => boolean
}

const NO_RELAY = (): boolean => false

/** The connection gater's filterMultiaddrForPeer: whether the peer store may keep `addr` for `peer`. */
export function storesAddr (wants: PeerWants, peer: PeerId, addr: Multiaddr): boolean {
  const id = peer.toString()
  if (id === wants.self || wants.connected(peer) || wants.static(id)) return true
  return wants.kept(id) && dialableAddrs(id, [bare(addr, id)], wants.own(), wants.self, NO_RELAY).length > 0
}

/** libp2p's `peer:discovery` (a new record in its peer store; here, with mDNS on, a peer announced on the LAN). */
export function dialDiscovered (libp2p: Libp2p, wants: PeerWants, found: PeerInfo): void {
  const peer = found.id
  const id = peer.toString()
  if (id === wants.self || wants.connected(peer)) return
  const wanted = wants.kept(id) || wants.static(id)
  const claimed = found.multiaddrs.map(a => bare(a, id))
  const addrs = wanted ? dialableAddrs(id, claimed, wants.own(), wants.self, NO_RELAY) : []
  if (addrs.length === 0) {
    // Nothing this node will dial: of a peer it does not keep, its record goes (a made-up id costs nothing).
    if (!wants.kept(id)) void libp2p.peerStore.delete(peer).catch(() => {})
    return
  }
  libp2p.dial(addrs.map(a => multiaddr(a)), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {
    // Found but not reachable (or not that peer after all: the handshake checks its key): it is announced again.
  })
}

/** An address as peer exchange's rule reads it: without the peer's own /p2p/ at its end. */
function bare (addr: Multiaddr, peer: string): string {
  const text = addr.toString()
  const suffix = `/p2p/${peer}`
  return text.endsWith(suffix) ? text.slice(0, -suffix.length) : text
}

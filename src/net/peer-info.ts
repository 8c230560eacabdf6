import type { BlockLinks } from './block-links.ts'
import { relayOf } from './relay.ts'
import type { SessionTable } from './sessions.ts'

/** What the node shows of one peer it has a sync session with (the API's peer list, `samepage peers`). */
export interface PeerInfo {
  readonly peerId: string
  readonly addrs: string[]
  readonly direction: 'inbound' | 'outbound'
  readonly bytesIn: number
  readonly bytesOut: number
  /** File chunk bytes to and from this peer since start (the block protocol, beside the sync session's bytes). */
  readonly blockBytesIn: number
  readonly blockBytesOut: number
  readonly rttMs: number | null
  /** The encrypter both sides agreed on, as its protocol id: '/tls/1.0.0' or '/noise'. */
  readonly encryption: string | null
  /** The member relaying this link (its peer id), or null for a direct link. */
  readonly relayedBy: string | null
}

/** Each peer with a sync session now, as PeerInfo. */
export function peerInfos (sessions: SessionTable, blockLinks: BlockLinks): PeerInfo[] {
  return [...sessions.entries()].map(([author, s]) => ({
    peerId: s.connection.remotePeer.toString(),
    addrs: [s.connection.remoteAddr.toString()],
    direction: s.connection.direction,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    blockBytesIn: blockLinks.countersOf(author)?.bytesIn ?? 0,
    blockBytesOut: blockLinks.countersOf(author)?.bytesOut ?? 0,
    rttMs: s.connection.rtt ?? null,
    encryption: s.connection.encryption ?? null,
    relayedBy: relayOf(s.connection.remoteAddr.toString())
  }))
}

import { byteStream, getNetConfig } from '@libp2p/utils'
import type { Connection, PeerId, Startable, Stream, TypedEventTarget, Libp2pEvents } from '@libp2p/interface'
import { CODE_P2P } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { dialBack } from './dial-back.ts'

/**
 * Whether this node can be dialled from outside, learned from members, and
 * what it does about it: a node no member could dial back reserves slots at
 * members it reached directly (they are reachable, and relay for members:
 * relay.ts), so that its relayed address (/p2p-circuit) is among its
 * addresses (libp2p's getMultiaddrs(), which peer exchange tells members).
 *
 * The check is AutoNAT's idea among members: "dial me back at my port". It is
 * our own small protocol because @libp2p/autonat (v1 and v2) never checks a
 * private address (a LAN, a test's namespaces), needs answers from 4 to 8
 * peers in distinct /8 networks (a deployment has a handful of members), and
 * answers strangers. Here only a member is answered, a member is dialled back
 * only at the address its connection comes from (no one can aim the dial
 * elsewhere), once per ASK_INTERVAL_MS per member, and reached only if the
 * listener there proves the member's key (dial-back.ts: as far as libp2p's
 * TLS handshake, no connection made). A port a member reached is confirmed to
 * libp2p's address manager, as AutoNAT would: libp2p 3 announces a public
 * listen address (identify, getMultiaddrs) only once it is confirmed.
 */
const REACH_PROTOCOL = '/samepage/reach/1.0.0'
export type Reachability = 'unknown' | 'reachable' | 'unreachable'

/** Members this node keeps a relay slot at when it is not reachable. */
const RELAYS_WANTED = 2
const PROBE_TIMEOUT_MS = 5_000
const STREAM_TIMEOUT_MS = 15_000
/** How often one member is answered, and the longest wait before a failed ask or reservation is tried again. */
const ASK_INTERVAL_MS = 10_000
const RETRY_MAX_MS = 60_000
const ANSWERED_MAX = 1024
/**
 * Refusals from one relay (full, or we are not a member there yet) before it is
 * left alone until its link is made again: libp2p keeps every listener it was
 * asked to make, also one whose reservation failed.
 */
const REFUSALS_MAX = 5

interface ReachComponents {
  readonly registrar: {
    handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void,
      options?: { maxInboundStreams?: number, maxOutboundStreams?: number }) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
  }
  readonly transportManager: { listen: (addrs: Multiaddr[]) => Promise<void>, getAddrs: () => Multiaddr[] }
  readonly connectionManager: { getConnections: (peerId?: PeerId) => Connection[] }
  readonly addressManager: { confirmObservedAddr: (addr: Multiaddr) => void }
  readonly events: TypedEventTarget<Libp2pEvents>
}

interface ReachInit {
  /** Whether a peer (libp2p peer id) is a member of a space held here: only members are asked, answered, used. */
  readonly member: (peerId: string) => boolean
  /** A relay slot was reserved at a member (its peer id, our address through it): the node logs it. */
  readonly onReservation?: ((relayPeerId: string, addr: string) => void) | undefined
}

export class ReachService implements Startable {
  readonly #c: ReachComponents
  readonly #member: (peerId: string) => boolean
  readonly #onReservation: ((relayPeerId: string, addr: string) => void) | undefined
  /** What each member linked directly now found when it dialled us back. */
  readonly #answers = new Map<string, boolean>()
  /** Members that relay (they speak the hop protocol) and that we dialled ourselves (so they are reachable). */
  readonly #relayCandidates = new Set<string>()
  /** Members we hold (or are making) a reservation at. */
  readonly #relays = new Set<string>()
  /** Members of #relays whose reservation was made (the rest are in flight). */
  readonly #reserved = new Set<string>()
  /** Reservations refused (or dropped once made) by each relay candidate over its current link. */
  readonly #refusals = new Map<string, number>()
  /** When each member was last answered (bounded: members only, oldest dropped first). */
  readonly #answered = new Map<string, number>()
  #retryMs = 1_000
  #retryTimer: NodeJS.Timeout | undefined
  #started = false

  constructor (components: ReachComponents, init: ReachInit) {
    this.#c = components
    this.#member = init.member
    this.#onReservation = init.onReservation
  }

  readonly [Symbol.toStringTag] = 'samepage:reachability'

  async start (): Promise<void> {
    this.#started = true
    await this.#c.registrar.handle(REACH_PROTOCOL, (stream, connection) => { void this.#serve(stream, connection) },
      { maxInboundStreams: 1, maxOutboundStreams: 1 })
    this.#c.events.addEventListener('peer:identify', this.#onIdentify)
    this.#c.events.addEventListener('connection:close', this.#onClose)
    this.#c.events.addEventListener('transport:listening', this.#onListening)
  }

  async stop (): Promise<void> {
    this.#started = false
    clearTimeout(this.#retryTimer)
    this.#c.events.removeEventListener('peer:identify', this.#onIdentify)
    this.#c.events.removeEventListener('connection:close', this.#onClose)
    this.#c.events.removeEventListener('transport:listening', this.#onListening)
    await this.#c.registrar.unhandle(REACH_PROTOCOL)
  }

  /** Reachable if a member dialled us back; unreachable if members tried and none could. */
  get status (): Reachability {
    const answers = [...this.#answers.values()]
    return answers.includes(true) ? 'reachable' : answers.length > 0 ? 'unreachable' : 'unknown'
  }

  /** The members this node holds a relay slot at (peer ids). */
  get relays (): string[] {
    return [...this.#relays].filter(peer => this.#direct(peer) !== undefined)
  }

  /** Whether this node chose `peer` as a relay (it holds or is making a reservation there). */
  chose (peer: string): boolean {
    return this.#relays.has(peer)
  }

  readonly #onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[], connection: Connection }>): void => {
    const { peerId, protocols, connection } = evt.detail
    if (isRelayed(connection)) return
    const peer = peerId.toString()
    if (connection.direction === 'outbound' && protocols.includes(RELAY_V2_HOP_CODEC)) this.#relayCandidates.add(peer)
    this.#round()
  }

  readonly #onClose = (evt: CustomEvent<Connection>): void => {
    const peer = evt.detail.remotePeer.toString()
    if (this.#direct(peer) !== undefined) return
    // Its answer is of a link that is gone: asked again when it is back.
    this.#answers.delete(peer)
    this.#relayCandidates.delete(peer)
    this.#refusals.delete(peer)
    this.#reserved.delete(peer)
    if (this.#relays.delete(peer)) this.#round()
  }

  /**
   * A listener's addresses changed: a reservation libp2p dropped while the link stays (a refresh the relay refused)
   * leaves no address through that relay, and another is sought. It counts as a refusal: each reservation is a
   * listener libp2p keeps, so a relay that drops them again and again is left alone after REFUSALS_MAX.
   */
  readonly #onListening = (): void => {
    const addrs = this.#c.transportManager.getAddrs().map(a => a.toString())
    for (const peer of this.#reserved) {
      if (addrs.some(a => a.includes(`/p2p/${peer}/p2p-circuit`))) continue
      this.#reserved.delete(peer)
      this.#relays.delete(peer)
      this.#refusals.set(peer, (this.#refusals.get(peer) ?? 0) + 1)
      this.#round()
    }
  }

  /** Asks the members not asked yet; reserves slots if none could dial us. Failures come back on the retry timer. */
  #round (): void {
    if (!this.#started) return
    let pending = false
    for (const connection of this.#c.connectionManager.getConnections()) {
      const peer = connection.remotePeer.toString()
      if (isRelayed(connection) || this.#answers.has(peer) || !this.#member(peer)) continue
      pending = true
      void this.#ask(connection)
    }
    if (this.status === 'unreachable') {
      for (const peer of this.#relayCandidates) {
        if (this.#relays.size >= RELAYS_WANTED) break
        if (this.#relays.has(peer) || !this.#member(peer) || (this.#refusals.get(peer) ?? 0) >= REFUSALS_MAX) continue
        pending = true
        void this.#reserve(peer)
      }
    }
    if (pending) this.#retryLater()
  }

  #retryLater (): void {
    clearTimeout(this.#retryTimer)
    this.#retryTimer = setTimeout(() => { this.#round() }, this.#retryMs)
    this.#retryTimer.unref()
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS)
  }

  async #ask (connection: Connection): Promise<void> {
    const port = this.#c.transportManager.getAddrs().map(tcpPort).find(p => p !== undefined)
    if (port === undefined) return
    try {
      const stream = await connection.newStream(REACH_PROTOCOL, { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) })
      const bytes = byteStream(stream, { maxBufferSize: 1 })
      const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
      await bytes.write(Uint8Array.of(port >> 8, port & 0xff), { signal })
      const answer = (await bytes.read({ bytes: 1, signal })).subarray()[0]
      await stream.close().catch(() => {})
      if (answer !== 0 && answer !== 1) return
      this.#answers.set(connection.remotePeer.toString(), answer === 1)
      // What AutoNAT would do: libp2p announces a public listen address only once something confirmed it.
      if (answer === 1) for (const a of this.#c.transportManager.getAddrs()) {
        if (tcpPort(a) === port) this.#c.addressManager.confirmObservedAddr(a)
      }
      this.#retryMs = 1_000
      this.#round()
    } catch {
      // Not answered (not yet a member there, busy, gone): asked again on the retry timer.
    }
  }

  async #reserve (peer: string): Promise<void> {
    const connection = this.#direct(peer)
    if (connection === undefined) return
    this.#relays.add(peer)
    const at = connection.remoteAddr.decapsulateCode(CODE_P2P).encapsulate(`/p2p/${peer}/p2p-circuit`)
    try {
      await this.#c.transportManager.listen([at])
      if (this.#relays.has(peer)) this.#reserved.add(peer)
      this.#onReservation?.(peer, at.toString())
    } catch {
      // Refused (not yet a member there, full): tried again on the retry timer, a few times.
      this.#relays.delete(peer)
      this.#refusals.set(peer, (this.#refusals.get(peer) ?? 0) + 1)
      // The retry timer the round that started this armed may have fired while it was in flight (then, with the peer
      // in #relays, that round had nothing to do, and armed none): without this, nothing would ever try again.
      this.#retryLater()
    }
  }

  /** A member asks to be dialled back: at its connection's own address, the port it names, its key proven there. */
  async #serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const now = Date.now()
    const last = this.#answered.get(peer)
    if (isRelayed(connection) || !this.#member(peer) || (last !== undefined && now - last < ASK_INTERVAL_MS)) {
      stream.abort(new Error('not answered'))
      return
    }
    this.#answered.delete(peer)
    this.#answered.set(peer, now)
    if (this.#answered.size > ANSWERED_MAX) this.#answered.delete(this.#answered.keys().next().value as string)
    try {
      const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS)
      const bytes = byteStream(stream, { maxBufferSize: 2 })
      const asked = (await bytes.read({ bytes: 2, signal })).subarray()
      const port = ((asked[0] ?? 0) << 8) | (asked[1] ?? 0)
      const host = getNetConfig(connection.remoteAddr).host
      const reached = port !== 0 && await dialBack(host, port, connection.remotePeer, PROBE_TIMEOUT_MS)
      await bytes.write(Uint8Array.of(reached ? 1 : 0), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  /** An open direct (not relayed) connection to a peer, if any. */
  #direct (peer: string): Connection | undefined {
    return this.#c.connectionManager.getConnections().find(c => c.remotePeer.toString() === peer && !isRelayed(c))
  }
}

/** The libp2p service: `services: { reach: reachability({ member }) }`. */
export function reachability (init: ReachInit): (components: ReachComponents) => ReachService {
  return components => new ReachService(components, init)
}

function isRelayed (connection: Connection): boolean {
  return connection.remoteAddr.toString().includes('/p2p-circuit')
}

function tcpPort (addr: Multiaddr): number | undefined {
  if (isRelayed({ remoteAddr: addr } as Connection)) return undefined
  const tcp = addr.getComponents().find(c => c.name === 'tcp')
  return tcp?.value === undefined ? undefined : Number(tcp.value)
}

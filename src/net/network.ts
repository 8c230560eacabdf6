import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { AuthorKey, PeerIdString } from '../ids/index.ts'
import {
  CONNECTIONS_MAX, DIAL_TIMEOUT_MS, MDNS_QUERY_MS, MDNS_SERVICE_TAG, PING_TIMEOUT_MIN_MS, REDIAL_PARALLEL_MAX,
  SYNC_PROTOCOL, SYNC_STREAMS_PER_CONNECTION_MAX, UNREAD_BYTES_MAX
} from './constants.ts'
import { REDIAL_BACKOFF, RedialSchedule } from './redial.ts'
import { PEX_ADDRS_MAX } from './peer-exchange.ts'
import { SyncSession } from './sync-session.ts'
import { keepsHeld, linkOf } from './duplicate-session.ts'
import { BLOCK_PROTOCOL, BLOCK_STREAMS_PER_CONNECTION_MAX } from './blocks.ts'
import type { BlockProvider } from './blocks.ts'
import type { BlockLinks } from './block-links.ts'
import type { SessionTable } from './sessions.ts'
import type { SyncDriver } from './sync-driver.ts'
import { connectionEncrypters } from './encrypters.ts'
import type { Libp2pMetrics } from './libp2p-metrics.ts'
import type { EncrypterName } from './encrypters.ts'
import { relayedStreams, relayParts, RUN_ON_RELAY } from './relay.ts'
import type { Reachability, RelayInit, RelayParts } from './relay.ts'
import { ConnectionGuard } from './connection-guard.ts'
import { dialDiscovered, storesAddr } from './discovery.ts'
import { peerInfos } from './peer-info.ts'
import type { PeerInfo } from './peer-info.ts'
import type { PeerWants } from './discovery.ts'

/**
 * The node on the wire: a libp2p node (TCP, TLS or Noise, Yamux, identify, ping)
 * that opens and adopts one sync session per peer and hands each session's
 * frames to the sync driver, and the block protocol's streams to the block
 * links. No bootstrap list, relay, UPnP or NAT-PMP is configured: peers come
 * from config, the command line and invites, and from multicast DNS on the
 * local network only when it is switched on (its own service name, so only
 * samepage nodes answer; only peers it wants are dialled: discovery.ts). The
 * connection gater refuses a peer while the engine has it banned; what
 * strangers may hold of the connection slots is connection-guard.ts's rule.
 *
 * Components it is given, made before it: the session table, the sync
 * driver (the only owner of the engine: see sync-driver.ts) and the block
 * links. It never touches the engine itself.
 */
interface NetworkInit {
  readonly keyPair: KeyPair
  readonly sessions: SessionTable
  readonly driver: SyncDriver
  readonly blockLinks: BlockLinks
  /** Where to listen, or how to find out when start() is called. */
  readonly listen: readonly string[] | (() => Promise<readonly string[]>)
  readonly peers?: readonly string[]
  readonly mdns?: boolean
  /** A connected peer told us where it listens (identify): worth remembering across restarts. */
  readonly onPeerAddrs?: (peerId: string, addrs: string[]) => void
  /**
   * Whether what we learned of a peer (libp2p's record of it, its block
   * counters) is kept after its last connection closes (absent: yes). A
   * stranger's is dropped then, so that free identities leave nothing
   * behind (decision 17).
   */
  readonly keepPeer?: (peerId: string) => boolean
  readonly now?: () => number
  /** Serves file chunks to peers (the block protocol); without it, every request is answered "missing". */
  readonly blocks?: BlockProvider
  /** Where libp2p keeps its own metrics (connections, streams, bytes per protocol); absent: none. */
  readonly metrics?: Libp2pMetrics | undefined
  /** The connection encrypters offered, most preferred first (encrypters.ts); absent: TLS, then Noise. */
  readonly encrypters?: readonly EncrypterName[] | undefined
  /** Member relays (relay.ts): who may use this node as a relay, and its limits; absent: no relaying either way. */
  readonly relay?: RelayInit | undefined
  /** A sync session with a peer opened (`open`) or ended: the node logs it (node/node-log.ts). */
  readonly onSession?: (peerId: string, open: boolean, direction: 'inbound' | 'outbound') => void
}

export class Network {
  readonly #init: NetworkInit
  readonly #sessions: SessionTable
  readonly #driver: SyncDriver
  readonly #blockLinks: BlockLinks
  readonly #now: () => number
  /** Static peers' addresses by peer id (or by the address itself, for one given without /p2p/). */
  readonly #staticPeers = new Map<string, Set<string>>()
  readonly #redial = new RedialSchedule(REDIAL_BACKOFF, Math.random)
  readonly #relay: RelayParts
  readonly #guard: ConnectionGuard
  readonly #wants: PeerWants
  #libp2p: Libp2p | undefined
  #redialTimer: NodeJS.Timeout | undefined
  #stopping = false

  constructor (init: NetworkInit) {
    this.#init = init
    this.#sessions = init.sessions
    this.#driver = init.driver
    this.#blockLinks = init.blockLinks
    this.#now = init.now ?? Date.now
    this.#relay = relayParts(init.relay)
    for (const p of init.peers ?? []) this.#remember(p)
    const kept = (peerId: string): boolean => init.keepPeer?.(peerId) ?? true
    this.#guard = new ConnectionGuard({
      kept,
      joining: peer => {
        const author = this.#authorOf(peer)
        return author !== undefined && init.driver.joinWaiting(author)
      },
      connectionsOf: c => this.#libp2p?.getConnections(c.remotePeer) ?? []
    })
    this.#wants = {
      self: this.peerId,
      own: () => this.addrs(),
      kept,
      static: peerId => this.#staticPeers.has(peerId),
      connected: peer => (this.#libp2p?.getConnections(peer).length ?? 0) > 0
    }
  }

  get peerId (): PeerIdString {
    return peerIdOf(this.#init.keyPair.publicKey)
  }

  async start (): Promise<void> {
    const { keyPair, listen } = this.#init
    const raw = new Uint8Array(64)
    raw.set(keyPair.seed, 0)
    raw.set(keyPair.publicKey, 32)
    const banned = (peerId: PeerId): boolean => {
      const author = this.#authorOf(peerId)
      const until = author === undefined ? undefined : this.#driver.bannedUntil(author)
      return until !== undefined && until > this.#now()
    }
    const metrics = this.#init.metrics
    // Loaded only when switched on: multicast DNS brings Node's dgram and its own modules.
    const mdns = this.#init.mdns === true ? (await import('@libp2p/mdns')).mdns : undefined
    this.#libp2p = await createLibp2p({
      privateKey: privateKeyFromRaw(raw),
      addresses: { listen: [...typeof listen === 'function' ? await listen() : listen] },
      transports: [tcp(), ...this.#relay.transports],
      connectionEncrypters: connectionEncrypters(this.#init.encrypters),
      // Yamux's own buffer of unread bytes (4 MiB by default) is ours to size: see UNREAD_BYTES_MAX.
      streamMuxers: [yamux({ streamOptions: { maxReadBufferLength: UNREAD_BYTES_MAX } })],
      connectionManager: { maxConnections: CONNECTIONS_MAX },
      connectionMonitor: { pingTimeout: { minTimeout: PING_TIMEOUT_MIN_MS } },
      connectionGater: {
        denyDialPeer: async peerId => banned(peerId),
        denyInboundEncryptedConnection: async peerId => banned(peerId),
        denyOutboundEncryptedConnection: async peerId => banned(peerId),
        filterMultiaddrForPeer: (peer, addr) => storesAddr(this.#wants, peer, addr),
        ...this.#relay.gater
      },
      peerDiscovery: mdns !== undefined ? [mdns({ serviceTag: MDNS_SERVICE_TAG, interval: MDNS_QUERY_MS })] : [],
      services: { identify: identify(), ping: ping(), ...this.#relay.services },
      ...metrics === undefined ? {} : { metrics: () => metrics }
    })
    this.#listen(this.#libp2p)
    await this.#libp2p.handle(SYNC_PROTOCOL, (stream, connection) => { this.#adopt(stream, connection) },
      relayedStreams(SYNC_STREAMS_PER_CONNECTION_MAX))
    await this.#libp2p.handle(BLOCK_PROTOCOL, (stream, connection) => {
      const provider = this.#init.blocks ?? (async () => 'missing' as const)
      this.#blockLinks.serve(stream, this.#blockPeer(connection.remotePeer), provider, connection)
    }, relayedStreams(BLOCK_STREAMS_PER_CONNECTION_MAX))
    this.#dialDue()
  }

  /**
   * The node is about to stop: what peers send is no longer handed to the engine, while what it says still goes.
   * No new session is taken and nobody is dialled from here on.
   */
  quiesce (): void {
    this.#stopping = true
    clearTimeout(this.#redialTimer)
    this.#guard.stop()
    this.#sessions.quiesceAll()
  }

  /**
   * Stops the node's networking. `flushBy` bounds the graceful part: what the sessions have queued is written and
   * their ends closed, so that the peers read all of it (a leave's notice said just before a stop included).
   */
  async stop (flushBy: AbortSignal): Promise<void> {
    this.quiesce()
    this.#blockLinks.closeAll()
    await this.#sessions.finishAll(flushBy)
    await this.#libp2p?.stop()
  }

  /** Dialable addresses, each ending /p2p/<peer id>. */
  addrs (): string[] {
    return (this.#libp2p?.getMultiaddrs() ?? []).map(a => a.toString())
  }

  /** Dials `addr` now; `remember`: and keeps reaching it from then on (a failure here is retried on its schedule). */
  async dial (addr: string, remember = false): Promise<void> {
    const ma = multiaddr(addr) // not an address: thrown here, and never remembered
    const key = remember ? this.#remember(addr) : undefined
    try {
      await this.#libp2p?.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
    } finally {
      // Reached or not, the schedule learns it from the connection's events or from its own next dial.
      if (key !== undefined) this.#dialDue()
    }
  }

  /**
   * Peer exchange (node/peer-exchange.ts): a member says it listens at `addrs` now (each ending
   * /p2p/<peerId>, already passed by peer-exchange.ts's rule). They become the newest of the addresses
   * it is dialled at, PEX_ADDRS_MAX kept, and (`hurry`) a new one has it dialled at once if it is
   * not connected (redial.ts's hurry: at most once a minute).
   */
  learnAddrs (peerId: string, addrs: readonly string[], hurry = true): void {
    const known = this.#staticPeers.get(peerId) ?? new Set<string>()
    if (addrs.every(a => known.has(a))) return
    for (const a of addrs) { known.delete(a); known.add(a) }
    for (const a of known) if (known.size > PEX_ADDRS_MAX) known.delete(a) // the oldest first
    this.#staticPeers.set(peerId, known)
    this.#redial.add(peerId, this.#now())
    if (hurry) this.#redial.hurry(peerId, this.#now())
    this.#dialDue()
  }

  /** A peer no longer worth reaching (a member of nothing held here any more): never dialled again from here. */
  forget (peerId: string): void {
    this.#staticPeers.delete(peerId)
    this.#redial.delete(peerId) // a dial in flight ends unheeded
  }

  peers (): PeerInfo[] { return peerInfos(this.#sessions, this.#blockLinks) }

  /** Whether members can dial this node, and the members it holds a relay slot at (reachability.ts). */
  reachability (): { status: Reachability, relays: string[] } { return this.#relay.reachability() }

  /** libp2p's events: mDNS finds dialled, listen addresses learned, static peers' schedule kept, sessions opened. */
  #listen (libp2p: Libp2p): void {
    if (this.#init.mdns === true) {
      libp2p.addEventListener('peer:discovery', evt => { dialDiscovered(libp2p, this.#wants, evt.detail) })
    }
    libp2p.addEventListener('peer:identify', evt => {
      const peerId = evt.detail.peerId.toString()
      const addrs = evt.detail.listenAddrs.map(a => `${a.toString()}/p2p/${peerId}`)
      if (addrs.length > 0) this.#init.onPeerAddrs?.(peerId, addrs)
    })
    // A static peer reached by either side is not dialled; one lost is redialled on its backoff (redial.ts).
    libp2p.addEventListener('peer:connect', evt => { this.#redial.connected(evt.detail.toString(), this.#now()) })
    libp2p.addEventListener('peer:disconnect', evt => {
      this.#redial.disconnected(evt.detail.toString(), this.#now())
      this.#dialDue()
    })
    libp2p.addEventListener('connection:open', evt => {
      const connection = evt.detail
      this.#guard.opened(connection)
      if (connection.status !== 'open') return
      // The dialler opens the session's stream; the other side adopts it in the handler.
      if (connection.direction === 'outbound') void this.#openSession(connection)
    })
    libp2p.addEventListener('connection:close', evt => {
      this.#guard.closed(evt.detail)
      // A stranger's last connection is gone: nothing of it stays (its block counters, libp2p's record of it).
      const peer = evt.detail.remotePeer
      if (this.#init.keepPeer?.(peer.toString()) !== false || libp2p.getConnections(peer).length > 0) return
      this.#blockLinks.forget(this.#blockPeer(peer))
      void libp2p.peerStore.delete(peer).catch(() => {})
    })
  }

  async #openSession (connection: Connection): Promise<void> {
    try {
      const signal = AbortSignal.timeout(DIAL_TIMEOUT_MS)
      const stream = await connection.newStream(SYNC_PROTOCOL, { signal, ...RUN_ON_RELAY })
      this.#adopt(stream, connection)
    } catch {
      // The peer does not speak samepage, or went away: nothing to sync with it. A link without a session is not
      // kept: closed, it is redialled on its backoff (sync-session.ts close()), not held connected and silent.
      void connection.close().catch(() => {})
    }
  }

  /** One session per peer (decision 11); of two links, which stays is duplicate-session.ts's rule. */
  #adopt (stream: Stream, connection: Connection): void {
    if (this.#stopping) { stream.abort(new Error('stopping')); return }
    const author = this.#authorOf(connection.remotePeer)
    // Sync is between authors: a peer whose key is not Ed25519 can be a member of no space.
    if (author === undefined) { stream.abort(new Error('not an Ed25519 peer')); return }
    const existing = this.#sessions.get(author)
    if (existing !== undefined && !existing.closed) {
      if (keepsHeld(linkOf(existing.connection, this.peerId), linkOf(connection, this.peerId))) {
        stream.abort(new Error('duplicate session'))
        // Its other end must see it gone and dial again later (redial.ts), not hold a link without a session for good.
        if (connection !== existing.connection) void connection.close().catch(() => {})
        return
      }
      this.#sessions.delete(author)
      existing.close() // and its link: the other end drops it too (the same rule there), or it is already gone
      this.#driver.disconnect(author)
    }
    const session: SyncSession = new SyncSession(stream, connection, {
      // A full disk while storing a frame: the driver reports it (an alert; nothing charged to the sender), and the
      // session ends as on any failure, its link with it: both ends redial on their backoff, catch-up asks again.
      onFrame: bytes => this.#driver.receive(author, bytes),
      onBadFrame: reason => { this.#driver.reportGarbage(author, reason) },
      onClose: () => {
        if (this.#sessions.get(author) !== session) return
        this.#sessions.delete(author)
        this.#blockLinks.closePeer(author)
        this.#driver.disconnect(author)
        this.#init.onSession?.(connection.remotePeer.toString(), false, connection.direction)
      }
    })
    this.#sessions.set(author, session)
    if (!this.#driver.connect(author)) { session.close(); return } // and its connection with it
    this.#init.onSession?.(connection.remotePeer.toString(), true, connection.direction)
    void session.run()
  }

  /** The author key behind a peer id: undefined for a peer whose key is not Ed25519. */
  #authorOf (peerId: PeerId): AuthorKey | undefined {
    const pub = publicKeyFromPeerId(peerId.toString())
    return pub === undefined ? undefined : authorKeyOf(pub)
  }

  /** A peer as its block links know it: its author key, or a label that no author key equals. */
  #blockPeer (peerId: PeerId): string {
    return this.#authorOf(peerId) ?? `unknown:${peerId.toString()}`
  }

  /** Keeps reaching `addr` from now on; returns its key in the redial schedule. */
  #remember (addr: string): string {
    const key = addr.includes('/p2p/') ? addr.slice(addr.lastIndexOf('/p2p/') + 5) : addr
    const addrs = this.#staticPeers.get(key) ?? new Set()
    addrs.add(addr)
    this.#staticPeers.set(key, addrs)
    this.#redial.add(key, this.#now())
    return key
  }

  /**
   * Dials the static peers whose time has come (at most REDIAL_PARALLEL_MAX
   * at once, never two to one peer), then arms the one timer for the next.
   * A peer already connected (it dialled us) is not dialled.
   */
  #dialDue (): void {
    clearTimeout(this.#redialTimer)
    const libp2p = this.#libp2p
    if (this.#stopping || libp2p === undefined) return
    for (const key of this.#redial.take(this.#now(), REDIAL_PARALLEL_MAX)) {
      if (key === this.peerId || this.#connected(libp2p, key)) {
        this.#redial.connected(key, this.#now())
        continue
      }
      void this.#dialPeer(libp2p, key)
    }
    const next = this.#redial.nextDueMs()
    if (next === undefined) return
    this.#redialTimer = setTimeout(() => { this.#dialDue() }, Math.max(0, next - this.#now()))
    this.#redialTimer.unref()
  }

  /** One dial to all of a static peer's addresses at once; its outcome goes to the schedule. */
  async #dialPeer (libp2p: Libp2p, key: string): Promise<void> {
    const addrs = [...this.#staticPeers.get(key) ?? []].map(a => multiaddr(a))
    try {
      const connection = await libp2p.dial(addrs, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      const peer = connection.remotePeer.toString()
      if (peer !== key) this.#adoptAddress(key, peer)
      // Closed already (the peer hung up at once): that counts as a failed dial, so it is tried again.
      if (this.#connected(libp2p, peer)) this.#redial.connected(peer, this.#now())
      else this.#redial.failed(peer, this.#now())
    } catch {
      // Unreachable for now: tried again after its next wait (redial.ts).
      if (this.#connected(libp2p, key)) this.#redial.connected(key, this.#now())
      else this.#redial.failed(key, this.#now())
    } finally {
      this.#dialDue()
    }
  }

  /** An address given without its peer id reached `peer`: from now on it is one of that peer's addresses. */
  #adoptAddress (addrKey: string, peer: string): void {
    this.#staticPeers.delete(addrKey)
    this.#redial.delete(addrKey)
    this.#remember(`${addrKey}/p2p/${peer}`)
  }

  /** Whether a peer (by its key in the schedule) has a connection open, whoever dialled. */
  #connected (libp2p: Libp2p, key: string): boolean {
    return libp2p.getConnections().some(c => c.remotePeer.toString() === key)
  }
}

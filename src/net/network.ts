import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Registry } from 'prom-client'
import { mdns } from '@libp2p/mdns'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { toHex } from '../codec/index.ts'
import { peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { SyncEngine, SyncEvent } from '../sync/index.ts'
import { CONNECTIONS_MAX, DIAL_TIMEOUT_MS, MDNS_QUERY_MS, MDNS_SERVICE_TAG, REDIAL_MS, SYNC_PROTOCOL, SYNC_STREAMS_PER_CONNECTION_MAX, UNREAD_BYTES_MAX } from './constants.ts'
import { SyncSession } from './sync-session.ts'
import { BLOCK_LINKS_PER_PEER, BLOCK_PROTOCOL, BLOCK_STREAMS_PER_CONNECTION_MAX, BlockLink, serveBlocks } from './blocks.ts'
import type { BlockCounters, BlockProvider } from './blocks.ts'
import { RateLimit } from './rate-limit.ts'
import { noiseCrypto } from './noise-crypto.ts'

/**
 * The node on the wire: a libp2p node (TCP, Noise, Yamux, identify, ping)
 * and the driver that moves the sync engine's bytes over one session per
 * peer. No bootstrap list, relay, UPnP or NAT-PMP is configured: peers come
 * from config, the command line and invites, and from multicast DNS on the
 * local network only when it is switched on (its own service name, so only
 * samepage nodes answer).
 *
 * Driving the engine: every input (a frame, a connect, a local write) is
 * followed by pump(), which sends what the engine wants sent, acts on its
 * events (a `disconnect` for misbehaviour hangs up, and the connection
 * gater refuses the peer while it is banned) and sets one timer for its
 * next deadline.
 */
export interface NetworkInit {
  readonly keyPair: KeyPair
  readonly engine: SyncEngine
  readonly listen: readonly string[]
  readonly peers?: readonly string[]
  readonly mdns?: boolean
  readonly onEvent?: (event: SyncEvent) => void
  /** A write to the store failed (a full disk): true if it was that (then the daemon goes on; the work is retried later). */
  readonly onStorageError?: (err: unknown) => boolean
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
  /** --max-up / --max-down: bytes per second of file chunks, all peers together (0 or absent: no limit). */
  readonly maxUpBytesPerSecond?: number
  readonly maxDownBytesPerSecond?: number
  /** Where libp2p registers its own Prometheus metrics (connections, streams, bytes per protocol); absent: none. */
  readonly metrics?: Registry | undefined
}

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
}

export class Network {
  readonly #init: NetworkInit
  readonly #engine: SyncEngine
  readonly #now: () => number
  readonly #sessions = new Map<string, SyncSession>()
  readonly #staticPeers = new Set<string>()
  #libp2p: Libp2p | undefined
  #tickTimer: NodeJS.Timeout | undefined
  #tickAt: number | null = null
  #redialTimer: NodeJS.Timeout | undefined
  #stopping = false
  /** Per peer, the block streams opened so far (BLOCK_LINKS_PER_PEER at most). */
  readonly #blockLinks = new Map<string, Promise<BlockLink>[]>()
  readonly #up: RateLimit
  readonly #down: RateLimit
  readonly #dead = new WeakSet<Promise<BlockLink>>()
  readonly blockCounters: BlockCounters = emptyCounters()
  /** The same, per peer (author key): what its links carried (for link rates in status reports). */
  readonly #peerBlockCounters = new Map<string, BlockCounters>()

  constructor (init: NetworkInit) {
    this.#init = init
    this.#engine = init.engine
    this.#now = init.now ?? Date.now
    for (const p of init.peers ?? []) this.#staticPeers.add(p)
    this.#up = new RateLimit(init.maxUpBytesPerSecond)
    this.#down = new RateLimit(init.maxDownBytesPerSecond)
  }

  get peerId (): string {
    return peerIdOf(this.#init.keyPair.publicKey)
  }

  async start (): Promise<void> {
    const { keyPair } = this.#init
    const raw = new Uint8Array(64)
    raw.set(keyPair.seed, 0)
    raw.set(keyPair.publicKey, 32)
    const banned = (peerId: PeerId): boolean => {
      const until = this.#engine.bannedUntil(this.#authorOf(peerId))
      return until !== undefined && until > this.#now()
    }
    this.#libp2p = await createLibp2p({
      privateKey: privateKeyFromRaw(raw),
      addresses: { listen: [...this.#init.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise({ crypto: noiseCrypto })],
      // Yamux's own buffer of unread bytes (4 MiB by default) is ours to size: see UNREAD_BYTES_MAX.
      streamMuxers: [yamux({ streamOptions: { maxReadBufferLength: UNREAD_BYTES_MAX } })],
      connectionManager: { maxConnections: CONNECTIONS_MAX },
      connectionGater: {
        denyDialPeer: async peerId => banned(peerId),
        denyInboundEncryptedConnection: async peerId => banned(peerId),
        denyOutboundEncryptedConnection: async peerId => banned(peerId)
      },
      peerDiscovery: this.#init.mdns === true ? [mdns({ serviceTag: MDNS_SERVICE_TAG, interval: MDNS_QUERY_MS })] : [],
      services: { identify: identify(), ping: ping() },
      ...(this.#init.metrics === undefined || !claimLibp2pMetrics() ? {} : { metrics: prometheusMetrics({ registry: this.#init.metrics, collectDefaultMetrics: false, preserveExistingMetrics: true }) })
    })
    if (this.#init.mdns === true) this.#libp2p.addEventListener('peer:discovery', evt => {
      const peer = evt.detail.id
      if (peer.equals(this.#libp2p?.peerId) || this.#libp2p?.getConnections(peer).length !== 0) return
      this.#libp2p.dial(peer, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {
        // Found but not reachable (or not a samepage node after all): it is announced again.
      })
    })
    await this.#libp2p.handle(SYNC_PROTOCOL, (stream, connection) => { this.#adopt(stream, connection) }, {
      maxInboundStreams: SYNC_STREAMS_PER_CONNECTION_MAX,
      maxOutboundStreams: SYNC_STREAMS_PER_CONNECTION_MAX
    })
    await this.#libp2p.handle(BLOCK_PROTOCOL, (stream, connection) => {
      const provider = this.#init.blocks ?? (async () => 'missing' as const)
      const author = this.#authorOf(connection.remotePeer)
      void serveBlocks(stream, author, provider, this.#up, this.#blockCountersOf(author))
    }, { maxInboundStreams: BLOCK_STREAMS_PER_CONNECTION_MAX, maxOutboundStreams: BLOCK_STREAMS_PER_CONNECTION_MAX })
    this.#libp2p.addEventListener('peer:identify', evt => {
      const peerId = evt.detail.peerId.toString()
      const addrs = evt.detail.listenAddrs.map(a => `${a.toString()}/p2p/${peerId}`)
      if (addrs.length > 0) this.#init.onPeerAddrs?.(peerId, addrs)
    })
    this.#libp2p.addEventListener('connection:open', evt => {
      const connection = evt.detail
      // The dialler opens the session's stream; the other side adopts it in the handler.
      if (connection.direction === 'outbound') void this.#openSession(connection)
    })
    this.#libp2p.addEventListener('connection:close', evt => {
      // A stranger's last connection is gone: nothing of it stays (its block counters, libp2p's record of it).
      const peer = evt.detail.remotePeer
      if (this.#init.keepPeer?.(peer.toString()) !== false || this.#libp2p === undefined || this.#libp2p.getConnections(peer).length > 0) return
      this.#peerBlockCounters.delete(this.#authorOf(peer))
      void this.#libp2p.peerStore.delete(peer).catch(() => {})
    })
    this.#redialTimer = setInterval(() => { void this.#dialStatic() }, REDIAL_MS)
    this.#redialTimer.unref()
    void this.#dialStatic()
  }

  async stop (): Promise<void> {
    this.#stopping = true
    clearInterval(this.#redialTimer)
    clearTimeout(this.#tickTimer)
    for (const s of this.#sessions.values()) s.close()
    for (const links of this.#blockLinks.values()) for (const link of links) void link.then(l => { l.close() }, () => {})
    await this.#libp2p?.stop()
  }

  /** Dialable addresses, each ending /p2p/<peer id>. */
  addrs (): string[] {
    return (this.#libp2p?.getMultiaddrs() ?? []).map(a => a.toString())
  }

  async dial (addr: string, remember = false): Promise<void> {
    if (remember) this.#staticPeers.add(addr)
    await this.#libp2p?.dial(multiaddr(addr), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
  }

  peers (): PeerInfo[] {
    return [...this.#sessions.entries()].map(([author, s]) => ({
      peerId: s.connection.remotePeer.toString(),
      addrs: [s.connection.remoteAddr.toString()],
      direction: s.connection.direction,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      blockBytesIn: this.#peerBlockCounters.get(author)?.bytesIn ?? 0,
      blockBytesOut: this.#peerBlockCounters.get(author)?.bytesOut ?? 0,
      rttMs: s.connection.rtt ?? null
    }))
  }

  /**
   * Counters that add to this peer's and to the node's totals at once: the
   * block protocol updates one object (`counters.bytesIn += n`), and both
   * see it.
   */
  #blockCountersOf (author: string): BlockCounters {
    let peer = this.#peerBlockCounters.get(author)
    if (peer === undefined) this.#peerBlockCounters.set(author, peer = emptyCounters())
    const total = this.blockCounters
    const both = {} as BlockCounters
    for (const k of ['bytesIn', 'bytesOut', 'blocksIn', 'blocksOut', 'cancelled', 'changed'] as const) {
      const own = peer
      Object.defineProperty(both, k, { get: () => own[k], set: (v: number) => { total[k] += v - own[k]; own[k] = v } })
    }
    return both
  }

  /** Bytes queued for `author`'s sync session and not yet written (0 if none): the engine's serving budget counts them. */
  queuedBytes (author: string): number {
    return this.#sessions.get(author)?.queuedBytes ?? 0
  }

  /** Peers with a sync session now (author keys, hex). */
  connectedAuthors (): string[] {
    return [...this.#sessions.entries()].filter(([, s]) => !s.closed).map(([author]) => author)
  }

  /**
   * A stream for asking `author` for chunks: a few per peer, opened on first
   * use and kept while they work, the least busy one given each request
   * (several streams keep more bytes in flight than one stream's window).
   */
  async blockLink (author: string): Promise<BlockLink> {
    const links = (this.#blockLinks.get(author) ?? []).filter(p => !this.#dead.has(p))
    this.#blockLinks.set(author, links)
    if (links.length < BLOCK_LINKS_PER_PEER) {
      const session = this.#sessions.get(author)
      if (session === undefined || session.closed) throw new Error('not connected')
      const opening = session.connection.newStream(BLOCK_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        .then(stream => {
          const link = new BlockLink(stream, this.#down, this.#blockCountersOf(author), () => { this.#dead.add(opening) })
          return link
        })
      opening.catch(() => { this.#dead.add(opening) })
      links.push(opening)
      return await opening
    }
    const ready = await Promise.all(links.map(p => p.catch(() => null)))
    let best: BlockLink | null = null
    for (const l of ready) if (l !== null && !l.closed && (best === null || l.waiting < best.waiting)) best = l
    if (best === null) throw new Error('no block stream to this peer')
    return best
  }

  /** After a local command on the engine: send what it produced. */
  pump (): void {
    for (const out of this.#engine.drain()) this.#sessions.get(out.peer)?.send(out.bytes)
    for (const ev of this.#engine.events()) {
      if (ev.type === 'disconnect') {
        const session = this.#sessions.get(ev.peer)
        session?.close()
        void session?.connection.close().catch(() => {})
      }
      this.#init.onEvent?.(ev)
    }
    this.#schedule()
  }

  #schedule (): void {
    const deadline = this.#engine.nextDeadline()
    if (deadline === null || this.#stopping) return
    if (this.#tickAt !== null && this.#tickAt <= deadline) return
    clearTimeout(this.#tickTimer)
    this.#tickAt = deadline
    this.#tickTimer = setTimeout(() => {
      this.#tickAt = null
      try {
        this.#engine.tick(this.#now())
      } catch (err) {
        // A full disk is an error of this tick (nothing was committed), never a crash from a timer.
        if (this.#init.onStorageError?.(err) !== true) throw err
      }
      this.pump()
    }, Math.max(0, deadline - this.#now()))
    this.#tickTimer.unref()
  }

  async #openSession (connection: Connection): Promise<void> {
    try {
      const stream = await connection.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      this.#adopt(stream, connection)
    } catch {
      // The peer does not speak samepage, or went away: nothing to sync with it.
    }
  }

  /**
   * One session per peer (decision 11): when simultaneous dials leave two
   * connections, both sides keep the one dialled by the lower peer id.
   */
  #adopt (stream: Stream, connection: Connection): void {
    if (this.#stopping) { stream.abort(new Error('stopping')); return }
    const author = this.#authorOf(connection.remotePeer)
    const existing = this.#sessions.get(author)
    if (existing !== undefined && !existing.closed) {
      if (this.#dialler(existing.connection) <= this.#dialler(connection)) { stream.abort(new Error('duplicate session')); return }
      this.#sessions.delete(author)
      existing.close()
      this.#engine.disconnect(author, this.#now())
    }
    const session: SyncSession = new SyncSession(stream, connection, {
      onFrame: bytes => {
        try {
          this.#engine.receive(author, bytes, this.#now())
        } catch (err) {
          // A full disk: reported, and the session ends as on any failure (catch-up asks again when it is back).
          this.#init.onStorageError?.(err)
          throw err
        }
        this.pump()
      },
      onBadFrame: reason => { this.#engine.reportGarbage(author, reason, this.#now()); this.pump() },
      onClose: () => {
        if (this.#sessions.get(author) !== session) return
        this.#sessions.delete(author)
        for (const link of this.#blockLinks.get(author) ?? []) void link.then(l => { l.close() }, () => {})
        this.#blockLinks.delete(author)
        this.#engine.disconnect(author, this.#now())
        this.pump()
      }
    })
    this.#sessions.set(author, session)
    if (!this.#engine.connect(author, this.#now())) {
      session.close()
      void connection.close().catch(() => {})
      return
    }
    this.pump()
    void session.run()
  }

  #dialler (connection: Connection): string {
    return connection.direction === 'outbound' ? this.peerId : connection.remotePeer.toString()
  }

  #authorOf (peerId: PeerId): string {
    const pub = publicKeyFromPeerId(peerId.toString())
    return pub === undefined ? `unknown:${peerId.toString()}` : toHex(pub)
  }

  async #dialStatic (): Promise<void> {
    for (const addr of this.#staticPeers) {
      const peer = addr.split('/p2p/')[1]
      if (peer === this.peerId) continue
      if (peer !== undefined && [...this.#sessions.values()].some(s => s.connection.remotePeer.toString() === peer)) continue
      try {
        await this.dial(addr)
      } catch {
        // Unreachable for now: tried again in REDIAL_MS.
      }
    }
  }
}

function emptyCounters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

/**
 * @libp2p/prometheus-metrics keeps its metrics in a module-wide map: a second
 * libp2p node in the same process would write into the first one's registry.
 * So only the first node of a process (the daemon's only one) gets them.
 */
let libp2pMetricsClaimed = false
function claimLibp2pMetrics (): boolean {
  if (libp2pMetricsClaimed) return false
  libp2pMetricsClaimed = true
  return true
}

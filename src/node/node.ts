import { EventEmitter } from 'node:events'
import { Registry } from 'prom-client'
import fs from 'node:fs'
import path from 'node:path'
import { fromHex, toHex } from '../codec/index.ts'
import type { GrantableRole, Role } from '../codec/index.ts'
import { generateKeyPair, keyPairFromSeed, loadOrCreateIdentity, peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { SpaceError, SpaceReplica } from '../space/index.ts'
import { SqliteStore } from '../store/index.ts'
import type { SpaceKey, Store } from '../store/index.ts'
import { SyncEngine } from '../sync/index.ts'
import type { Relay, SyncEvent, SyncStats } from '../sync/index.ts'
import type { Body, Entry } from '../codec/index.ts'
import { Network } from '../net/index.ts'
import type { PeerInfo } from '../net/index.ts'
import { lockDir } from './dir-lock.ts'
import { NodeError } from './errors.ts'
import { decodeInviteToken, encodeInviteToken } from './invite-token.ts'
import { KnownPeers } from './known-peers.ts'
import { Folders } from './folders.ts'
import type { FolderInfo } from './folders.ts'
import type { ConflictInfo, FolderStatus } from '../files/index.ts'
import type { AlertReport, AlertThresholds, NetworkMap, NodeReport } from '../telemetry/index.ts'
import { NodeTelemetry, HOST_NAME } from './telemetry.ts'
import { DEPLOYMENT_SPACE_NAME } from './deployment.ts'
import type { InviteToken } from './invite-token.ts'

/**
 * A samepage node: identity, store, spaces, the sync engine and the network,
 * composed. `Node.open()` locks the data directory; `start()` goes on the
 * network; `stop()` leaves it cleanly. Every user-facing operation is a
 * method here, so the API and the CLI are thin.
 */
export interface NodeOptions {
  readonly dir: string
  /** Multiaddrs to listen on; default one TCP port on 127.0.0.1. */
  readonly listen?: readonly string[]
  /** Static peers, dialled at start and again while unreachable. */
  readonly peers?: readonly string[]
  /** Find peers on the local network by multicast DNS (off unless asked for: it talks to the whole LAN). */
  readonly mdns?: boolean
  /** `flood` is naive flooding, only for benchmarks to compare against; default `announce`. */
  readonly relay?: Relay
  /** --max-up / --max-down: file chunk bytes per second to and from all peers together (absent or 0: no limit). */
  readonly maxUpBytesPerSecond?: number
  readonly maxDownBytesPerSecond?: number
  /** Alert thresholds (config.json "alerts"); the rest keep their defaults. */
  readonly alerts?: Partial<AlertThresholds> | undefined
  /** How this node is named in the network map (config.json "name"; default: the host name). */
  readonly name?: string | undefined
}

export interface NodeEvents {
  stored: [{ space: SpaceKey, count: number, from: string }]
  /** The entries themselves, for programs embedding a node (not sent on the API's event stream). */
  entries: [{ space: SpaceKey, entries: readonly Entry[], from: string }]
  fork: [{ space: SpaceKey, author: string }]
  misbehaviour: [{ peer: string, reason: string, points: number, score: number, atMs: number }]
  disconnect: [{ peer: string, reason: string, atMs: number }]
  /** A shared folder's progress: during a transfer every half second, and after each pass. */
  folder: [{ space: SpaceKey, status: FolderStatus }]
  /** The network map changed (a node's status arrived, a node went down or came back): its summary; GET /v1/net for the whole map. */
  network: [{ atMs: number, summary: NetworkMap['summary'] }]
}

export interface MisbehaviourRecord { peer: string, reason: string, points: number, score: number, atMs: number, disconnected: boolean }

const MISBEHAVIOUR_LOG_MAX = 1000
/** Invites issued by others expire without telling us: look for expired ones at least this often. */
const INVITE_SWEEP_MS = 60_000
/** How often the map is looked at for nodes that went silent (a death sends nothing), and the most often a `network` event goes out. */
const NETWORK_WATCH_MS = 1000
const STARTED_MS = Date.now()

export class Node extends EventEmitter<NodeEvents> {
  readonly dir: string
  readonly keyPair: KeyPair
  readonly #store: Store
  readonly #replicas = new Map<SpaceKey, SpaceReplica>()
  readonly #engine: SyncEngine
  readonly #network: Network
  readonly #unlock: () => void
  readonly misbehaviour: MisbehaviourRecord[] = []
  /** libp2p's own Prometheus metrics (connections, streams, bytes per protocol); the API's /metrics adds samepage's. */
  readonly metrics = new Registry()
  readonly #knownPeers: KnownPeers
  readonly #folders: Folders
  readonly #telemetry: NodeTelemetry
  #started = false
  #inviteSweep: NodeJS.Timeout | undefined
  #networkWatch: NodeJS.Timeout | undefined
  #networkShape = ''
  #statusStored = 0

  private constructor (opts: NodeOptions, unlock: () => void) {
    super()
    this.dir = opts.dir
    this.#unlock = unlock
    this.keyPair = loadOrCreateIdentity(opts.dir)
    this.#store = SqliteStore.open(path.join(opts.dir, 'store.db'))
    for (const key of this.#store.spaces()) this.#replicas.set(key, SpaceReplica.open(this.#store, key))
    const replicas = this.#replicas
    this.#engine = new SyncEngine({
      keyPair: this.keyPair, spaces: { get: k => replicas.get(k), all: () => replicas.values() }, nowMs: Date.now(), relay: opts.relay ?? 'announce',
      backlog: peer => this.#network.queuedBytes(peer)
    })
    this.#knownPeers = new KnownPeers(path.join(opts.dir, 'peers.json'), peerId => this.#memberAnywhere(peerId))
    this.#network = new Network({
      keyPair: this.keyPair,
      engine: this.#engine,
      listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      keepPeer: peerId => this.#memberAnywhere(peerId) || this.#knownPeers.has(peerId),
      // Peers from the command line, and every peer we ever reached (a restarted node finds its way back).
      peers: [...(opts.peers ?? []), ...this.#knownPeers.addrs()],
      mdns: opts.mdns ?? false,
      onEvent: ev => this.#onEvent(ev),
      onPeerAddrs: (peerId, addrs) => this.#knownPeers.remember(peerId, addrs),
      blocks: async (author, space, hash) => await this.#folders.serve(author, space, hash),
      maxUpBytesPerSecond: opts.maxUpBytesPerSecond ?? 0,
      maxDownBytesPerSecond: opts.maxDownBytesPerSecond ?? 0,
      metrics: this.metrics
    })
    this.#folders = new Folders({
      dir: opts.dir,
      me: toHex(this.keyPair.publicKey),
      replica: key => this.#replicas.get(key),
      write: (replica, bodies) => this.#writeMany(replica, bodies),
      connected: () => this.#network.connectedAuthors(),
      link: async author => await this.#network.blockLink(author),
      corrupt: (author, reason) => { this.#engine.reportCorruptBlock(author, reason, Date.now()); this.#network.pump() },
      progress: (space, status) => { this.emit('folder', { space, status }) }
    })
    this.#telemetry = new NodeTelemetry({
      dir: opts.dir,
      self: this.#me,
      thresholds: opts.alerts,
      replica: key => this.#replicas.get(key),
      publish: (space, body) => { this.#engine.publishStatus(space, body, Date.now()); this.#network.pump() },
      host: {
        name: opts.name ?? HOST_NAME,
        version: NODE_VERSION,
        startedMs: STARTED_MS,
        disks: () => [this.dir, ...this.#folders.list().map(f => f.path)],
        // Links to members only: a stranger passing by is no link of the deployment (and its leaving no alert).
        links: () => this.#network.peers().filter(p => this.#memberAnywhere(p.peerId)).map(p => ({ peer: p.peerId, rttMs: p.rttMs, bytesIn: p.bytesIn + p.blockBytesIn, bytesOut: p.bytesOut + p.blockBytesOut })),
        spaces: () => this.spaces().map(sp => ({ id: sp.id, name: sp.name, entries: this.#replicas.get(sp.id)?.vector().reduce((n, f) => n + f.count, 0) ?? 0, members: sp.members })),
        folders: () => this.#folders.list().map(f => ({
          space: f.space, name: f.name, state: f.status.state, needFiles: f.status.needFiles, needBytes: f.status.needBytes,
          bytesPerSecond: f.status.rateBytesPerSecond, conflicts: f.status.conflicts, errors: f.status.errors.length
        })),
        traffic: () => {
          const sync = this.#engine.stats
          const sum = (m: Partial<Record<string, number>>): number => Object.values(m).reduce<number>((n, v) => n + (v ?? 0), 0)
          return { bytesIn: sum(sync.bytesIn) + this.#network.blockCounters.bytesIn, bytesOut: sum(sync.bytesOut) + this.#network.blockCounters.bytesOut }
        },
        misbehaviour: () => this.misbehaviour.filter(m => !m.disconnected || m.points > 0).slice(-8).map(m => ({ peer: m.peer, reason: m.reason, points: m.points, atMs: m.atMs })),
        statusCounters: () => ({ messagesIn: this.#engine.stats.messagesIn.status ?? 0, stored: this.#statusStored })
      }
    })
  }

  /** Opens (creating if needed) a data directory and locks it for this process. */
  static open (opts: NodeOptions): Node {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
    const unlock = lockDir(opts.dir)
    try {
      return new Node(opts, unlock)
    } catch (err) {
      unlock()
      throw err
    }
  }

  get peerId (): string {
    return peerIdOf(this.keyPair.publicKey)
  }

  async start (): Promise<void> {
    await this.#network.start()
    this.#started = true
    this.#sweepInvites()
    await this.#folders.start()
    this.#telemetry.start()
    this.#networkWatch = setInterval(() => this.#watchNetwork(), NETWORK_WATCH_MS)
    this.#networkWatch.unref()
  }

  async stop (): Promise<void> {
    clearTimeout(this.#inviteSweep)
    clearInterval(this.#networkWatch)
    this.#telemetry.stop()
    await this.#folders.stop()
    if (this.#started) await this.#network.stop()
    this.#started = false
    this.#store.close()
    this.#unlock()
  }

  id (): { peerId: string, addrs: string[] } {
    return { peerId: this.peerId, addrs: this.#network.addrs() }
  }

  peers (): PeerInfo[] {
    return this.#network.peers()
  }

  /**
   * The sync engine's traffic counters since start (messages and bytes by
   * type, payload copies, duplicates), and what peers make it hold now
   * (pending entries and bytes, claims, bytes queued to send: decision 17).
   */
  syncStats (): Omit<SyncStats, 'count'> & { holding: ReturnType<SyncEngine['holdings']> & { queuedBytes: number } } {
    const { count: _, ...counters } = this.#engine.stats
    let queuedBytes = 0
    for (const author of this.#network.connectedAuthors()) queuedBytes += this.#network.queuedBytes(author)
    return { ...structuredClone(counters), holding: { ...this.#engine.holdings(), queuedBytes } }
  }

  /** Whether a peer (libp2p peer id) is a member of any space held here: only those are remembered in peers.json. */
  #memberAnywhere (peerId: string): boolean {
    const pub = publicKeyFromPeerId(peerId)
    if (pub === undefined) return false
    const author = toHex(pub)
    for (const r of this.#replicas.values()) if (r.acl.currentRole(author) !== null) return true
    return false
  }

  async dial (addr: string): Promise<void> {
    await this.#network.dial(addr, true)
  }

  // ------------------------------------------------------------------ spaces

  createSpace (name: string): { id: string, name: string } {
    if (name.trim() === '' || Buffer.byteLength(name) > 256) throw new NodeError('BAD_INPUT', 'a space name is 1 to 256 bytes')
    const replica = SpaceReplica.create(this.#store, this.keyPair, name, Date.now())
    this.#replicas.set(replica.key, replica)
    this.#engine.spaceAdded(replica.key)
    this.#network.pump()
    return { id: replica.key, name }
  }

  /** The spaces of this node (the deployment's status spaces are not listed: see status and net). */
  spaces (): { id: string, name: string, role: Role | null, members: number }[] {
    return [...this.#replicas.values()].filter(r => !this.#telemetry.deployment.has(r.key)).map(r => ({
      id: r.key, name: r.genesis.name, role: r.acl.currentRole(this.#me), members: r.aclList().filter(m => m.role !== null).length
    }))
  }

  /** A space by id or by unique name. */
  space (ref: string): SpaceReplica {
    const byId = this.#replicas.get(ref)
    if (byId !== undefined) return byId
    const named = [...this.#replicas.values()].filter(r => r.genesis.name === ref && !this.#telemetry.deployment.has(r.key))
    if (named.length === 1) return named[0] as SpaceReplica
    if (named.length > 1) throw new NodeError('AMBIGUOUS_SPACE', `${named.length} spaces are named ${JSON.stringify(ref)}; use the space id (samepage space list)`)
    throw new NodeError('UNKNOWN_SPACE', `no space ${JSON.stringify(ref)} here; see samepage space list, or join one with an invite`)
  }

  invite (ref: string, role: GrantableRole, uses: number, expiresInMs: number): { token: string } {
    const replica = this.space(ref)
    if (!Number.isSafeInteger(uses) || uses < 1) throw new NodeError('BAD_INPUT', '--uses must be a whole number of at least 1')
    const inviteKey = generateKeyPair()
    const expiresMs = Date.now() + expiresInMs
    const entry = this.#write(replica, { t: 'invite', key: inviteKey.publicKey, role, uses, expiresMs })
    const deployment = this.#deploymentInvite(uses, expiresMs)
    const addrs = this.#network.addrs()
    if (this.#started) this.#scheduleInviteSweep()
    return { token: encodeInviteToken({ genesis: [replica.genesis.bytes, replica.genesis.sig], invite: entry.id, secret: inviteKey.seed, role, expiresMs, addrs, deployment }) }
  }

  /**
   * The invite to this node's deployment status space that every token
   * carries, as admin so that the joiner can carry it on in turn; the first
   * invite of a node with no deployment creates the space.
   */
  #deploymentInvite (uses: number, expiresMs: number): InviteToken['deployment'] {
    let replica = this.#telemetry.deployment.keys.map(k => this.#replicas.get(k)).find(r => r !== undefined && r.acl.currentRole(this.#me) === 'owner') ??
      this.#telemetry.deployment.keys.map(k => this.#replicas.get(k)).find(r => r !== undefined && (r.acl.currentRole(this.#me) === 'admin'))
    if (replica === undefined) {
      replica = SpaceReplica.create(this.#store, this.keyPair, DEPLOYMENT_SPACE_NAME, Date.now())
      this.#replicas.set(replica.key, replica)
      this.#engine.spaceAdded(replica.key)
      this.#telemetry.joined(replica.key)
    }
    const key = generateKeyPair()
    const entry = this.#write(replica, { t: 'invite', key: key.publicKey, role: 'admin', uses, expiresMs })
    return { genesis: [replica.genesis.bytes, replica.genesis.sig], invite: entry.id, secret: key.seed }
  }

  async join (token: string): Promise<{ id: string, name: string }> {
    const t = decodeInviteToken(token)
    if (t.expiresMs < Date.now()) throw new NodeError('EXPIRED_TOKEN', `this invite expired at ${new Date(t.expiresMs).toISOString()}; ask for a new one`)
    const replica = this.#joinSpace(t.genesis, t.invite, t.secret, 'this invite\'s space')
    if (t.deployment !== undefined) {
      const d = this.#joinSpace(t.deployment.genesis, t.deployment.invite, t.deployment.secret, 'the deployment status space of this invite')
      this.#telemetry.joined(d.key)
    }
    this.#network.pump()
    for (const addr of t.addrs) {
      try {
        await this.#network.dial(addr, true)
        break
      } catch {
        // Try the inviter's next address; it is also dialled again later.
      }
    }
    return { id: replica.key, name: replica.genesis.name }
  }

  #joinSpace (genesis: InviteToken['genesis'], invite: Uint8Array, secret: Uint8Array, what: string): SpaceReplica {
    const adopted = SpaceReplica.adopt(this.#store, genesis)
    if (!(adopted instanceof SpaceReplica)) throw new NodeError('BAD_TOKEN', `${what} is not valid (${adopted.detail}); ask for a new invite`)
    const replica = this.#replicas.get(adopted.key) ?? adopted
    this.#replicas.set(replica.key, replica)
    if (replica.acl.currentRole(this.#me) === null) replica.join(this.keyPair, invite, keyPairFromSeed(secret), Date.now())
    this.#engine.spaceAdded(replica.key)
    return replica
  }

  aclList (ref: string): { peerId: string, role: Role | null }[] {
    return this.space(ref).aclList().map(m => ({ peerId: peerIdOf(fromHex(m.member)), role: m.role }))
  }

  grant (ref: string, peer: string, role: GrantableRole): void {
    const replica = this.space(ref)
    this.#write(replica, { t: 'acl.grant', member: this.#memberKey(peer), role, from: { epoch: 0, seq: 0 } })
  }

  /** Closes the member's windows after everything of it we hold (its cut is a position in its own feed). */
  revoke (ref: string, peer: string): void {
    const replica = this.space(ref)
    const member = this.#memberKey(peer)
    const feeds = replica.vector().filter(r => toHex(r.author) === toHex(member)).sort((a, b) => b.epoch - a.epoch)
    const latest = feeds[0]
    const at = latest === undefined ? { epoch: Date.now(), seq: 0 } : { epoch: latest.epoch, seq: latest.count }
    this.#write(replica, { t: 'acl.revoke', member, at, keep: feeds.slice(1).map(f => f.epoch) })
  }

  kvPut (ref: string, key: string, value: unknown): void { this.#write(this.space(ref), { t: 'kv.put', key: this.#key(key), value }) }
  kvDel (ref: string, key: string): void { this.#write(this.space(ref), { t: 'kv.del', key: this.#key(key) }) }
  kvGet (ref: string, key: string): { key: string, value: unknown } { return { key, value: this.space(ref).kvGet(key)?.value ?? null } }
  kvList (ref: string): { key: string, value: unknown }[] { return this.space(ref).kvList() }
  counterAdd (ref: string, name: string, delta: number): void {
    if (!Number.isSafeInteger(delta)) throw new NodeError('BAD_INPUT', `${delta} is not a whole number; counter add takes an integer like 5 or -3`)
    this.#write(this.space(ref), { t: 'counter.add', name: this.#key(name), delta })
  }
  counterGet (ref: string, name: string): { name: string, value: number } { return { name, value: this.space(ref).counterGet(name) } }
  ledgerAppend (ref: string, tx: unknown): void { this.#write(this.space(ref), { t: 'ledger.append', tx }) }
  ledgerList (ref: string): unknown[] { return this.space(ref).ledgerList() }

  // ------------------------------------------------------------------ folders

  /** Binds a space to a local directory (created by the user) and syncs it; modes: send-receive, send-only, receive-only. */
  async folderAdd (ref: string, dir: string, mode = 'send-receive'): Promise<FolderInfo> {
    return await this.#folders.add(this.space(ref), dir, mode, this.#me)
  }

  /** Stops syncing the space's folder on this node; its files stay where they are. */
  async folderRemove (ref: string): Promise<{ space: string, path: string }> {
    const b = await this.#folders.remove(this.space(ref).key)
    return { space: b.space, path: b.path }
  }

  folderList (): FolderInfo[] {
    return this.#folders.list()
  }

  folderStatus (ref: string): FolderInfo {
    const replica = this.space(ref)
    const info = this.#folders.get(replica.key)
    if (info === undefined) throw new NodeError('NO_FOLDER', `space ${replica.genesis.name} is not bound to a folder on this node; samepage folder add ${replica.genesis.name} PATH`)
    return info
  }

  conflicts (ref: string): ConflictInfo[] {
    return this.#folders.conflicts(this.folderStatus(ref).space)
  }

  /** One folder pass now, resolved when done (for programs and tests that want to wait for it). */
  async folderSync (ref: string): Promise<FolderInfo> {
    const info = this.folderStatus(ref)
    await this.#folders.syncNow(info.space)
    return this.folderStatus(ref)
  }

  // ------------------------------------------------------------------ telemetry

  /** The whole network from the newest status record of every node of the deployment. */
  network (): NetworkMap {
    return this.#telemetry.network(Date.now())
  }

  /** This node as every other node sees it (its last published report), and the network in numbers (from `map` when the caller has one). */
  status (map: NetworkMap = this.network()): { peerId: string, name: string, periodMs: number, report: NodeReport | null, alerts: readonly AlertReport[], network: NetworkMap['summary'], deployment: string[] } {
    const self = map.nodes.find(n => n.self)
    return { peerId: this.peerId, name: self?.name ?? '', periodMs: this.#telemetry.periodMs, report: self?.report ?? null, alerts: this.#telemetry.alerts, network: map.summary, deployment: [...this.#telemetry.deployment.keys] }
  }

  /** Open alerts of every node that is up, newest first. */
  alerts (map: NetworkMap = this.network()): NetworkMap['alerts'] {
    return [...map.alerts].sort((a, b) => b.sinceMs - a.sinceMs)
  }

  alertThresholds (): AlertThresholds {
    return this.#telemetry.thresholds
  }

  /** Chunk bytes sent and received over the block protocol since start. */
  blockStats (): { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number } {
    return { ...this.#network.blockCounters }
  }

  // ------------------------------------------------------------------ internals

  get #me (): string {
    return toHex(this.keyPair.publicKey)
  }

  #write (replica: SpaceReplica, body: Parameters<SyncEngine['append']>[1]): ReturnType<SyncEngine['append']> {
    return this.#committed(() => this.#engine.append(replica.key, body, Date.now()))
  }

  /** Several entries in one commit (a folder's records). */
  #writeMany (replica: SpaceReplica, bodies: readonly Body[]): Entry[] {
    return this.#committed(() => this.#engine.appendMany(replica.key, bodies, Date.now()))
  }

  /** A local write, then what it made sent; a refusal as the user's error (decision 13). */
  #committed<T> (write: () => T): T {
    let result: T
    try {
      result = write()
    } catch (err) {
      throw userError(err)
    }
    this.#network.pump()
    return result
  }

  /**
   * Decision 9: admins' nodes revoke the invites that have expired, keeping
   * the joins they hold for them, so that no join made later counts
   * anywhere. Runs at start, at the next expiry of an invite it may revoke,
   * and every INVITE_SWEEP_MS for invites it learns of from others.
   */
  #sweepInvites (): void {
    const now = Date.now()
    for (const replica of this.#replicas.values()) {
      for (const due of replica.acl.expiredInvites(this.#me, now)) {
        try {
          this.#write(replica, { t: 'invite.revoke', invite: due.invite, keep: [...due.keep] })
        } catch (err) {
          if (!(err instanceof NodeError)) throw err // our role changed under us: the next sweep sees it
        }
      }
    }
    this.#scheduleInviteSweep()
  }

  #scheduleInviteSweep (): void {
    clearTimeout(this.#inviteSweep)
    const now = Date.now()
    let next = now + INVITE_SWEEP_MS
    for (const replica of this.#replicas.values()) {
      for (const open of replica.acl.openInvites(this.#me)) next = Math.min(next, open.expiresMs + 1)
    }
    this.#inviteSweep = setTimeout(() => this.#sweepInvites(), Math.max(0, next - now))
    this.#inviteSweep.unref()
  }

  #key (key: string): string {
    if (key === '' || Buffer.byteLength(key) > 1024) throw new NodeError('BAD_INPUT', 'a key or name is 1 to 1024 bytes')
    return key
  }

  #memberKey (peer: string): Uint8Array {
    const pub = publicKeyFromPeerId(peer)
    if (pub === undefined) throw new NodeError('BAD_PEER', `${JSON.stringify(peer.slice(0, 80))} is not a peer id (12D3KooW…); see samepage peers or samepage id on that node`)
    return pub
  }

  #onEvent (ev: SyncEvent): void {
    const atMs = Date.now()
    switch (ev.type) {
      case 'stored': {
        const from = ev.from === 'local' ? 'local' : this.#peerName(ev.from)
        this.emit('stored', { space: ev.space, count: ev.entries.length, from })
        if (ev.from !== 'local') {
          this.#folders.changed(ev.space)
          this.#telemetry.entriesStored(ev.space)
        }
        if (this.listenerCount('entries') > 0) this.emit('entries', { space: ev.space, entries: ev.entries, from })
        this.#knownPeers.confirm()
        return
      }
      case 'status':
        if (ev.from !== 'local') this.#statusStored++
        this.#telemetry.stored(ev.space, ev.author)
        return
      case 'fork': this.emit('fork', { space: ev.space, author: this.#peerName(ev.proof.author) }); return
      case 'misbehaviour': {
        const rec = { peer: this.#peerName(ev.peer), reason: ev.reason, points: ev.points, score: ev.score, atMs, disconnected: false }
        this.#log(rec)
        this.emit('misbehaviour', rec)
        return
      }
      case 'disconnect': {
        const rec = { peer: this.#peerName(ev.peer), reason: ev.reason, points: 0, score: 0, atMs, disconnected: true }
        this.#log(rec)
        this.emit('disconnect', rec)
      }
    }
  }

  /** Emits `network` when who is up, or what they said, changed since the last look. */
  #watchNetwork (): void {
    if (this.listenerCount('network') === 0) return
    const map = this.network()
    const shape = map.nodes.map(n => `${n.peerId}:${n.health}:${n.lastSeenMs ?? 0}`).join(',')
    if (shape === this.#networkShape) return
    this.#networkShape = shape
    this.emit('network', { atMs: map.atMs, summary: map.summary })
  }

  #log (rec: MisbehaviourRecord): void {
    this.misbehaviour.push(rec)
    if (this.misbehaviour.length > MISBEHAVIOUR_LOG_MAX) this.misbehaviour.shift()
  }

  #peerName (authorHex: string): string {
    return /^[0-9a-f]{64}$/.test(authorHex) ? peerIdOf(fromHex(authorHex)) : authorHex
  }
}

const NODE_VERSION = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version

/** A refused write as the user's error (decision 13); anything else is ours, and goes on up. */
function userError (err: unknown): unknown {
  if (err instanceof SpaceError) return new NodeError(err.code === 'NOT_ALLOWED' ? 'NOT_ALLOWED' : 'BAD_INPUT', err.message.replace(/^[A-Z_]+: /, ''), { cause: err })
  if (err instanceof Error && err.name === 'CodecError') return new NodeError('BAD_INPUT', err.message, { cause: err })
  return err
}

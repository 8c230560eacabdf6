import { EventEmitter } from 'node:events'
import crypto from 'node:crypto'
import { Registry } from 'prom-client'
import fs from 'node:fs'
import path from 'node:path'
import { CodecError, fromHex, toHex } from '../codec/index.ts'
import { isAuthorKey, keyBytes } from '../ids/index.ts'
import type { GrantableRole, Role } from '../codec/index.ts'
import { generateKeyPair, keyPairFromSeed, loadOrCreateIdentity, peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { EPOCH_SALT_RANGE, SpaceError, SpaceReplica } from '../space/index.ts'
import type { ReplicaOptions } from '../space/index.ts'
import { SqliteStore } from '../store/index.ts'
import type { SpaceKey } from '../store/index.ts'
import { SyncEngine } from '../sync/index.ts'
import type { Relay, SyncEvent, SyncStats } from '../sync/index.ts'
import type { Body, Entry } from '../codec/index.ts'
import { Network } from '../net/index.ts'
import type { BlockServed, PeerInfo } from '../net/index.ts'
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
import { PEER_OPERATION, StorageHealth, storageUserError } from './storage-health.ts'
import type { InviteToken } from './invite-token.ts'
import { backupStore } from './backup.ts'
import type { BackupResult } from './backup.ts'
import { OwnFeedWatch } from './own-feed.ts'
import { JoinWaits } from './join-wait.ts'
import type { JoinOutcome } from './join-wait.ts'
import { checkInvite, deploymentInviteRole, deploymentPromotions, grantBody, joinError, revokeBody } from './membership.ts'

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
  /** The least time a chunk request waits unanswered before its peer counts as stalled for a folder pass (config.json "blockStallSeconds"; default 30 s). */
  readonly blockStallMs?: number | undefined
  /** Tests only (a hostile peer): how this node answers a chunk request, given the honest answer; absent, it answers honestly. */
  readonly blockAnswers?: ((request: { author: string, space: string, hash: Uint8Array }, honest: () => Promise<BlockServed>) => Promise<BlockServed>) | undefined
  /** Free bytes a folder write must leave on its disk (config.json "diskReserveBytes"; default from the disk's size). */
  readonly diskReserveBytes?: number | undefined
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
  /** Something the operator should know (the daemon prints it on stderr): e.g. peers gave back entries of our own feed (decision 15). */
  notice: [{ atMs: number, message: string }]
}

export interface MisbehaviourRecord { peer: string, reason: string, points: number, score: number, atMs: number, disconnected: boolean }

const MISBEHAVIOUR_LOG_MAX = 1000
/** Invites issued by others expire without telling us: look for expired ones at least this often. */
const INVITE_SWEEP_MS = 60_000
/** How often the map is looked at for nodes that went silent (a death sends nothing), and the most often a `network` event goes out. */
const NETWORK_WATCH_MS = 1000
const STARTED_MS = Date.now()
/** What a failed write to the store was doing (StorageHealth: shown until the same kind of write succeeds). */
const PUBLISH_OPERATION = 'publishing this node\'s status'
const LOCAL_WRITE_OPERATION = 'a local write'
/** How long `space join` waits for the inviter to admit this node, unless told otherwise. */
export const JOIN_WAIT_MS = 60_000

export class Node extends EventEmitter<NodeEvents> {
  readonly dir: string
  readonly keyPair: KeyPair
  readonly #store: SqliteStore
  readonly #replicas = new Map<SpaceKey, SpaceReplica>()
  /** One salt per process for the epochs it opens: two copies of one directory started at once open different epochs (decision 15). */
  readonly #replicaOptions: ReplicaOptions = { epochSalt: crypto.randomInt(EPOCH_SALT_RANGE) }
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
  readonly #ownFeeds: OwnFeedWatch
  /** Backups under way: stop() lets them finish before it closes the store they read. */
  readonly #backups = new Set<Promise<BackupResult>>()
  readonly #storage: StorageHealth
  readonly #joinWaits = new JoinWaits()

  private constructor (opts: NodeOptions, unlock: () => void) {
    super()
    this.dir = opts.dir
    this.#unlock = unlock
    this.#storage = new StorageHealth(opts.dir)
    this.keyPair = loadOrCreateIdentity(opts.dir)
    this.#ownFeeds = new OwnFeedWatch(toHex(this.keyPair.publicKey))
    this.#store = SqliteStore.open(path.join(opts.dir, 'store.db'))
    for (const key of this.#store.spaces()) this.#replicas.set(key, SpaceReplica.open(this.#store, key, this.#replicaOptions))
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
      blocks: opts.blockAnswers === undefined
        ? async (author, space, hash) => await this.#folders.serve(author, space, hash)
        : async (author, space, hash) => await (opts.blockAnswers as NonNullable<NodeOptions['blockAnswers']>)({ author, space, hash }, async () => await this.#folders.serve(author, space, hash)),
      maxUpBytesPerSecond: opts.maxUpBytesPerSecond ?? 0,
      maxDownBytesPerSecond: opts.maxDownBytesPerSecond ?? 0,
      metrics: this.metrics,
      onStorageError: err => this.#storage.failed(PEER_OPERATION, err, Date.now())
    })
    this.#folders = new Folders({
      dir: opts.dir,
      diskReserveBytes: opts.diskReserveBytes,
      me: toHex(this.keyPair.publicKey),
      replica: key => this.#replicas.get(key),
      write: (replica, bodies) => this.#writeMany(replica, bodies),
      connected: () => this.#network.connectedAuthors(),
      link: async author => await this.#network.blockLink(author),
      corrupt: (author, reason) => { this.#engine.reportCorruptBlock(author, reason, Date.now()); this.#network.pump() },
      progress: (space, status) => { this.emit('folder', { space, status }) },
      blockStallMs: opts.blockStallMs
    })
    this.#telemetry = new NodeTelemetry({
      dir: opts.dir,
      self: this.#me,
      thresholds: opts.alerts,
      replica: key => this.#replicas.get(key),
      publish: (space, body) => {
        try {
          this.#engine.publishStatus(space, body, Date.now())
          this.#storage.ok(PUBLISH_OPERATION)
        } catch (err) {
          if (!this.#storage.failed(PUBLISH_OPERATION, err, Date.now())) throw err // a full disk: the next period tries again
        }
        this.#network.pump()
      },
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
    for (const key of this.#telemetry.deployment.keys) this.#afterJoin(key) // members that joined while we were away
    await this.#folders.start()
    this.#telemetry.start()
    this.#networkWatch = setInterval(() => this.#watchNetwork(), NETWORK_WATCH_MS)
    this.#networkWatch.unref()
  }

  async stop (): Promise<void> {
    this.#joinWaits.close()
    clearTimeout(this.#inviteSweep)
    clearInterval(this.#networkWatch)
    this.#telemetry.stop()
    await this.#folders.stop()
    if (this.#started) await this.#network.stop()
    this.#started = false
    await Promise.allSettled([...this.#backups])
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
    const replica = SpaceReplica.create(this.#store, this.keyPair, name, Date.now(), this.#replicaOptions)
    this.#replicas.set(replica.key, replica)
    this.#engine.spaceAdded(replica.key)
    this.#network.pump()
    return { id: replica.key, name }
  }

  /** The spaces of this node (the deployment's status spaces are not listed: see status and net). */
  spaces (): { id: string, name: string, role: Role | null, members: number }[] {
    return [...this.#replicas.values()].filter(r => !this.#telemetry.deployment.has(r.key)).map(r => ({
      id: r.key, name: r.genesis.name, role: r.localRole(this.#me), members: r.aclList().filter(m => m.role !== null).length
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
    if (!Number.isSafeInteger(uses) || uses < 1) throw new NodeError('BAD_INPUT', 'the uses of an invite must be a whole number of at least 1')
    checkInvite(replica, this.#me, role)
    const inviteKey = generateKeyPair()
    const expiresMs = Date.now() + expiresInMs
    const entry = this.#write(replica, { t: 'invite', key: inviteKey.publicKey, role, uses, expiresMs })
    const deployment = this.#deploymentInvite(uses, expiresMs)
    const addrs = this.#network.addrs()
    if (this.#started) this.#scheduleInviteSweep()
    return { token: encodeInviteToken({ genesis: [replica.genesis.bytes, replica.genesis.sig], invite: entry.id, secret: inviteKey.seed, role, expiresMs, addrs, deployment, issuer: this.keyPair.publicKey }) }
  }

  /**
   * The invite to this node's deployment status space that every token
   * carries: admin from the space's owner, writer from an admin (the most it
   * may grant; the owner's node promotes it later, see #promoteDeployment),
   * so that every node invited by any member joins the deployment. The first
   * invite of a node in no deployment creates the space; a node that is in
   * one without authority there carries none (a new space would split it).
   */
  #deploymentInvite (uses: number, expiresMs: number): InviteToken['deployment'] {
    const held = this.#telemetry.deployment.keys.map(k => this.#replicas.get(k)).filter(r => r !== undefined)
    let replica = held.find(r => deploymentInviteRole(r, this.#me) === 'admin') ?? held.find(r => deploymentInviteRole(r, this.#me) !== undefined)
    if (replica === undefined && held.length > 0) return undefined
    if (replica === undefined) {
      replica = SpaceReplica.create(this.#store, this.keyPair, DEPLOYMENT_SPACE_NAME, Date.now(), this.#replicaOptions)
      this.#replicas.set(replica.key, replica)
      this.#engine.spaceAdded(replica.key)
      this.#telemetry.joined(replica.key)
    }
    const role = deploymentInviteRole(replica, this.#me) as GrantableRole
    const key = generateKeyPair()
    const entry = this.#write(replica, { t: 'invite', key: key.publicKey, role, uses, expiresMs })
    return { genesis: [replica.genesis.bytes, replica.genesis.sig], invite: entry.id, secret: key.seed }
  }

  /** The deployment status spaces this node owns: every member below admin is made admin, so it can invite on (decision 18). */
  #promoteDeployment (space: SpaceKey): void {
    const replica = this.#replicas.get(space)
    if (replica === undefined || !this.#telemetry.deployment.has(space)) return
    for (const member of deploymentPromotions(replica, this.#me)) {
      this.#write(replica, { t: 'acl.grant', member, role: 'admin', from: { epoch: 0, seq: 0 } })
    }
  }

  /**
   * Joins with a token and waits until the join takes effect (decision 18):
   * the inviter records its redemption and this node holds it. Otherwise it
   * fails with the inviter's reason, or INVITER_UNREACHABLE after `waitMs`
   * (the join stays presented to every peer while the daemon runs).
   */
  async join (token: string, waitMs = JOIN_WAIT_MS): Promise<{ id: string, name: string, role: Role | null, deployment: string }> {
    if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > 3_600_000) throw new NodeError('BAD_INPUT', 'the wait for the inviter is 0 to 3,600,000 ms (up to 1h)')
    const t = decodeInviteToken(token)
    if (t.expiresMs < Date.now()) throw new NodeError('EXPIRED_TOKEN', `this invite expired at ${new Date(t.expiresMs).toISOString()}; ask for a new one`)
    const space = this.#joinSpace(t.genesis, t.invite, t.secret, 'this invite\'s space')
    if (space.join === '') throw new NodeError('NO_CHANGE', `this node is already ${space.replica.localRole(this.#me) ?? ''} in space ${space.replica.genesis.name}; nothing to join`)
    const issuer = t.issuer === undefined ? undefined : toHex(t.issuer)
    const waitFor = async (j: { replica: SpaceReplica, join: string }): Promise<JoinOutcome> =>
      await this.#joinWaits.wait(j.replica.key, j.join, issuer, () => j.replica.localRole(this.#me) !== null, waitMs)
    const admitted = waitFor(space)
    this.#network.pump()
    for (const addr of t.addrs) {
      try {
        await this.#network.dial(addr, true)
        break
      } catch {
        // Try the inviter's next address; it is also dialled again later.
      }
    }
    const outcome = await admitted
    const name = space.replica.genesis.name
    if (!outcome.ok) throw joinError(outcome, name)
    // The deployment's join only once the space's took effect: a joiner that lost the race for the token's
    // uses never takes a use of the deployment invite from the one that won it.
    let joinedDeployment = 'none offered'
    if (t.deployment !== undefined) {
      const deployment = this.#joinSpace(t.deployment.genesis, t.deployment.invite, t.deployment.secret, 'the deployment status space of this invite')
      this.#telemetry.joined(deployment.replica.key)
      this.#network.pump()
      const d = await waitFor(deployment)
      joinedDeployment = d.ok ? 'joined' : `not joined: ${d.detail}`
    }
    return { id: space.replica.key, name, role: space.replica.localRole(this.#me), deployment: joinedDeployment }
  }

  /** Adopts the space and writes our join (hex id of the join entry), unless we are a member already. */
  #joinSpace (genesis: InviteToken['genesis'], invite: Uint8Array, secret: Uint8Array, what: string): { replica: SpaceReplica, join: string } {
    const adopted = SpaceReplica.adopt(this.#store, genesis, undefined, this.#replicaOptions)
    if (!(adopted instanceof SpaceReplica)) throw new NodeError('BAD_TOKEN', `${what} is not valid (${adopted.detail}); ask for a new invite`)
    const replica = this.#replicas.get(adopted.key) ?? adopted
    this.#replicas.set(replica.key, replica)
    let join = ''
    if (replica.localRole(this.#me) === null) {
      try {
        join = toHex(replica.join(this.keyPair, invite, keyPairFromSeed(secret), Date.now()).entry.id)
      } catch (err) {
        throw userError(err)
      }
    }
    this.#engine.spaceAdded(replica.key)
    return { replica, join }
  }

  aclList (ref: string): { peerId: string, role: Role | null }[] {
    return this.space(ref).aclList().map(m => ({ peerId: peerIdOf(fromHex(m.member)), role: m.role }))
  }

  grant (ref: string, peer: string, role: GrantableRole): void {
    const replica = this.space(ref)
    this.#write(replica, grantBody(replica, this.#me, this.#memberKey(peer), role))
  }

  revoke (ref: string, peer: string): void {
    const replica = this.space(ref)
    this.#write(replica, revokeBody(replica, this.#me, this.#memberKey(peer), Date.now()))
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

  // ------------------------------------------------------------------ backup

  /** An online backup of the store to `file` (absolute, new, outside the data directory and shared folders). */
  async backup (file: string): Promise<BackupResult> {
    const job = backupStore(this.#store, this.dir, this.#folders.list().map(f => f.path), file)
    this.#backups.add(job)
    try {
      return await job
    } finally {
      this.#backups.delete(job)
    }
  }

  // ------------------------------------------------------------------ telemetry

  /** The whole network from the newest status record of every node of the deployment. */
  network (): NetworkMap {
    return this.#telemetry.network(Date.now())
  }

  /** This node as every other node sees it (its last published report), and the network in numbers (from `map` when the caller has one). */
  status (map: NetworkMap = this.network()): { peerId: string, name: string, periodMs: number, report: NodeReport | null, alerts: readonly AlertReport[], network: NetworkMap['summary'], deployment: string[] } {
    const self = map.nodes.find(n => n.self)
    return { peerId: this.peerId, name: self?.name ?? '', periodMs: this.#telemetry.periodMs, report: self?.report ?? null, alerts: [...this.#telemetry.alerts, ...this.#storage.alerts()], network: map.summary, deployment: [...this.#telemetry.deployment.keys] }
  }

  /** Open alerts of every node that is up, newest first. */
  alerts (map: NetworkMap = this.network()): NetworkMap['alerts'] {
    // This node's store failing is said here even when its status record, which would carry it, cannot be written.
    const own = this.#storage.alerts().map(a => ({ ...a, peerId: this.peerId, name: map.nodes.find(n => n.self)?.name ?? '' }))
    return [...map.alerts, ...own].sort((a, b) => b.sinceMs - a.sinceMs)
  }

  alertThresholds (): AlertThresholds {
    return this.#telemetry.thresholds
  }

  /** Chunk bytes sent and received over the block protocol since start. */
  blockStats (): { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number, changed: number } {
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
      this.#storage.failed(LOCAL_WRITE_OPERATION, err, Date.now())
      throw userError(err)
    }
    this.#storage.ok(LOCAL_WRITE_OPERATION)
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
      // Only its own: their issuer knows every redemption, so its revoke keeps them all (no joiner is displaced).
      for (const due of replica.acl.expiredInvites(this.#me, now).filter(i => i.issuer === this.#me)) {
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
          const notice = this.#ownFeeds.stored(ev.space, this.#replicas.get(ev.space)?.genesis.name ?? ev.space, ev.entries, from)
          if (notice !== undefined) this.emit('notice', { atMs, message: notice })
        }
        this.#joinWaits.stored(ev.space)
        if (ev.entries.some(e => e.body.t === 'join' || e.body.t === 'invite.redeem')) setImmediate(() => this.#afterJoin(ev.space))
        if (this.listenerCount('entries') > 0) this.emit('entries', { space: ev.space, entries: ev.entries, from })
        this.#knownPeers.confirm()
        return
      }
      case 'status':
        if (ev.from !== 'local') this.#statusStored++
        this.#telemetry.stored(ev.space, ev.author)
        return
      case 'fork': this.emit('fork', { space: ev.space, author: this.#peerName(ev.proof.author) }); return
      case 'join-answer': this.#joinWaits.answered(ev.space, ev.join, ev.from, ev.outcome, ev.detail); return
      case 'revoked': return // the replica refuses our writes from now on; `space list` shows no role
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

  /** After a join or a redemption: the deployment's owner promotes the new member (see #promoteDeployment). */
  #afterJoin (space: SpaceKey): void {
    if (!this.#started) return
    try {
      this.#promoteDeployment(space)
    } catch (err) {
      if (!(err instanceof NodeError)) throw err // our role changed under us: the next join tries again
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
    return isAuthorKey(authorHex) ? peerIdOf(keyBytes(authorHex)) : authorHex
  }
}

const NODE_VERSION = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version

/** A refused write as the user's error (decision 13); anything else is ours, and goes on up. */
function userError (err: unknown): unknown {
  const storage = storageUserError(err)
  if (storage !== null) return storage
  if (err instanceof SpaceError) return new NodeError(err.code === 'NOT_ALLOWED' ? 'NOT_ALLOWED' : 'BAD_INPUT', err.message.replace(/^[A-Z_]+: /, ''), { cause: err })
  if (err instanceof CodecError) return new NodeError('BAD_INPUT', err.message, { cause: err })
  return err
}

import type { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { loadOrCreateIdentity } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf, parseAuthorKey } from '../ids/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import type { Logger } from '../log/index.ts'
import {
  advertisedAddrs, BlockLinks, dialableAddrs, Libp2pMetrics, Network, SessionTable, SyncDriver
} from '../net/index.ts'
import type { BlockProvider, BlockServed, EncrypterName, RelayLimits } from '../net/index.ts'
import { SqliteStore } from '../store/index.ts'
import type { Relay } from '../sync/index.ts'
import type { AlertThresholds } from '../telemetry/index.ts'
import { DeploymentSpaces } from './deployment.ts'
import { Folders } from './folders.ts'
import { InviteSweep } from './invite-sweep.ts'
import { JoinWaits } from './join-wait.ts'
import { KnownPeers } from './known-peers.ts'
import { SpaceLeave } from './leave.ts'
import { MemberCommands } from './member-commands.ts'
import { MisbehaviourLog } from './misbehaviour-log.ts'
import { NetworkView } from './network-view.ts'
import { NodeEventHandler, storedEntriesRead } from './node-events.ts'
import { NodeLog } from './node-log.ts'
import type { NodeEvents } from './node-events.ts'
import { OwnFeedWatch } from './own-feed.ts'
import { OwnJoins } from './own-joins.ts'
import { PeerExchange } from './peer-exchange.ts'
import { RELAY_DEFAULTS } from './relay-limits.ts'
import { memberRelayPolicy } from './relay-policy.ts'
import { SpaceData } from './space-data.ts'
import { SpaceSet } from './space-set.ts'
import { checkStoreOwner } from './store-owner.ts'
import { PEER_OPERATION, StorageHealth } from './storage-health.ts'
import { HOST_NAME, NodeTelemetry } from './telemetry.ts'
import type { NodeTelemetryInit } from './telemetry.ts'
import { LocalWrites } from './writes.ts'

export interface NodeOptions {
  readonly dir: string
  /**
   * Multiaddrs to listen on, or how to find them when the node starts (once
   * its directory is locked: `samepage start` chooses its stable port then); default one TCP port on 127.0.0.1.
   */
  readonly listen?: readonly string[] | (() => Promise<readonly string[]>)
  /** Static peers, dialled at start and again while unreachable. */
  readonly peers?: readonly string[]
  /** Find peers on the local network by multicast DNS (off unless asked for: it talks to the whole LAN). */
  readonly mdns?: boolean
  /** How new entries travel (sync/relay.ts); absent: announce and pull. Only benchmarks inject another. */
  readonly relay?: Relay
  /** --max-up / --max-down: file chunk bytes per second to and from all peers together (absent or 0: no limit). */
  readonly maxUpBytesPerSecond?: number
  readonly maxDownBytesPerSecond?: number
  /** Alert thresholds (config.json "alerts"); the rest keep their defaults. */
  readonly alerts?: Partial<AlertThresholds> | undefined
  /** How this node is named in the network map (config.json "name"; default: the host name). */
  readonly name?: string | undefined
  /**
   * The least time a chunk request waits unanswered before its peer counts
   * as stalled for a folder pass (config.json "blockStallSeconds"; default 30 s).
   */
  readonly blockStallMs?: number | undefined
  /**
   * Tests only (a hostile peer): how this node answers a chunk request, given the honest answer; absent, it answers
   * honestly.
   */
  readonly blockAnswers?: BlockAnswers | undefined
  /**
   * Free bytes a folder write must leave on its disk (config.json "diskReserveBytes"; default from the disk's size).
   */
  readonly diskReserveBytes?: number | undefined
  /** Connection encrypters offered, most preferred first (config.json "encrypters"; default TLS, then Noise). */
  readonly encrypters?: readonly EncrypterName[] | undefined
  /** Tests only (a slow or failing disk): how the store syncs its WAL for the group commit; absent, fdatasync. */
  readonly walFsync?: ((fd: number) => Promise<void>) | undefined
  /**
   * How long a stop waits at most for what the node said last to reach its peers (Node.stop; default 2 s). Tests
   * that must not depend on the machine's speed raise it.
   */
  readonly stopFlushMs?: number | undefined
  /** Relaying for members (config.json "relay"; relay-limits.ts): default on, with limits sized for folders. */
  readonly relayLimits?: RelayLimits | undefined
  /**
   * Peer exchange's new links to members never reached that share a data space (node/peer-exchange.ts): default
   * on; false, this node dials only the peers it was given or reached before (tests of an explicit dial).
   */
  readonly meshLinks?: boolean | undefined
  /** Where the node logs joins, connections, bans, forks, conflicts, folder errors and alerts; absent: nowhere. */
  readonly logger?: Logger | undefined
  /** Tests only: the least time between two writes of peers.json (known-peers.ts; default 30 s). */
  readonly peersSaveEveryMs?: number | undefined
}

interface BlockRequest { readonly author: string, readonly space: string, readonly hash: Uint8Array }
type BlockAnswers = (request: BlockRequest, honest: () => Promise<BlockServed>) => Promise<BlockServed>

/** The parts of a node, each made from those before it. */
export interface NodeParts {
  readonly keyPair: KeyPair
  readonly store: SqliteStore
  readonly storage: StorageHealth
  readonly spaces: SpaceSet
  readonly driver: SyncDriver
  readonly network: Network
  readonly folders: Folders
  readonly telemetry: NodeTelemetry
  readonly misbehaviour: MisbehaviourLog
  readonly data: SpaceData
  /** Every local write; stop() commits the writes still waiting for their group. */
  readonly writes: LocalWrites
  readonly members: MemberCommands
  /** This node's joins not yet in effect, and those their issuer refused (`space list`: own-joins.ts). */
  readonly ownJoins: OwnJoins
  /** `space leave` (leave.ts). */
  readonly leave: SpaceLeave
  readonly view: NetworkView
  /** libp2p's own metrics (connections, streams, bytes per protocol); the API's /metrics adds samepage's. */
  readonly metrics: Libp2pMetrics
  /** peers.json: stop() writes what changed since its last write. */
  readonly knownPeers: KnownPeers
}

/** What publishing this node's status was doing when a write failed (StorageHealth). */
const PUBLISH_OPERATION = 'publishing this node\'s status'
const STARTED_MS = Date.now()
const PACKAGE_JSON = path.join(import.meta.dirname, '..', '..', 'package.json')
const NODE_VERSION = (JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version

/**
 * The composition root of the daemon, in the manner of js-libp2p's
 * `(components, init)`: each part is made from plain components made before
 * it and an init object, in this order, so no part refers to one that does
 * not exist yet. The one late link is a subscription: the event handler,
 * made last, listens to the sync driver's events. `emitter` is the Node,
 * where the node's events go.
 */
export function composeNode (opts: NodeOptions, emitter: EventEmitter<NodeEvents>): NodeParts {
  const { dir } = opts
  const storage = new StorageHealth(dir)
  const metrics = new Libp2pMetrics({ statfsDir: dir })
  const keyPair = loadOrCreateIdentity(dir)
  const me = authorKeyOf(keyPair.publicKey)
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync: opts.walFsync })
  checkStoreOwner(dir, store, me)
  const deployment = new DeploymentSpaces(dir)
  const spaces = new SpaceSet({ store, deployment, me, namesFile: path.join(dir, 'space-names.json'),
    leftEpochsFile: path.join(dir, 'left-epochs.json') })
  const knownPeers = new KnownPeers(path.join(dir, 'peers.json'), peerId => spaces.memberAnywhere(peerId),
    { everyMs: opts.peersSaveEveryMs })
  // Peers revoked while this node was stopped (or before revokes pruned) are not dialled again.
  knownPeers.prune()
  const log = new NodeLog({ logger: opts.logger, spacesOf: peerId => spaces.namesOf(peerId) })
  const sessions = new SessionTable()
  const blockLinks = new BlockLinks({
    sessions,
    maxUpBytesPerSecond: opts.maxUpBytesPerSecond ?? 0,
    maxDownBytesPerSecond: opts.maxDownBytesPerSecond ?? 0,
    // Called only once a link is open, when the driver below is there.
    onViolation: (author, what) => { driver.reportCorruptBlock(parseAuthorKey(author), what) }
  })
  const driver = new SyncDriver({
    sync: { keyPair, spaces, relay: opts.relay },
    sessions,
    onStorageError: err => storage.failed(PEER_OPERATION, err, Date.now()),
    // Peers' runs committed without fsync, what follows told once synced: one fsync per few runs (durable-gate.ts).
    durability: {
      unsynced: step => store.unsynced(step),
      unsyncedCommits: () => store.unsyncedCommits,
      synced: async () => { await store.synced() }
    },
    heldEntries: storedEntriesRead(keyPair.publicKey, emitter)
  })
  const grouped = (space: SpaceKey, writes: number): void => { emitter.emit('grouped', { space, writes }) }
  const writes = new LocalWrites({ driver, storage, store, grouped })
  const folders = new Folders({
    dir,
    diskReserveBytes: opts.diskReserveBytes,
    me,
    replica: key => spaces.get(key),
    name: key => { const r = spaces.get(key); return r === undefined ? undefined : spaces.nameOf(r) },
    write: (replica, bodies) => writes.writeMany(replica, bodies),
    connected: () => sessions.connectedAuthors(),
    link: async author => await blockLinks.open(author),
    // The block layer names peers by the text of their author keys (connectedAuthors): parsed back here.
    corrupt: (author, reason) => { driver.reportCorruptBlock(parseAuthorKey(author), reason) },
    progress: (space, status) => {
      const replica = spaces.get(space)
      log.folder(space, replica === undefined ? space : spaces.nameOf(replica), status)
      emitter.emit('folder', { space, status })
    },
    blockStallMs: opts.blockStallMs
  })
  const knownOrMember = (peerId: string): boolean => spaces.memberAnywhere(peerId) || knownPeers.has(peerId)
  const network = new Network({
    keyPair,
    sessions,
    driver,
    blockLinks,
    listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
    keepPeer: knownOrMember,
    // Peers from the command line, and every peer we ever reached (a restarted node finds its way back).
    peers: [...(opts.peers ?? []), ...knownPeers.addrs()],
    mdns: opts.mdns ?? false,
    // What a peer's identify says it listens at passes the rule a member's status record does (peer exchange):
    // remembered raw, a member (a reader will do) had this node dial the unspecified address, a DNS name or a relay
    // that is a stranger, at every start (a review's probe).
    onPeerAddrs: (peerId, addrs) => {
      const bare = addrs.map(a => a.endsWith(`/p2p/${peerId}`) ? a.slice(0, -`/p2p/${peerId}`.length) : a)
      const relayOk = (relay: string): boolean => spaces.memberAnywhere(relay)
      const taken = dialableAddrs(peerId, bare, network.addrs(), network.peerId, relayOk)
      if (taken.length > 0) knownPeers.remember(peerId, taken)
    },
    blocks: blockProvider(folders, opts.blockAnswers),
    metrics,
    encrypters: opts.encrypters,
    relay: {
      policy: memberRelayPolicy(spaces),
      limits: opts.relayLimits ?? RELAY_DEFAULTS,
      onReservation: (relay, addr) => { log.relayReservation(relay, addr) }
    },
    onSession: (peerId, open, direction) => {
      if (open) log.connected(peerId, direction)
      else log.disconnected(peerId)
    }
  })
  // The operator's own peers (--peer, config.json) are theirs to drop; the others go once members of nothing here.
  const givenPeers = new Set((opts.peers ?? []).map(a => a.split('/p2p/').at(-1) as string))
  const forgetNonMembers = (): void => {
    for (const peerId of knownPeers.prune()) if (!givenPeers.has(peerId)) network.forget(peerId)
  }
  const misbehaviour = new MisbehaviourLog(dir)
  const peerExchange = new PeerExchange({
    self: network.peerId,
    addrs: () => network.addrs(),
    keepsReaching: peerId => spaces.memberAnywhere(peerId) && knownPeers.has(peerId),
    learnAddrs: (peerId, addrs, hurry) => { network.learnAddrs(peerId, addrs, hurry) },
    isMember: peerId => spaces.memberAnywhere(peerId),
    // Data spaces only (list() leaves out the deployment's), and only those this node is a member of itself.
    sharedSpaces: author => opts.meshLinks === false ? [] : spaces.list()
      .filter(sp => sp.role !== null && (spaces.get(sp.id)?.acl.currentRole(author) ?? null) !== null).map(sp => sp.id),
    folderSpaces: () => folders.bindings().map(f => f.space)
  })
  const telemetry = new NodeTelemetry({
    self: me,
    deployment,
    thresholds: opts.alerts,
    replica: key => spaces.get(key),
    publish: (space, body) => {
      try {
        driver.publishStatus(space, body)
        storage.ok(PUBLISH_OPERATION)
      } catch (err) {
        if (!storage.failed(PUBLISH_OPERATION, err, Date.now())) throw err // a full disk: the next period tries again
      }
    },
    host: telemetryHost({
      name: opts.name ?? HOST_NAME, dir, spaces, folders, network, driver, blockLinks, misbehaviour, log
    }),
    onMemberAddrs: (author, addrs, atStart, theirs) => { peerExchange.heard(author, addrs, atStart, theirs) }
  })
  const joinWaits = new JoinWaits()
  const inviteSweep = new InviteSweep({ spaces, writes, me })
  const ownJoins = new OwnJoins({
    file: path.join(dir, 'joins.json'),
    me,
    spaces,
    writes,
    driver,
    telemetry,
    // Unreachable now, the inviter is dialled again on the network's schedule (the address is remembered).
    dial: addr => { network.dial(addr, true).catch(() => {}) },
    notice: message => { emitter.emit('notice', { atMs: Date.now(), message }) }
  })
  const members = new MemberCommands({
    keyPair, spaces, writes, driver, network, telemetry, joinWaits, inviteSweep, ownJoins
  })
  const ownFeeds = new OwnFeedWatch(me)
  const leave = new SpaceLeave({
    me, spaces, deployment, folders, writes, driver, store, forgetNonMembers, joinWaits, ownJoins, telemetry, ownFeeds
  })
  const data = new SpaceData({ spaces, writes })
  const view = new NetworkView({ keyPair, emitter, network, sessions, driver, blockLinks, telemetry, storage })
  const events = new NodeEventHandler({
    emitter,
    spaces,
    folders,
    telemetry,
    ownFeeds,
    joinWaits,
    knownPeers,
    forgetNonMembers,
    misbehaviour,
    log,
    afterJoin: space => { members.afterJoin(space) },
    ownJoins
  })
  driver.onEvent(ev => { events.handle(ev) })
  return {
    keyPair, store, storage, spaces, driver, network, folders, telemetry, misbehaviour, data, writes, members, leave,
    view, metrics, knownPeers, ownJoins
  }
}

/** Chunks served from the shared folders; a test's hostile node may answer otherwise (NodeOptions.blockAnswers). */
function blockProvider (folders: Folders, answers: BlockAnswers | undefined): BlockProvider {
  const honest = async (author: string, space: string, hash: Uint8Array): Promise<BlockServed> =>
    await folders.serve(author, space, hash)
  if (answers === undefined) return honest
  return async (author, space, hash) =>
    await answers({ author, space, hash }, async () => await honest(author, space, hash))
}

interface TelemetryHostParts {
  readonly name: string
  readonly dir: string
  readonly spaces: SpaceSet
  readonly folders: Folders
  readonly network: Network
  readonly driver: SyncDriver
  readonly blockLinks: BlockLinks
  readonly misbehaviour: MisbehaviourLog
  readonly log: NodeLog
}

type NodeTelemetryHost = NodeTelemetryInit['host']

/** What this node's status report says of it, read from its parts at each publication. */
function telemetryHost (p: TelemetryHostParts): NodeTelemetryHost {
  const sum = (m: Partial<Record<string, number>>): number => Object.values(m).reduce<number>((n, v) => n + (v ?? 0), 0)
  return {
    name: p.name,
    version: NODE_VERSION,
    startedMs: STARTED_MS,
    disks: () => [p.dir, ...p.folders.bindings().map(f => f.path)],
    // Links to members only: a stranger passing by is no link of the deployment (and its leaving no alert).
    links: () => p.network.peers().filter(peer => p.spaces.memberAnywhere(peer.peerId)).map(peer => ({
      peer: peer.peerId,
      rttMs: peer.rttMs,
      bytesIn: peer.bytesIn + peer.blockBytesIn,
      bytesOut: peer.bytesOut + peer.blockBytesOut,
      relayedBy: peer.relayedBy
    })),
    // Each space under its own name: a local name (space join --as) is this node's alone, never published.
    spaces: () => p.spaces.list().map(sp => ({
      id: sp.id,
      name: p.spaces.get(sp.id)?.genesis.name ?? sp.name,
      entries: p.spaces.get(sp.id)?.vector().reduce((n, f) => n + f.count, 0) ?? 0,
      members: sp.members
    })),
    folders: () => p.folders.list().map(f => ({
      space: f.space,
      name: p.spaces.get(f.space)?.genesis.name ?? f.name,
      state: f.status.state,
      needFiles: f.status.needFiles,
      needBytes: f.status.needBytes,
      bytesPerSecond: f.status.rateBytesPerSecond,
      conflicts: f.status.conflicts,
      errors: f.status.errors.length
    })),
    traffic: () => {
      const sync = p.driver.stats
      const blocks = p.blockLinks.counters
      return { bytesIn: sum(sync.bytesIn) + blocks.bytesIn, bytesOut: sum(sync.bytesOut) + blocks.bytesOut }
    },
    misbehaviour: () => p.misbehaviour.recent(),
    // A relayed address only through a member: what a relay names is not ours to publish otherwise.
    addrs: () => advertisedAddrs(p.network.addrs(), p.network.peerId, relay => p.spaces.memberAnywhere(relay)),
    statusMessagesIn: () => p.driver.stats.messagesIn.status ?? 0,
    alertsChanged: alerts => { p.log.alerts(alerts) },
    tickFailed: (what, err) => { p.log.tickFailed(what, err) }
  }
}

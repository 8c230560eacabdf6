import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import type { GrantableRole, Role } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { PeerIdString } from '../ids/index.ts'
import { STOP_FLUSH_MS } from '../net/index.ts'
import type { Libp2pMetrics, PeerInfo, Reachability } from '../net/index.ts'
import type { Page, SpaceReplica } from '../space/index.ts'
import type { ConflictInfo, KeepOutcome } from '../files/index.ts'
import type { AlertThresholds, NetworkMap } from '../telemetry/index.ts'
import { backupStore } from './backup.ts'
import type { BackupResult } from './backup.ts'
import { composeNode } from './compose.ts'
import type { NodeOptions, NodeParts } from './compose.ts'
import { dialGiven } from './dial.ts'
import { lockDir } from './dir-lock.ts'
import { NodeError } from './errors.ts'
import { nodeHealth } from './health.ts'
import type { NodeHealth } from './health.ts'
import type { FolderInfo } from './folders.ts'
import type { LeaveResult } from './leave.ts'
import { JOIN_WAIT_MS } from './member-commands.ts'
import type { JoinResult } from './member-commands.ts'
import type { MisbehaviourRecord } from './misbehaviour-log.ts'
import type { NetworkView, NodeStatus, SyncStatsView } from './network-view.ts'
import type { NodeEvents } from './node-events.ts'
import type { SpaceShown } from './own-joins.ts'
import type { GroupCommitStats } from './writes.ts'

export type { NodeOptions } from './compose.ts'
export type { NodeEvents } from './node-events.ts'
export type { MisbehaviourRecord } from './misbehaviour-log.ts'

/**
 * A samepage node: identity, store, spaces, the sync driver and the
 * network, composed by compose.ts. `Node.open()` locks the data directory;
 * `start()` goes on the network; `stop()` leaves it cleanly. Every
 * user-facing operation is a method here, so the API and the CLI are thin;
 * each is one line handing it to the part that owns its concern: spaces and
 * membership (member-commands.ts), kv, counters and ledger (space-data.ts),
 * folders (folders.ts), the network and telemetry (network-view.ts), backup
 * (backup.ts). Engine events are handled in node-events.ts. No method here
 * touches the sync engine: writes go through the sync driver (net/).
 */
export class Node extends EventEmitter<NodeEvents> {
  readonly dir: string
  readonly keyPair: KeyPair
  /** What peers did wrong and who was disconnected, newest last (the last 1,000; kept on disk across restarts). */
  readonly misbehaviour: MisbehaviourRecord[]
  /** libp2p's own metrics (connections, streams, bytes per protocol); the API's /metrics adds samepage's. */
  readonly metrics: Libp2pMetrics
  readonly #parts: NodeParts
  readonly #unlock: () => void
  readonly #stopFlushMs: number
  #started = false
  #misbehaviourEvents = 0
  /** Backups under way: stop() lets them finish before it closes the store they read. */
  readonly #backups = new Set<Promise<BackupResult>>()

  private constructor (opts: NodeOptions, unlock: () => void) {
    super()
    this.dir = opts.dir
    this.#unlock = unlock
    this.#stopFlushMs = opts.stopFlushMs ?? STOP_FLUSH_MS
    this.#parts = composeNode(opts, this)
    this.keyPair = this.#parts.keyPair
    this.misbehaviour = this.#parts.misbehaviour.records
    this.metrics = this.#parts.metrics
    // Counted apart from the log, which keeps only the newest records: the metric must never stop rising.
    const count = (): void => { this.#misbehaviourEvents++ }
    this.on('misbehaviour', count)
    this.on('disconnect', count)
  }

  /** Misbehaviour and disconnections since this node opened (what the log holds is bounded; this is not). */
  get misbehaviourEvents (): number { return this.#misbehaviourEvents }

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

  get peerId (): PeerIdString {
    return peerIdOf(this.keyPair.publicKey)
  }

  async start (): Promise<void> {
    const { network, members, folders, telemetry, view, store } = this.#parts
    // A killed process may have left commits in the WAL that no sync covered (peers' runs, live writes):
    // durable before the network can tell anyone this node holds them (durable-gate.ts).
    await store.synced()
    await network.start()
    this.#started = true
    members.start()
    await folders.start()
    telemetry.start()
    view.start()
  }

  async stop (): Promise<void> {
    const { network, members, folders, telemetry, view, store, driver } = this.#parts
    members.stop()
    view.stop()
    telemetry.stop()
    await folders.stop()
    this.#parts.writes.flush() // acknowledged once committed: the writes still waiting for their group are committed
    // What the node said last still reaches its peers (a leave's notice, the announcements of its last writes):
    // first what waits for a sync, then what the sessions queued, within one bound. Nothing peers send from here
    // on is taken, so they cannot keep the gate filling while it empties.
    const flushBy = AbortSignal.timeout(this.#stopFlushMs)
    if (this.#started) {
      network.quiesce()
      await driver.flushed(flushBy)
    }
    driver.stop() // no engine tick from here on, started or not: the store closes below
    if (this.#started) await network.stop(flushBy)
    this.#started = false
    this.#parts.knownPeers.flush() // no identify comes any more: the addresses learned since its last write
    await Promise.allSettled([...this.#backups])
    store.close()
    this.#unlock()
  }

  // ------------------------------------------------------------------ network

  id (): ReturnType<NetworkView['id']> { return this.#parts.view.id() }
  peers (): PeerInfo[] { return this.#parts.view.peers() }
  async dial (addr: string): Promise<void> { await dialGiven(this.#parts.network, this.id().peerId, addr) }
  /** Whether members can dial this node, and the members it holds a relay slot at (net/reachability.ts). */
  reachability (): { status: Reachability, relays: string[] } { return this.#parts.network.reachability() }
  syncStats (): SyncStatsView { return this.#parts.view.syncStats() }

  // ------------------------------------------------------------------ spaces and membership

  createSpace (name: string): { id: string, name: string } { return this.#parts.members.createSpace(name) }
  spaces (): SpaceShown[] { return this.#parts.ownJoins.listed() }
  /** A space by id or by unique name. */
  space (ref: string): SpaceReplica { return this.#parts.spaces.byRef(ref) }
  invite (ref: string, role: GrantableRole, uses: number, expiresInMs: number): { token: string } {
    return this.#parts.members.invite(ref, role, uses, expiresInMs)
  }

  /**
   * Joins with a token and waits until the join takes effect (decision 18; see MemberCommands.join); `as`: the
   * space's name on this node (when its own is taken here).
   */
  async join (token: string, waitMs = JOIN_WAIT_MS, as?: string): Promise<JoinResult> {
    return await this.#parts.members.join(token, waitMs, as)
  }

  /**
   * This node stops holding the space (leave.ts): its folder there stops syncing (the files stay), its rows leave the
   * store; `force`: even as the last member who can invite or grant there.
   */
  async leave (ref: string, force = false): Promise<LeaveResult> { return await this.#parts.leave.leave(ref, force) }

  aclList (ref: string): { peerId: string, role: Role | null }[] { return this.#parts.members.aclList(ref) }
  grant (ref: string, peer: string, role: GrantableRole): void { this.#parts.members.grant(ref, peer, role) }
  revoke (ref: string, peer: string): void { this.#parts.members.revoke(ref, peer) }

  // ------------------------------------------------------------------ kv, counters, ledger

  kvPut (ref: string, key: string, value: unknown): void { this.#parts.data.kvPut(ref, key, value) }
  kvDel (ref: string, key: string): void { this.#parts.data.kvDel(ref, key) }
  kvGet (ref: string, key: string): { key: string, value: unknown } { return this.#parts.data.kvGet(ref, key) }
  kvList (ref: string): { key: string, value: unknown }[] { return this.#parts.data.kvList(ref) }
  counterAdd (ref: string, name: string, delta: number): void { this.#parts.data.counterAdd(ref, name, delta) }
  counterGet (ref: string, name: string): { name: string, value: number | bigint } {
    return this.#parts.data.counterGet(ref, name)
  }

  ledgerAppend (ref: string, tx: unknown): void { this.#parts.data.ledgerAppend(ref, tx) }
  ledgerList (ref: string): unknown[] { return this.#parts.data.ledgerList(ref) }
  /** A page of kv rows: `after` is the `next` of the page before (absent: the first), `limit` 1..PAGE_ROWS_MAX. */
  kvPage (ref: string, after: string | undefined, limit: number): Page<{ key: string, value: unknown }> {
    return this.#parts.data.kvPage(ref, after, limit)
  }

  ledgerPage (ref: string, after: string | undefined, limit: number): Page<unknown> {
    return this.#parts.data.ledgerPage(ref, after, limit)
  }

  // The same writes through the group commit (writes.ts): resolved once committed with the others of their turn.
  async kvPutGrouped (ref: string, key: string, value: unknown): Promise<void> {
    await this.#parts.data.kvPutGrouped(ref, key, value)
  }

  async kvDelGrouped (ref: string, key: string): Promise<void> { await this.#parts.data.kvDelGrouped(ref, key) }
  async counterAddGrouped (ref: string, name: string, delta: number): Promise<void> {
    await this.#parts.data.counterAddGrouped(ref, name, delta)
  }

  async ledgerAppendGrouped (ref: string, tx: unknown): Promise<void> {
    await this.#parts.data.ledgerAppendGrouped(ref, tx)
  }

  /** What the group commits of live writes did since start: commits (one fsync each), writes acknowledged, refused. */
  writeStats (): GroupCommitStats { return { ...this.#parts.writes.stats } }

  // ------------------------------------------------------------------ folders

  /**
   * Binds a space to a local directory (created by the user) and syncs it; modes: send-receive, send-only,
   * receive-only.
   */
  async folderAdd (ref: string, dir: string, mode = 'send-receive'): Promise<FolderInfo> {
    return await this.#parts.folders.add(this.space(ref), dir, mode, authorKeyOf(this.keyPair.publicKey))
  }

  /** Stops syncing the space's folder on this node; its files stay where they are. */
  async folderRemove (ref: string): Promise<{ space: string, path: string }> {
    const b = await this.#parts.folders.remove(this.space(ref).key)
    return { space: b.space, path: b.path }
  }

  folderList (): FolderInfo[] {
    return this.#parts.folders.list()
  }

  folderStatus (ref: string): FolderInfo {
    const replica = this.space(ref)
    const info = this.#parts.folders.get(replica.key)
    if (info === undefined) {
      const name = replica.genesis.name
      const hint = `samepage folder add ${name} PATH`
      throw new NodeError('NO_FOLDER', `space ${name} is not bound to a folder on this node; ${hint}`)
    }
    return info
  }

  conflicts (ref: string): ConflictInfo[] {
    return this.#parts.folders.conflicts(this.folderStatus(ref).space)
  }

  /** Ends the conflict at `filePath` keeping the version `keep` names (an id, or a copy, as conflicts() lists them). */
  async conflictKeep (ref: string, filePath: string, keep: string): Promise<KeepOutcome> {
    return await this.#parts.folders.keep(this.folderStatus(ref).space, filePath, keep)
  }

  /** One folder pass now, resolved when done (for programs and tests that want to wait for it). */
  async folderSync (ref: string): Promise<FolderInfo> {
    const info = this.folderStatus(ref)
    await this.#parts.folders.syncNow(info.space)
    return this.folderStatus(ref)
  }

  /** Receive-only: puts back the space's version of every file changed or deleted here; the folder as it is after. */
  async folderRevert (ref: string): Promise<FolderInfo> {
    return await this.#parts.folders.revert(this.folderStatus(ref).space)
  }

  // ------------------------------------------------------------------ backup

  /** An online backup of the store to `file` (absolute, new, outside the data directory and shared folders). */
  async backup (file: string): Promise<BackupResult> {
    const job = backupStore(this.#parts.store, this.dir, this.#parts.folders.list().map(f => f.path), file)
    this.#backups.add(job)
    try {
      return await job
    } finally {
      this.#backups.delete(job)
    }
  }

  // ------------------------------------------------------------------ telemetry

  /** The whole network from the newest status record of every node of the deployment. */
  network (): NetworkMap { return this.#parts.view.network() }
  /**
   * This node as every other node sees it (its last published report), and the network in numbers (from `map` when
   * the caller has one).
   */
  status (map?: NetworkMap): NodeStatus { return this.#parts.view.status(map) }
  /** Open alerts of every node that is up, newest first. */
  alerts (map?: NetworkMap): NetworkMap['alerts'] { return this.#parts.view.alerts(map) }
  alertThresholds (): AlertThresholds { return this.#parts.view.alertThresholds() }
  /** ok, degraded (an alert of this node is open) or failing (its store takes no writes): health.ts. */
  health (): NodeHealth { return nodeHealth(this.#parts) }
  /** Chunk bytes sent and received over the block protocol since start. */
  blockStats (): { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number, changed: number } {
    return this.#parts.view.blockStats()
  }
}

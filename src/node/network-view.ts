import type { EventEmitter } from 'node:events'
import { peerIdOf } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { PeerIdString } from '../ids/index.ts'
import type { BlockLinks, Network, PeerInfo, Reachability, SessionTable, SyncDriver } from '../net/index.ts'
import type { SyncStats } from '../sync/index.ts'
import type { AlertReport, AlertThresholds, NetworkMap, NodeReport } from '../telemetry/index.ts'
import type { NodeEvents } from './node-events.ts'
import type { StorageHealth } from './storage-health.ts'
import type { NodeTelemetry } from './telemetry.ts'

/**
 * How often the map is looked at for nodes that went silent (a death sends nothing), and the most often a `network`
 * event goes out.
 */
const NETWORK_WATCH_MS = 1000

interface NetworkViewInit {
  readonly keyPair: KeyPair
  readonly emitter: EventEmitter<NodeEvents>
  readonly network: Network
  readonly sessions: SessionTable
  readonly driver: SyncDriver
  readonly blockLinks: BlockLinks
  readonly telemetry: NodeTelemetry
  readonly storage: StorageHealth
}

export interface NodeStatus {
  peerId: string
  name: string
  periodMs: number
  report: NodeReport | null
  alerts: readonly AlertReport[]
  network: NetworkMap['summary']
  deployment: string[]
  /** Whether members can dial this node, and the members it holds a relay slot at (net/reachability.ts). */
  reachability: { status: Reachability, relays: string[] }
}

export type SyncStatsView = Omit<SyncStats, 'count'> & {
  holding: ReturnType<SyncDriver['holdings']> & { queuedBytes: number }
}

/**
 * What the user reads of the network: this node's id and addresses, its
 * peers, the traffic counters of sync and of blocks, the deployment's map,
 * status and alerts; and the `network` event when the map changes. Reads
 * only: never writes an entry or touches the engine's state.
 */
export class NetworkView {
  readonly #init: NetworkViewInit
  #watch: NodeJS.Timeout | undefined
  #shape = ''

  constructor (init: NetworkViewInit) {
    this.#init = init
  }

  get peerId (): PeerIdString {
    return peerIdOf(this.#init.keyPair.publicKey)
  }

  start (): void {
    this.#watch = setInterval(() => { this.#watchNetwork() }, NETWORK_WATCH_MS)
    this.#watch.unref()
  }

  stop (): void {
    clearInterval(this.#watch)
  }

  /** Who this node is, where members reach it (relayed addresses too), whether they can dial it (reachability.ts). */
  id (): { peerId: string, addrs: string[], reachability: { status: Reachability, relays: string[] } } {
    return { peerId: this.peerId, addrs: this.#init.network.addrs(), reachability: this.#init.network.reachability() }
  }

  peers (): PeerInfo[] {
    return this.#init.network.peers()
  }

  /**
   * The sync engine's traffic counters since start (messages and bytes by
   * type, payload copies, duplicates), and what peers make it hold now
   * (pending entries and bytes, claims, bytes queued to send: decision 17).
   */
  syncStats (): SyncStatsView {
    const { sessions, driver } = this.#init
    const { count: _, ...counters } = driver.stats
    let queuedBytes = 0
    for (const author of sessions.connectedAuthors()) queuedBytes += sessions.queuedBytes(author)
    return { ...structuredClone(counters), holding: { ...driver.holdings(), queuedBytes } }
  }

  /** Chunk bytes sent and received over the block protocol since start. */
  blockStats (): { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number, changed: number } {
    return { ...this.#init.blockLinks.counters }
  }

  /** The whole network from the newest status record of every node of the deployment. */
  network (): NetworkMap {
    return this.#init.telemetry.network(Date.now())
  }

  /**
   * This node as every other node sees it (its last published report), and the network in numbers (from `map` when
   * the caller has one).
   */
  status (map: NetworkMap = this.network()): NodeStatus {
    const { telemetry, storage } = this.#init
    const self = map.nodes.find(n => n.self)
    return {
      peerId: this.peerId,
      name: self?.name ?? '',
      periodMs: telemetry.periodMs,
      report: self?.report ?? null,
      alerts: [...telemetry.alerts, ...storage.alerts()],
      network: map.summary,
      deployment: [...telemetry.deployment.keys],
      reachability: this.#init.network.reachability()
    }
  }

  /** Open alerts of every node that is up, newest first. */
  alerts (map: NetworkMap = this.network()): NetworkMap['alerts'] {
    // This node's store failing is said here even when its status record, which would carry it, cannot be written.
    const name = map.nodes.find(n => n.self)?.name ?? ''
    const own = this.#init.storage.alerts().map(a => ({ ...a, peerId: this.peerId, name }))
    return [...map.alerts, ...own].sort((a, b) => b.sinceMs - a.sinceMs)
  }

  alertThresholds (): AlertThresholds {
    return this.#init.telemetry.thresholds
  }

  /** Emits `network` when who is up, or what they said, changed since the last look. */
  #watchNetwork (): void {
    if (this.#init.emitter.listenerCount('network') === 0) return
    const map = this.network()
    const shape = map.nodes.map(n => `${n.peerId}:${n.health}:${n.lastSeenMs ?? 0}`).join(',')
    if (shape === this.#shape) return
    this.#shape = shape
    this.#init.emitter.emit('network', { atMs: map.atMs, summary: map.summary })
  }
}

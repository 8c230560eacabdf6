import { SpaceReplica } from '../../src/space/index.ts'
import { SyncEngine } from '../../src/sync/index.ts'
import type { Outbound, SyncEvent } from '../../src/sync/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { EventQueue } from './event-queue.ts'
import { Random } from './random.ts'
import { authorKeyOf } from '../../src/ids/index.ts'

/**
 * A deterministic network of virtual nodes running the real sync/ and
 * space/ code. One seeded Random, one virtual clock, one event queue.
 *
 * A link delivers in order or breaks, as a TCP stream does: each direction
 * has a latency and jitter, arrivals never overtake each other, and a break
 * loses everything in flight (a generation counter tells stale deliveries).
 * Nodes stop and restart from their store (churn); partitions cut every link
 * that crosses them until healed.
 */
export class SimNode {
  readonly index: number
  readonly name: AuthorKey
  readonly keyPair: KeyPair
  readonly store: MemoryStore
  readonly replicas = new Map<SpaceKey, SpaceReplica>()
  engine: SyncEngine | null = null
  tickAt: number | null = null
  readonly events: SyncEvent[] = []
  restarts = 0

  constructor (index: number, keyPair: KeyPair, store = new MemoryStore()) {
    this.index = index
    this.keyPair = keyPair
    this.store = store
    this.name = authorKeyOf(keyPair.publicKey)
  }

  get online (): boolean {
    return this.engine !== null
  }

  /** Starts (or restarts) from what the store holds: the replicas are reopened, nothing in memory survives. */
  start (nowMs: number): void {
    this.replicas.clear()
    for (const key of this.store.spaces()) this.replicas.set(key, SpaceReplica.open(this.store, key))
    const replicas = this.replicas
    this.engine = new SyncEngine({ keyPair: this.keyPair, spaces: { get: k => replicas.get(k), all: () => replicas.values() } })
    this.tickAt = null
  }

  stop (): void {
    this.engine = null
    this.tickAt = null
  }

  replica (key: SpaceKey): SpaceReplica {
    const r = this.replicas.get(key)
    if (r === undefined) throw new Error(`node ${this.index} holds no space ${key}`)
    return r
  }
}

export interface Link {
  readonly a: SimNode
  readonly b: SimNode
  readonly latencyMs: number
  readonly jitterMs: number
  up: boolean
  /** False while a failure keeps the link down; it comes back by itself when true and allowed. */
  wanted: boolean
  generation: number
  lastArrivalAb: number
  lastArrivalBa: number
}

type SimEvent =
  | { readonly atMs: number, readonly order: number, readonly kind: 'deliver', readonly link: Link, readonly from: SimNode, readonly to: SimNode, readonly bytes: Uint8Array, readonly type: string, readonly generation: number }
  | { readonly atMs: number, readonly order: number, readonly kind: 'tick', readonly node: SimNode }
  | { readonly atMs: number, readonly order: number, readonly kind: 'action', readonly run: () => void }

export interface TrafficStats {
  messages: number
  bytes: number
  lostInFlight: number
  byType: Record<string, { messages: number, bytes: number }>
}

export class SimNetwork {
  nowMs = 0
  readonly rng: Random
  readonly nodes: SimNode[] = []
  readonly links: Link[] = []
  readonly traffic: TrafficStats = { messages: 0, bytes: 0, lostInFlight: 0, byType: {} }
  #partition: ((a: SimNode, b: SimNode) => boolean) | null = null
  readonly #queue = new EventQueue<SimEvent>()
  #order = 0
  eventsRun = 0

  constructor (seed: number) {
    this.rng = new Random(seed)
  }

  addNode (keyPair: KeyPair, store?: MemoryStore): SimNode {
    const node = new SimNode(this.nodes.length, keyPair, store)
    this.nodes.push(node)
    return node
  }

  addLink (a: SimNode, b: SimNode, latencyMs: number, jitterMs: number): Link {
    const link: Link = { a, b, latencyMs, jitterMs, up: false, wanted: true, generation: 0, lastArrivalAb: 0, lastArrivalBa: 0 }
    this.links.push(link)
    return link
  }

  linksOf (node: SimNode): Link[] {
    return this.links.filter(l => l.a === node || l.b === node)
  }

  at (atMs: number, run: () => void): void {
    this.#queue.push({ atMs: Math.max(atMs, this.nowMs), order: this.#order++, kind: 'action', run })
  }

  /** Brings a link up if it is wanted, both ends are online, no partition separates them and neither refuses the other. */
  tryUp (link: Link): void {
    if (link.up || !link.wanted || link.a.engine === null || link.b.engine === null) return
    if (this.#partition?.(link.a, link.b) === true) return
    const okA = link.a.engine.connect(link.b.name, this.nowMs)
    const okB = link.b.engine.connect(link.a.name, this.nowMs)
    if (!okA || !okB) {
      link.a.engine.disconnect(link.b.name, this.nowMs)
      link.b.engine.disconnect(link.a.name, this.nowMs)
      return
    }
    link.up = true
    link.generation++
    link.lastArrivalAb = link.lastArrivalBa = this.nowMs
    this.pump(link.a)
    this.pump(link.b)
  }

  /** Breaks a link: what was in flight is lost, both ends see the disconnect. */
  down (link: Link): void {
    if (!link.up) return
    link.up = false
    link.generation++
    link.a.engine?.disconnect(link.b.name, this.nowMs)
    link.b.engine?.disconnect(link.a.name, this.nowMs)
    if (link.a.engine !== null) this.pump(link.a)
    if (link.b.engine !== null) this.pump(link.b)
  }

  /** A failure: the link breaks now and is repaired after `forMs`. */
  fail (link: Link, forMs: number): void {
    link.wanted = false
    this.down(link)
    this.at(this.nowMs + forMs, () => { link.wanted = true; this.tryUp(link) })
  }

  partition (separated: (a: SimNode, b: SimNode) => boolean): void {
    this.#partition = separated
    for (const link of this.links) if (separated(link.a, link.b)) this.down(link)
  }

  heal (): void {
    this.#partition = null
    for (const link of this.links) this.tryUp(link)
  }

  stopNode (node: SimNode): void {
    for (const link of this.linksOf(node)) this.down(link)
    node.stop()
  }

  startNode (node: SimNode): void {
    node.start(this.nowMs)
    node.restarts++
    for (const link of this.linksOf(node)) this.tryUp(link)
  }

  /** Sends raw bytes on a link, bypassing the sender's engine (Byzantine nodes). */
  sendRaw (from: SimNode, to: SimNode, bytes: Uint8Array, type = 'raw'): void {
    const link = this.links.find(l => (l.a === from && l.b === to) || (l.a === to && l.b === from))
    if (link === undefined || !link.up) return
    this.#schedule(link, from, to, bytes, type)
  }

  /** Moves a node's output onto its links and keeps its next tick scheduled. */
  pump (node: SimNode): void {
    const engine = node.engine
    if (engine === null) return
    const outbound: Outbound[] = engine.drain()
    for (const out of outbound) {
      const link = this.links.find(l => (l.a === node && l.b.name === out.peer) || (l.b === node && l.a.name === out.peer))
      if (link === undefined || !link.up) continue
      this.#schedule(link, node, link.a === node ? link.b : link.a, out.bytes, out.type)
    }
    for (const ev of engine.events()) {
      node.events.push(ev)
      if (ev.type === 'disconnect') {
        const link = this.links.find(l => (l.a === node && l.b.name === ev.peer) || (l.b === node && l.a.name === ev.peer))
        if (link !== undefined) this.down(link)
      }
    }
    const deadline = engine.nextDeadline()
    if (deadline !== null && (node.tickAt === null || deadline < node.tickAt)) {
      node.tickAt = Math.max(deadline, this.nowMs)
      this.#queue.push({ atMs: node.tickAt, order: this.#order++, kind: 'tick', node })
    }
  }

  /** Runs events up to `untilMs` (bounded by `maxEvents`, so a livelock fails instead of hanging). */
  runUntil (untilMs: number, maxEvents = 20_000_000): void {
    for (;;) {
      const next = this.#queue.peek()
      if (next === undefined || next.atMs > untilMs) break
      this.#queue.pop()
      if (++this.eventsRun > maxEvents) throw new Error(`simulation did not settle within ${maxEvents} events`)
      this.nowMs = next.atMs
      this.#run(next)
    }
    this.nowMs = Math.max(this.nowMs, untilMs)
  }

  #run (ev: SimEvent): void {
    switch (ev.kind) {
      case 'action': ev.run(); return
      case 'tick': {
        const node = ev.node
        if (node.tickAt !== ev.atMs || node.engine === null) return
        node.tickAt = null
        node.engine.tick(this.nowMs)
        this.pump(node)
        return
      }
      case 'deliver': {
        if (!ev.link.up || ev.link.generation !== ev.generation) {
          this.traffic.lostInFlight++
          return
        }
        if (ev.to.engine === null) return
        ev.to.engine.receive(ev.from.name, ev.bytes, this.nowMs)
        this.pump(ev.to)
      }
    }
  }

  #schedule (link: Link, from: SimNode, to: SimNode, bytes: Uint8Array, type: string): void {
    const forward = link.a === from
    const delay = link.latencyMs + this.rng.next() * link.jitterMs
    const last = forward ? link.lastArrivalAb : link.lastArrivalBa
    const atMs = Math.max(last, this.nowMs + delay)
    if (forward) link.lastArrivalAb = atMs
    else link.lastArrivalBa = atMs
    this.traffic.messages++
    this.traffic.bytes += bytes.length
    const t = (this.traffic.byType[type] ??= { messages: 0, bytes: 0 })
    t.messages++
    t.bytes += bytes.length
    this.#queue.push({ atMs, order: this.#order++, kind: 'deliver', link, from, to, bytes, type, generation: link.generation })
  }
}

import { SyncEngine } from '../../src/sync/index.ts'
import type { Relay, SyncEvent } from '../../src/sync/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'

/**
 * A few engines on a FIFO wire with no latency, for unit tests of the
 * protocol: messages are delivered in order until none is left (bounded),
 * and every message is recorded, so tests can count what crossed the wire.
 */
export interface Peer {
  readonly name: AuthorKey
  readonly keyPair: KeyPair
  readonly store: MemoryStore
  readonly replicas: Map<SpaceKey, SpaceReplica>
  readonly engine: SyncEngine
  readonly events: SyncEvent[]
}

export interface Sent { readonly from: AuthorKey, readonly to: AuthorKey, readonly type: string, readonly bytes: Uint8Array }

export class Wire {
  nowMs: number
  readonly peers = new Map<AuthorKey, Peer>()
  readonly sent: Sent[] = []
  /** Links whose messages are silently not delivered (a peer that does not answer). */
  readonly muted = new Set<string>()
  /** `from>to:type` of messages held back until release() (a slow peer whose answer comes late). */
  readonly holding = new Set<string>()
  readonly #held: Sent[] = []
  #queue: Sent[] = []

  constructor (nowMs: number) {
    this.nowMs = nowMs
  }

  /** A peer on the wire; `relay` injects how its engine relays new entries (absent: the protocol's). */
  add (keyPair: KeyPair, store = new MemoryStore(), relay?: Relay): Peer {
    const replicas = new Map<SpaceKey, SpaceReplica>()
    for (const key of store.spaces()) replicas.set(key, SpaceReplica.open(store, key))
    const engine = new SyncEngine({ keyPair, spaces: { get: k => replicas.get(k), all: () => replicas.values() }, relay })
    const peer: Peer = { name: authorKeyOf(keyPair.publicKey), keyPair, store, replicas, engine, events: [] }
    this.peers.set(peer.name, peer)
    return peer
  }

  connect (a: Peer, b: Peer): boolean {
    const ok = a.engine.connect(b.name, this.nowMs) && b.engine.connect(a.name, this.nowMs)
    this.flush()
    return ok
  }

  /** Raw bytes from `from` to `to`, as a hostile peer would send them. */
  inject (from: Peer, to: Peer, bytes: Uint8Array, type = 'raw'): void {
    this.#queue.push({ from: from.name, to: to.name, type, bytes })
    this.flush()
  }

  /** Moves every engine's output onto the wire and delivers until nothing is left. */
  flush (maxMessages = 1_000_000): void {
    for (let steps = 0; ; steps++) {
      for (const p of this.peers.values()) {
        for (const out of p.engine.drain()) this.#queue.push({ from: p.name, to: out.peer, type: out.type, bytes: out.bytes })
        p.events.push(...p.engine.events())
      }
      const next = this.#queue.shift()
      if (next === undefined) return
      if (steps > maxMessages) throw new Error('the wire did not go quiet')
      this.sent.push(next)
      if (this.muted.has(`${next.from}>${next.to}`)) continue
      if (this.holding.has(`${next.from}>${next.to}:${next.type}`)) { this.#held.push(next); continue }
      this.peers.get(next.to)?.engine.receive(next.from, next.bytes, this.nowMs)
    }
  }

  release (): void {
    this.holding.clear()
    this.#queue.push(...this.#held.splice(0))
    this.flush()
  }

  /** Advances the clock and runs every engine's timers. */
  advance (ms: number): void {
    this.nowMs += ms
    for (const p of this.peers.values()) p.engine.tick(this.nowMs)
    this.flush()
  }

  count (type: string, to?: Peer, from?: Peer): number {
    return this.sent.filter(s => s.type === type && (to === undefined || s.to === to.name) && (from === undefined || s.from === from.name)).length
  }
}

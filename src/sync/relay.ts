import { bytesEqual, FEEDS_PER_MESSAGE_MAX } from '../codec/index.ts'
import type { Entry, FeedRow } from '../codec/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { feedKey, parseFeedKey } from './keys.ts'
import type { FeedKey } from './keys.ts'
import type { Send } from './types.ts'

/** A member neighbour sharing the space that new entries came to (not the one they came from). */
export interface RelayNeighbour {
  readonly peer: AuthorKey
  /** How far it holds each feed, as far as we know. */
  readonly known: ReadonlyMap<FeedKey, number>
}

/**
 * How new entries travel to neighbours. The protocol is AnnounceRelay (the
 * default); a benchmark may inject another (bench/flood-relay.ts, naive
 * flooding) to measure the protocol against.
 */
export interface Relay {
  /**
   * Whether this relay pushes entries nobody asked for: then a neighbour's
   * replays and message rate are the strategy at work, not charged.
   */
  readonly pushes: boolean
  /** Entries were stored (from a peer or written here): what to send, now or at flush(). */
  stored (replica: SpaceReplica, entries: readonly Entry[], neighbours: readonly RelayNeighbour[]): Send[]
  /** drain() is about to encode: what was held back to batch. */
  flush (): Send[]
  peerGone (peer: AuthorKey): void
  /** The node left `space`: nothing more of it is announced (absent: the relay holds nothing back per space). */
  spaceGone? (space: SpaceKey): void
}

/** Heads to announce in one space: its wire id and the newest row of each feed. */
interface Heads { readonly id: Uint8Array, readonly rows: Map<FeedKey, FeedRow> }

/**
 * Announce and pull: after storing anything, a node announces new heads
 * (`have`) to member neighbours that do not hold them; a neighbour that
 * lacks them pulls once (pulls.ts). Heads are batched until drain(), so a
 * burst of writes to one feed costs one announcement per neighbour.
 */
export class AnnounceRelay implements Relay {
  readonly pushes = false
  /** Per neighbour and space: the newest row of each feed to announce at flush(). */
  readonly #haves = new Map<AuthorKey, Map<SpaceKey, Heads>>()

  stored (replica: SpaceReplica, entries: readonly Entry[], neighbours: readonly RelayNeighbour[]): Send[] {
    // A run is one feed's: its key is made once per change of feed, not per entry (hex per entry showed in catch-up).
    const feeds = new Set<FeedKey>()
    let last: Entry | undefined
    for (const e of entries) {
      if (last !== undefined && e.epoch === last.epoch && bytesEqual(e.author, last.author)) continue
      feeds.add(feedKey(authorKeyOf(e.author), e.epoch))
      last = e
    }
    for (const fk of feeds) {
      const { author, epoch } = parseFeedKey(fk)
      const row = replica.feedRow(author, epoch)
      if (row === undefined || row.count === 0) continue
      for (const n of neighbours) {
        if ((n.known.get(fk) ?? 0) >= row.count) continue
        let bySpace = this.#haves.get(n.peer)
        if (bySpace === undefined) this.#haves.set(n.peer, bySpace = new Map())
        let held = bySpace.get(replica.key)
        if (held === undefined) bySpace.set(replica.key, held = { id: replica.id, rows: new Map() })
        held.rows.set(fk, row)
      }
    }
    return []
  }

  flush (): Send[] {
    const out: Send[] = []
    for (const [peer, bySpace] of this.#haves) {
      for (const { id, rows } of bySpace.values()) {
        const heads = [...rows.values()]
        for (let i = 0; i < heads.length; i += FEEDS_PER_MESSAGE_MAX) {
          out.push({ peer, msg: { m: 'have', space: id, heads: heads.slice(i, i + FEEDS_PER_MESSAGE_MAX) } })
        }
      }
    }
    this.#haves.clear()
    return out
  }

  peerGone (peer: AuthorKey): void {
    this.#haves.delete(peer)
  }

  spaceGone (space: SpaceKey): void {
    for (const bySpace of this.#haves.values()) bySpace.delete(space)
  }
}

import type { Connection, Stream } from '@libp2p/interface'
import { DIAL_TIMEOUT_MS } from './constants.ts'
import { BLOCK_LINKS_PER_PEER, BLOCK_PROTOCOL, serveBlocks } from './blocks.ts'
import { BlockLink } from './block-link.ts'
import type { BlockCounters, BlockProvider } from './blocks.ts'
import { RateLimit } from './rate-limit.ts'
import { RUN_ON_RELAY } from './relay.ts'
import { tlsBarrier } from './served-gone.ts'
import type { SessionTable } from './sessions.ts'

interface BlockLinksInit {
  readonly sessions: SessionTable
  /** --max-up / --max-down: bytes per second of file chunks, all peers together (0 or absent: no limit). */
  readonly maxUpBytesPerSecond?: number
  readonly maxDownBytesPerSecond?: number
  /** A peer broke the block protocol on a link of ours (bytes nobody asked for): charged by the sync engine. */
  readonly onViolation?: (author: string, what: string) => void
}

/**
 * The block protocol's side of the network: the streams this node opens to
 * ask peers for chunks (a few per peer, over the connection of the peer's
 * sync session), the streams it serves, the rate limits of both directions
 * and their byte counters, in all and per peer. Knows nothing of folders:
 * what to serve is the provider's decision.
 */
export class BlockLinks {
  readonly #sessions: SessionTable
  /** Per peer, the block streams opened so far (BLOCK_LINKS_PER_PEER at most). */
  readonly #links = new Map<string, Promise<BlockLink>[]>()
  readonly #dead = new WeakSet<Promise<BlockLink>>()
  readonly #up: RateLimit
  readonly #down: RateLimit
  readonly #onViolation: (author: string, what: string) => void
  readonly counters: BlockCounters = emptyCounters()
  /** The same, per peer (author key): what its links carried (for link rates in status reports). */
  readonly #perPeer = new Map<string, BlockCounters>()

  constructor (init: BlockLinksInit) {
    this.#sessions = init.sessions
    this.#up = new RateLimit(init.maxUpBytesPerSecond)
    this.#down = new RateLimit(init.maxDownBytesPerSecond)
    this.#onViolation = init.onViolation ?? (() => {})
  }

  /** What `author`'s links carried so far (absent: nothing yet, or forgotten). */
  countersOf (author: string): BlockCounters | undefined {
    return this.#perPeer.get(author)
  }

  /** Serves one inbound block stream of `author` (over `connection`) from `provider`, within the upload limit. */
  serve (stream: Stream, author: string, provider: BlockProvider, connection?: Connection): void {
    void serveBlocks(stream, author, provider, this.#up, this.#countersOf(author), tlsBarrier(connection))
  }

  /**
   * A stream for asking `author` for chunks: a few per peer, opened on first
   * use and kept while they work, the least busy one given each request
   * (several streams keep more bytes in flight than one stream's window).
   */
  async open (author: string): Promise<BlockLink> {
    const links = (this.#links.get(author) ?? []).filter(p => !this.#dead.has(p))
    this.#links.set(author, links)
    if (links.length < BLOCK_LINKS_PER_PEER) {
      const session = this.#sessions.get(author)
      if (session === undefined || session.closed) throw new Error('not connected')
      const opening = session.connection.newStream(BLOCK_PROTOCOL, {
        signal: AbortSignal.timeout(DIAL_TIMEOUT_MS), ...RUN_ON_RELAY
      })
        // For BlockFetch, which gives its received buffers back.
        .then(stream => new BlockLink(stream, this.#down, this.#countersOf(author), violation => {
          this.#dead.add(opening)
          if (violation !== null) this.#onViolation(author, violation)
        }, true))
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

  /** `author`'s sync session ended: its links go with it. */
  closePeer (author: string): void {
    for (const link of this.#links.get(author) ?? []) void link.then(l => { l.close() }, () => {})
    this.#links.delete(author)
  }

  /** A stranger left: nothing of it stays (decision 17). */
  forget (author: string): void {
    this.#perPeer.delete(author)
  }

  closeAll (): void {
    for (const links of this.#links.values()) for (const link of links) void link.then(l => { l.close() }, () => {})
  }

  /**
   * Counters that add to this peer's and to the node's totals at once: the
   * block protocol updates one object (`counters.bytesIn += n`), and both
   * see it.
   */
  #countersOf (author: string): BlockCounters {
    let peer = this.#perPeer.get(author)
    if (peer === undefined) this.#perPeer.set(author, peer = emptyCounters())
    const total = this.counters
    const both = {} as BlockCounters
    for (const k of ['bytesIn', 'bytesOut', 'blocksIn', 'blocksOut', 'cancelled', 'changed'] as const) {
      const own = peer
      Object.defineProperty(both, k, { get: () => own[k], set: (v: number) => { total[k] += v - own[k]; own[k] = v } })
    }
    return both
  }
}

function emptyCounters (): BlockCounters {
  return { bytesIn: 0, bytesOut: 0, blocksIn: 0, blocksOut: 0, cancelled: 0, changed: 0 }
}

/**
 * The block scheduler: which chunk to ask of which peer, and when. Pure
 * logic (no I/O, no clock of its own): the caller says what is wanted, who
 * holds what, what arrived and what time it is; `poll()` says what to send.
 *
 *   handle:  want(blocks) · has(peer, hashes) · addPeer · removePeer ·
 *            received(peer, hash, valid) · refused(peer, hash) · tick()
 *   poll:    poll() -> requests, cancels, penalties, drops · nextDeadline()
 *
 * The policy, in order of what matters:
 *   1. Fastest peers first. Each peer's rate is measured from its own
 *      deliveries (bytes over the time it was busy, smoothed); pipelines are
 *      filled fastest peer first, so the fastest peers get the first pick.
 *   2. Pipelined requests. A peer is kept `pipelineMs` of work ahead at its
 *      measured rate (its bandwidth-delay product), between pipelineMin and
 *      pipelineMax requests, so no peer idles waiting for our next request.
 *   3. Rarest first among what the peer holds, looking at a bounded number of
 *      candidates in wanted order (so the cost per pick is bounded, and
 *      blocks of equal rarity go in file order).
 *   4. Endgame. Once nothing is left unassigned, an idle peer also asks for
 *      blocks already in flight elsewhere (the one expected last first, at
 *      most endgameCopiesMax copies); the first valid copy cancels the rest,
 *      so a slow peer never holds the last piece.
 *   5. Distrust. A block whose bytes do not match its hash is the sender's
 *      fault: it is penalized and dropped, and what it had in flight goes to
 *      the others. A request unanswered past its deadline (4 × its queue at
 *      the peer's rate, at least `stallMs`) stalls its peer: dropped without
 *      blame, its work to the others. A dropped peer is asked nothing more
 *      (by this scheduler: one pass); a block no peer left holds is an
 *      orphan the caller gives up on, so a transfer always ends.
 *   6. Rest. A peer is taken to hold what its space's records say is there;
 *      one that answers "I do not have it" twice in a row rests for a while
 *      (100 ms, doubling up to 3 s; a delivery ends it): it is asked only for
 *      blocks no peer awake holds. Fellow receivers of a file hold none of it
 *      until they finish: asked for every block, each one cost a round trip
 *      and a refusal (~3,000 per receiver in the bench's fan-out of 1 GiB to
 *      3). A block only resting peers hold is still asked of them at once, so
 *      a transfer whose holders have all moved on fails as fast as before.
 *
 * The rarest-first bookkeeping is unassigned.ts; a peer's rate and timing, peer-state.ts.
 */
import { expectedAtMs, measureDelivery, newPeer, noteRefusal, stallAfterMs } from './peer-state.ts'
import type { PeerState } from './peer-state.ts'
import { Unassigned } from './unassigned.ts'

export interface BlockRef {
  /** Hex SHA-256 of the block's bytes. */
  readonly hash: string
  readonly size: number
}

export interface SchedulerOptions {
  readonly pipelineMin?: number
  readonly pipelineMax?: number
  /** How much work, in time at the peer's measured rate, to keep queued at each peer. */
  readonly pipelineMs?: number
  /** The least time a request may wait unanswered before its peer counts as stalled (whatever its measured rate). */
  readonly stallMs?: number
  readonly endgameCopiesMax?: number
  /** Candidates looked at per pick for rarest-first. */
  readonly scanMax?: number
}

export type SchedulerAction =
  | { readonly type: 'request', readonly peer: string, readonly hash: string }
  | { readonly type: 'cancel', readonly peer: string, readonly hash: string }
  | { readonly type: 'penalize', readonly peer: string, readonly reason: string }
  /** The peer is asked nothing more: it sent a corrupt block (and is penalized too), or it stalled (no blame). */
  | { readonly type: 'drop', readonly peer: string, readonly reason: string, readonly cause: 'corrupt' | 'stalled' }

interface PeerProgress {
  readonly peer: string
  readonly rateBytesPerSecond: number | null
  readonly inFlight: number
  readonly blocksReceived: number
  readonly bytesReceived: number
}

export interface SchedulerProgress {
  readonly blocksWanted: number
  readonly bytesWanted: number
  readonly blocksInFlight: number
  /** Wanted and asked of no one yet. */
  readonly blocksUnassigned: number
  readonly duplicateBlocks: number
  readonly peers: readonly PeerProgress[]
}

/** Candidates a resting peer's pick looks at per group (the rest of a group comes up as its head is assigned). */
const RESTING_SCAN_MAX = 16

const DEFAULTS = {
  pipelineMin: 2, pipelineMax: 64, pipelineMs: 200, stallMs: 30_000, endgameCopiesMax: 2, scanMax: 256
}

export class BlockScheduler {
  readonly #opts: typeof DEFAULTS
  /** Wanted and not yet received, in wanted order. */
  readonly #wanted = new Map<string, BlockRef>()
  /** Wanted blocks no peer has been asked for yet, by how many peers hold them. */
  readonly #unassigned = new Unassigned()
  /** Per wanted block: the peers asked for it. */
  readonly #askedOf = new Map<string, Set<string>>()
  readonly #peers = new Map<string, PeerState>()
  /** Peers dropped (corrupt or stalled): never added again. */
  readonly #dropped = new Set<string>()
  #actions: SchedulerAction[] = []
  #duplicates = 0

  constructor (opts: SchedulerOptions = {}) {
    this.#opts = { ...DEFAULTS, ...opts }
  }

  want (blocks: readonly BlockRef[]): void {
    for (const b of blocks) {
      if (this.#wanted.has(b.hash)) continue
      this.#wanted.set(b.hash, b)
      let n = 0
      for (const p of this.#peers.values()) if (p.holds.has(b.hash)) n++
      this.#unassigned.track(b.hash, n)
    }
  }

  addPeer (peer: string, nowMs: number): void {
    if (this.#peers.has(peer) || this.#dropped.has(peer)) return
    this.#peers.set(peer, newPeer(peer, nowMs))
  }

  /** The peer holds these blocks (from its file records, or its own announcement). */
  has (peer: string, hashes: Iterable<string>, nowMs: number): void {
    this.addPeer(peer, nowMs)
    const p = this.#peers.get(peer)
    if (p === undefined) return // dropped
    for (const h of hashes) {
      if (p.holds.has(h)) continue
      p.holds.add(h)
      this.#unassigned.countHolder(h, +1)
    }
  }

  /** It left or stopped: what it had in flight is asked of others. */
  removePeer (peer: string): void {
    const p = this.#peers.get(peer)
    if (p === undefined) return
    this.#peers.delete(peer)
    for (const h of p.holds) this.#unassigned.countHolder(h, -1)
    for (const h of p.inFlight.keys()) this.#unask(h, peer)
  }

  /**
   * A block arrived from `peer`; `valid` says whether its bytes hashed to its
   * name (the caller checks, before writing it anywhere).
   */
  received (peer: string, hash: string, valid: boolean, nowMs: number): void {
    const p = this.#peers.get(peer)
    if (p === undefined) return
    const askedAtMs = p.inFlight.get(hash)
    if (!valid) {
      const reason = `sent bytes that do not hash to block ${hash.slice(0, 16)}`
      this.#actions.push({ type: 'penalize', peer, reason })
      this.#drop(p, 'sent a corrupt block', 'corrupt')
      return
    }
    if (askedAtMs === undefined) return // not asked of it (a late answer to a cancel): ignored, not scored
    p.inFlight.delete(hash)
    const block = this.#wanted.get(hash)
    if (block === undefined) {
      this.#duplicates++ // an endgame copy that lost the race
      return
    }
    measureDelivery(p, askedAtMs, block.size, nowMs)
    this.#unassigned.forget(hash)
    this.#wanted.delete(hash)
    for (const other of this.#askedOf.get(hash) ?? []) {
      if (other === peer) continue
      this.#peers.get(other)?.inFlight.delete(hash)
      this.#actions.push({ type: 'cancel', peer: other, hash })
    }
    this.#askedOf.delete(hash)
  }

  /**
   * The peer says it does not have the block after all: ask another, without blame. Refusals in a row rest the peer
   * (peer-state.ts noteRefusal).
   */
  refused (peer: string, hash: string, nowMs: number): void {
    const p = this.#peers.get(peer)
    if (p === undefined || !p.inFlight.delete(hash)) return
    if (p.holds.delete(hash)) this.#unassigned.countHolder(hash, -1)
    noteRefusal(p, nowMs)
    this.#unask(hash, peer)
  }

  /**
   * A peer with a request past its deadline is stalled: dropped, without blame; what it had in flight is asked of
   * others.
   */
  tick (nowMs: number): void {
    for (const p of [...this.#peers.values()]) {
      let ahead = 0
      for (const [hash, askedAtMs] of p.inFlight) {
        ahead += this.#wanted.get(hash)?.size ?? 0
        if (askedAtMs + stallAfterMs(p, ahead, this.#opts.stallMs) > nowMs) continue
        const seconds = Math.round((nowMs - askedAtMs) / 1000)
        this.#drop(p, `stalled: no answer for block ${hash.slice(0, 16)} in ${seconds} s`, 'stalled')
        break
      }
    }
  }

  /** What to send now: requests that fill each peer's pipeline (fastest first), and the outcome of earlier inputs. */
  poll (nowMs: number): SchedulerAction[] {
    const fastestFirst = (a: PeerState, b: PeerState): number =>
      (b.rateBytesPerMs ?? Infinity) - (a.rateBytesPerMs ?? Infinity)
    const peers = [...this.#peers.values()].sort(fastestFirst)
    for (const p of peers) {
      const head = p.inFlight.keys().next()
      if (!head.done && this.#eta(p, head.value, nowMs) === Infinity) p.overdueSeen = head.value
    }
    for (const p of peers) {
      const resting = p.restUntilMs > nowMs
      if (!resting) p.restUntilMs = 0
      const depth = this.#depth(p)
      // Refilled a batch at a time, once a quarter of its pipeline is free, not one request per answer: the
      // requests of a batch travel together (one write, one read at the peer).
      if (p.inFlight.size > depth - Math.max(1, Math.floor(depth / 4))) continue
      // Resting, it is asked only what no peer awake holds: it then says at once whether it has it, so a block
      // that nobody has any more (a file that moved on at its only holder) still fails fast, and the pass with it.
      // Its look is short (RESTING_SCAN_MAX candidates, each checked against the peers awake): with many fellow
      // receivers resting, a full one would cost every poll candidates × peers × peers.
      const holds = resting ? (h: string) => p.holds.has(h) && !this.#heldAwake(h, nowMs) : p.has
      const scan = resting ? Math.min(RESTING_SCAN_MAX, this.#opts.scanMax) : this.#opts.scanMax
      while (p.inFlight.size < depth) {
        const picked = this.#unassigned.pick(holds, scan)
        const hash = picked ?? (resting ? undefined : this.#pickEndgame(p, nowMs))
        if (hash === undefined) break
        if (p.inFlight.size === 0) p.busySinceMs = nowMs
        p.inFlight.set(hash, nowMs)
        let asked = this.#askedOf.get(hash)
        if (asked === undefined) this.#askedOf.set(hash, asked = new Set())
        asked.add(p.id)
        this.#unassigned.assignable(hash, false)
        this.#actions.push({ type: 'request', peer: p.id, hash })
      }
    }
    const out = this.#actions
    this.#actions = []
    return out
  }

  /**
   * The earliest request timeout, the time a peer's next block becomes overdue (when an endgame copy may pay), or the
   * end of a peer's rest while blocks wait unassigned.
   * Called after every answer (and every chunk a writer asks for): forEach, not a for-of over the entries, which made
   * a [key, value] pair per request in flight each time (~26 MB of garbage per GiB received, sampled; a call with 64
   * in flight took 2.1 µs, forEach 1.9 µs, and 17× fewer young collections).
   */
  nextDeadline (): number | null {
    let next: number | null = null
    for (const p of this.#peers.values()) {
      const restEnds = p.restUntilMs > 0 && this.#unassigned.size > 0
      if (restEnds && (next === null || p.restUntilMs < next)) next = p.restUntilMs
      // The bytes queued up to each request, summed as the queue is walked (not walked again for each request).
      let ahead = 0
      let head = true
      p.inFlight.forEach((askedAtMs, hash) => {
        const size = this.#wanted.get(hash)?.size ?? 0
        if (head && p.rateBytesPerMs !== null && p.overdueSeen !== hash) {
          const overdueAt = p.busySinceMs + size / p.rateBytesPerMs + 1
          if (next === null || overdueAt < next) next = overdueAt
        }
        head = false
        ahead += size
        const at = askedAtMs + stallAfterMs(p, ahead, this.#opts.stallMs)
        if (next === null || at < next) next = at
      })
    }
    return next
  }

  /**
   * Wanted blocks that no peer left holds (and none is sending): the caller gives up on them, or waits for a new peer.
   */
  orphans (): string[] {
    return this.#unassigned.orphans()
  }

  /** Stop wanting these (their file failed or is no longer needed): in-flight copies are cancelled. */
  unwant (hashes: Iterable<string>): void {
    for (const hash of hashes) {
      if (!this.#wanted.has(hash)) continue
      this.#unassigned.forget(hash)
      this.#wanted.delete(hash)
      for (const peer of this.#askedOf.get(hash) ?? []) {
        this.#peers.get(peer)?.inFlight.delete(hash)
        this.#actions.push({ type: 'cancel', peer, hash })
      }
      this.#askedOf.delete(hash)
    }
  }

  done (): boolean {
    return this.#wanted.size === 0
  }

  progress (): SchedulerProgress {
    let bytesWanted = 0
    for (const b of this.#wanted.values()) bytesWanted += b.size
    return {
      blocksWanted: this.#wanted.size,
      bytesWanted,
      blocksInFlight: this.#askedOf.size,
      blocksUnassigned: this.#unassigned.size,
      duplicateBlocks: this.#duplicates,
      peers: [...this.#peers.values()].map(p => ({
        peer: p.id,
        rateBytesPerSecond: p.rateBytesPerMs === null ? null : p.rateBytesPerMs * 1000,
        inFlight: p.inFlight.size,
        blocksReceived: p.blocksReceived,
        bytesReceived: p.bytesReceived
      }))
    }
  }

  // ------------------------------------------------------------------ decisions

  /** Whether a peer that is not resting holds the block. */
  #heldAwake (hash: string, nowMs: number): boolean {
    for (const q of this.#peers.values()) if (q.restUntilMs <= nowMs && q.holds.has(hash)) return true
    return false
  }

  /** Requests to keep queued at a peer: its bandwidth-delay product in blocks, bounded. */
  #depth (p: PeerState): number {
    const { pipelineMin, pipelineMax, pipelineMs } = this.#opts
    if (p.rateBytesPerMs === null) return pipelineMin
    const blocks = Math.ceil(p.rateBytesPerMs * pipelineMs / this.#meanBlockBytes())
    return Math.min(pipelineMax, Math.max(pipelineMin, blocks))
  }

  /** Nothing unassigned that it holds (no rarest-first pick): a copy of the in-flight block expected to arrive last. */
  #pickEndgame (p: PeerState, nowMs: number): string | undefined {
    let best: string | undefined
    let bestEtaMs = -Infinity
    for (const [hash, asked] of this.#askedOf) {
      if (asked.has(p.id) || asked.size >= this.#opts.endgameCopiesMax || !p.holds.has(hash)) continue
      let eta = Infinity
      for (const other of asked) eta = Math.min(eta, this.#eta(this.#peers.get(other), hash, nowMs))
      // Only worth a copy if this peer would likely be sooner.
      if (eta <= this.#eta(p, hash, nowMs, true)) continue
      if (eta > bestEtaMs) { best = hash; bestEtaMs = eta }
    }
    return best
  }

  /** When `hash` is expected from `p`: after what is queued before it, at its rate. */
  #eta (p: PeerState | undefined, hash: string, nowMs: number, asNew = false): number {
    if (p === undefined) return expectedAtMs(p, 0, nowMs, asNew)
    const ahead = this.#queuedBytes(p, hash) + (asNew ? this.#wanted.get(hash)?.size ?? 0 : 0)
    return expectedAtMs(p, ahead, nowMs, asNew)
  }

  /** Bytes queued at `p` up to and including `hash` (all of its queue if `hash` is not in it). */
  #queuedBytes (p: PeerState, hash: string): number {
    let ahead = 0
    for (const h of p.inFlight.keys()) {
      ahead += this.#wanted.get(h)?.size ?? 0
      if (h === hash) break
    }
    return ahead
  }

  #meanBlockBytes (): number {
    let n = 0
    let bytes = 0
    for (const b of this.#wanted.values()) {
      bytes += b.size
      if (++n >= 64) break
    }
    return n === 0 ? 1 : Math.max(1, bytes / n)
  }

  /** No longer asked of `peer`; if no one else has it in flight, it is unassigned again (in wanted order). */
  #unask (hash: string, peer: string): void {
    const asked = this.#askedOf.get(hash)
    asked?.delete(peer)
    if (asked !== undefined && asked.size > 0) return
    this.#askedOf.delete(hash)
    if (this.#wanted.has(hash)) this.#unassigned.assignable(hash, true)
  }

  #drop (p: PeerState, reason: string, cause: 'corrupt' | 'stalled'): void {
    this.removePeer(p.id)
    this.#dropped.add(p.id)
    this.#actions.push({ type: 'drop', peer: p.id, reason, cause })
  }
}

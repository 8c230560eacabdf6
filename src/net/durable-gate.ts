import { PULL_BYTES_PER_PEER_MAX } from '../sync/index.ts'
import type { Outbound, SyncEvent } from '../sync/index.ts'

/**
 * What the sync engine says after it committed a peer's entries without
 * their fsync (sync-driver.ts), held until they are durable (design rule
 * 12): the `have`s and relays that tell peers we hold them, the serving of
 * them, and the `stored` events the node counts as held. A SIGKILL keeps
 * such a commit (it is in the WAL); a power cut may not, so nothing leaves
 * this node about it before the fsync that covers it. One fsync, on the
 * thread pool, covers every run committed while the one before it ran, so a
 * late joiner pays for a sync per few runs instead of one per run, and its
 * event loop goes on decoding and committing meanwhile.
 *
 * What the engine says after a held step waits behind it, whatever it is:
 * it may read what the held step committed (a `want` served, a hello), and
 * each peer's messages stay in the order the engine queued them.
 */

/** How the store commits without fsync, and says when such commits are durable (SqliteStore). */
export interface Durability {
  /** Runs `step` with its commits made without their fsync. */
  readonly unsynced: <T>(step: () => T) => T
  /** Commits made inside unsynced() so far (a step that made none needs no sync). */
  readonly unsyncedCommits: () => number
  /** Resolves once every commit that returned before the call is durable; rejects if the disk failed to sync. */
  readonly synced: () => Promise<void>
}

/** Where released outputs go: the sessions and the event listeners. */
type Deliver = (sends: readonly Outbound[], events: readonly SyncEvent[]) => void
/** What of an event the gate keeps while it holds it (the event itself unless the driver says less). */
type WhileHeld = (event: SyncEvent) => SyncEvent

interface Held {
  /** Less those of a session that ended meanwhile (forget()). */
  sends: readonly Outbound[]
  readonly events: readonly SyncEvent[]
  durable: boolean
  /** The peer whose frame the step committed, and its bytes (counted in #takenBytes until synced). */
  readonly from: Taken | undefined
}

/** A frame of a peer that a step committed without its fsync. */
export interface Taken {
  readonly peer: string
  readonly bytes: number
}

/**
 * How many bytes of frames committed and not yet synced one peer may have
 * here, and all peers together, before their reading pauses (whenRoom()):
 * each such frame's outputs wait here decoded, and a peer may push runs
 * nobody asked for (new entries of a feed it may write) faster than a slow
 * disk syncs them. Our own pulls stay under the per-peer bound (the next want
 * waits for the sync too), so an honest catch-up never pauses on it.
 */
export const TAKEN_UNSYNCED_PER_PEER_MAX = PULL_BYTES_PER_PEER_MAX
const TAKEN_UNSYNCED_MAX = 4 * PULL_BYTES_PER_PEER_MAX

export class DurableGate {
  readonly #durability: Durability
  readonly #deliver: Deliver
  readonly #onFailure: (err: unknown) => void
  readonly #whileHeld: WhileHeld
  /** In the engine's order; the first ones are released as soon as they are durable. */
  #held: Held[] = []
  /** Bytes of each peer's held messages: its backlog too, so its wants cannot pile up served entries here. */
  readonly #heldBytes = new Map<string, number>()
  /** Bytes of each peer's frames committed and not yet synced, and their sum (whenRoom()). */
  readonly #takenBytes = new Map<string, number>()
  #takenTotal = 0
  /** Read loops paused until their peer has room again. */
  #waiting: { peer: string, resume: () => void }[] = []
  /** Held steps ever pushed, and those released or dropped since (released() compares the two). */
  #pushedCount = 0
  #releasedCount = 0
  /** Callers of released(), woken whenever held steps go (each checks its own mark). */
  #whenReleased: (() => void)[] = []
  /** The step run() ran last committed something (reset by pass()), and the frame it ran on. */
  #stepCommitted = false
  #stepFrom: Taken | undefined
  #closed = false
  /** A step committed after close(): no send goes out any more. */
  #mutedAfterClose = false

  constructor (durability: Durability, deliver: Deliver, onFailure: (err: unknown) => void, whileHeld?: WhileHeld) {
    this.#durability = durability
    this.#deliver = deliver
    this.#onFailure = onFailure
    this.#whileHeld = whileHeld ?? (ev => ev)
  }

  /** Runs a step of the engine with its commits made without fsync: its outputs (pass()) are held until synced. */
  run<T> (step: () => T, from?: Taken): T {
    const before = this.#durability.unsyncedCommits()
    try {
      return this.#durability.unsynced(step)
    } finally {
      // Also when the step threw after a commit: what it queued before is held like any other output.
      this.#stepCommitted = this.#durability.unsyncedCommits() !== before
      this.#stepFrom = this.#stepCommitted ? from : undefined
    }
  }

  /**
   * Undefined while `peer` may go on sending; else a promise that settles
   * once the syncs under way made room (or the gate closed, failed or forgot
   * the peer): its session reads no more frames meanwhile, so Yamux's window
   * holds the rest back at the sender. Backpressure, never a charge: the
   * disk is ours.
   */
  whenRoom (peer: string): Promise<void> | undefined {
    if (!this.#full(peer)) return undefined
    return new Promise(resume => { this.#waiting.push({ peer, resume }) })
  }

  /** The outputs of the step just run: delivered now if nothing is held and it committed nothing, else held. */
  pass (sends: readonly Outbound[], events: readonly SyncEvent[]): void {
    const committed = this.#stepCommitted
    const from = this.#stepFrom
    this.#stepCommitted = false
    this.#stepFrom = undefined
    if (this.#closed) {
      // Stopping: a commit made now is synced only by the store's close, so nothing about it, nor anything after it
      // (which may read it), goes out on the closing sessions.
      if (committed) this.#mutedAfterClose = true
      this.#deliver(this.#mutedAfterClose ? [] : sends, events)
      return
    }
    if (!committed && this.#held.length === 0) {
      this.#deliver(sends, events)
      return
    }
    if (sends.length === 0 && events.length === 0 && !committed) return
    const held: Held = { sends, events: events.map(this.#whileHeld), durable: !committed, from }
    this.#held.push(held)
    this.#pushedCount++
    if (from !== undefined) this.#take(from, from.bytes)
    for (const out of sends) this.#heldBytes.set(out.peer, (this.#heldBytes.get(out.peer) ?? 0) + out.bytes.byteLength)
    if (!committed) return
    this.#durability.synced().then(() => {
      held.durable = true
      this.#release()
    }, (err: unknown) => { this.#fail(err) })
  }

  /** Bytes held for `peer` (what the serve budget counts as its backlog, with what its session has not written). */
  heldBytes (peer: string): number {
    return this.#heldBytes.get(peer) ?? 0
  }

  /**
   * `peer`'s session ended: what is held for it answers a state it no longer
   * has (its wants, our pulls), and would reach its next session ahead of
   * that session's hello, so it is never sent.
   */
  forget (peer: string): void {
    this.#wake(w => w.peer === peer)
    if (!this.#heldBytes.delete(peer)) return
    for (const h of this.#held) {
      if (h.sends.some(out => out.peer === peer)) h.sends = h.sends.filter(out => out.peer !== peer)
    }
  }

  /**
   * Settles once what is held now has gone (delivered, or dropped by a
   * failed sync or by close()), whatever is held after it: a stop lets
   * what was said before it go out, and a peer that keeps pushing runs
   * cannot keep the gate from ever being empty.
   */
  async released (): Promise<void> {
    const mark = this.#pushedCount
    while (this.#releasedCount < mark && !this.#closed) {
      await new Promise<void>(resolve => { this.#whenReleased.push(resolve) })
    }
  }

  /**
   * The node is stopping: nothing held goes out any more (its sessions are
   * closing); later outputs pass at once, until a step commits (pass()), or
   * not at all when a commit is still waiting for its sync.
   */
  close (): void {
    this.#closed = true
    // A commit still waiting for its sync is synced only by the store's close: what reads it must not go out either.
    if (this.#held.some(h => !h.durable)) this.#mutedAfterClose = true
    this.#dropHeld()
  }

  #release (): void {
    while (!this.#closed) {
      const first = this.#held[0]
      if (first === undefined || !first.durable) break
      this.#held.shift()
      this.#releasedCount++
      this.#unhold(first.sends)
      if (first.from !== undefined) this.#take(first.from, -first.from.bytes)
      this.#deliver(first.sends, first.events)
    }
    this.#wake(w => !this.#full(w.peer))
    this.#wakeReleased()
  }

  /** Nothing held goes out: a failed sync or a stop. */
  #dropHeld (): void {
    this.#releasedCount += this.#held.length
    this.#held = []
    this.#heldBytes.clear()
    this.#untakeAll()
    this.#wakeReleased()
  }

  #wakeReleased (): void {
    const waiting = this.#whenReleased
    this.#whenReleased = []
    for (const resolve of waiting) resolve()
  }

  /**
   * The sync failed: what was committed since may be lost, and the store
   * refuses every commit from now on. Nothing held is told; only the
   * hang-ups the engine decided go out (a peer it banned stays banned).
   */
  #fail (err: unknown): void {
    if (this.#closed) return
    const held = this.#held
    this.#dropHeld()
    this.#deliver([], held.flatMap(h => h.events.filter(ev => ev.type === 'disconnect')))
    this.#onFailure(err)
  }

  #unhold (sends: readonly Outbound[]): void {
    for (const out of sends) {
      const left = (this.#heldBytes.get(out.peer) ?? 0) - out.bytes.byteLength
      if (left > 0) this.#heldBytes.set(out.peer, left)
      else this.#heldBytes.delete(out.peer)
    }
  }

  #take (from: Taken, bytes: number): void {
    const left = (this.#takenBytes.get(from.peer) ?? 0) + bytes
    if (left > 0) this.#takenBytes.set(from.peer, left)
    else this.#takenBytes.delete(from.peer)
    this.#takenTotal += bytes
  }

  #untakeAll (): void {
    this.#takenBytes.clear()
    this.#takenTotal = 0
    this.#wake(() => true)
  }

  #full (peer: string): boolean {
    return (this.#takenBytes.get(peer) ?? 0) > TAKEN_UNSYNCED_PER_PEER_MAX || this.#takenTotal > TAKEN_UNSYNCED_MAX
  }

  #wake (which: (w: { peer: string }) => boolean): void {
    if (this.#waiting.length === 0) return
    const still: { peer: string, resume: () => void }[] = []
    for (const w of this.#waiting) {
      if (which(w)) w.resume()
      else still.push(w)
    }
    this.#waiting = still
  }
}

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

interface Held {
  /** Less those of a session that ended meanwhile (forget()). */
  sends: readonly Outbound[]
  readonly events: readonly SyncEvent[]
  durable: boolean
}

export class DurableGate {
  readonly #durability: Durability
  readonly #deliver: Deliver
  readonly #onFailure: (err: unknown) => void
  /** In the engine's order; the first ones are released as soon as they are durable. */
  #held: Held[] = []
  /** Bytes of each peer's held messages: its backlog too, so its wants cannot pile up served entries here. */
  readonly #heldBytes = new Map<string, number>()
  /** The step run() ran last committed something (reset by pass()). */
  #stepCommitted = false
  #closed = false
  /** A step committed after close(): no send goes out any more. */
  #mutedAfterClose = false

  constructor (durability: Durability, deliver: Deliver, onFailure: (err: unknown) => void) {
    this.#durability = durability
    this.#deliver = deliver
    this.#onFailure = onFailure
  }

  /** Runs a step of the engine with its commits made without fsync: its outputs (pass()) are held until synced. */
  run<T> (step: () => T): T {
    const before = this.#durability.unsyncedCommits()
    try {
      return this.#durability.unsynced(step)
    } finally {
      // Also when the step threw after a commit: what it queued before is held like any other output.
      this.#stepCommitted = this.#durability.unsyncedCommits() !== before
    }
  }

  /** The outputs of the step just run: delivered now if nothing is held and it committed nothing, else held. */
  pass (sends: readonly Outbound[], events: readonly SyncEvent[]): void {
    const committed = this.#stepCommitted
    this.#stepCommitted = false
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
    const held: Held = { sends, events, durable: !committed }
    this.#held.push(held)
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
    if (!this.#heldBytes.delete(peer)) return
    for (const h of this.#held) {
      if (h.sends.some(out => out.peer === peer)) h.sends = h.sends.filter(out => out.peer !== peer)
    }
  }

  /**
   * The node is stopping: nothing held goes out any more (its sessions are
   * closing); later outputs pass at once, until a step commits (pass()).
   */
  close (): void {
    this.#closed = true
    this.#held = []
    this.#heldBytes.clear()
  }

  #release (): void {
    while (!this.#closed) {
      const first = this.#held[0]
      if (first === undefined || !first.durable) return
      this.#held.shift()
      this.#unhold(first.sends)
      this.#deliver(first.sends, first.events)
    }
  }

  /**
   * The sync failed: what was committed since may be lost, and the store
   * refuses every commit from now on. Nothing held is told; only the
   * hang-ups the engine decided go out (a peer it banned stays banned).
   */
  #fail (err: unknown): void {
    if (this.#closed) return
    const held = this.#held
    this.#held = []
    this.#heldBytes.clear()
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
}

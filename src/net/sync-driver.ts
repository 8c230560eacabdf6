import { once } from 'node:events'
import type { LocalBodies, LocalOutcome } from '../space/index.ts'
import { SyncEngine } from '../sync/index.ts'
import type { Outbound, SyncEvent, SyncInit, SyncStats } from '../sync/index.ts'
import type { Body, Entry, SignedBytes, SignedStatus } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import type { SessionTable } from './sessions.ts'
import { DurableGate } from './durable-gate.ts'
import type { Durability, Taken } from './durable-gate.ts'

/** Runs `step` in some context and returns what it returned. */
type Around = <T>(step: () => T) => T

interface SyncDriverInit {
  /** The engine's own init, but for what the driver supplies (the backlog of each peer's session). */
  readonly sync: Omit<SyncInit, 'backlog'>
  readonly sessions: SessionTable
  readonly now?: () => number
  /** A write to the store failed: true if it was a full disk (the daemon goes on; the work is retried later). */
  readonly onStorageError?: (err: unknown) => boolean
  /**
   * The store's commits without fsync: given, what peers send is committed so, and what the engine says after it
   * waits until it is durable (durable-gate.ts). Absent, every commit syncs itself (tests over a MemoryStore).
   */
  readonly durability?: Durability
  /**
   * Of the entries of a `stored` event held for the sync of its commit, those the listeners read (all if absent).
   * A late joiner commits a run every ~20 ms and syncs behind it, so two or three runs' events wait at once: their
   * decoded entries (~1 KB each) outlived V8's young generation, ~40% of what the joiner moved to its old one.
   */
  readonly heldEntries?: (entry: Entry) => boolean
}

/**
 * The one owner of the sync engine, as quinn's `quinn` crate drives a
 * `quinn-proto` connection: every input, from the network (a frame, a
 * connect, a garbled frame, a hang-up) or from the node (a local write, a
 * status, a space added, a join, a corrupt chunk), is a method here that
 * hands it to the engine with the time and then pumps: sends what the
 * engine wants sent over the peers' sessions, hangs up on a peer the engine
 * disconnects, hands every event to the listeners, and sets one timer for
 * the engine's next deadline. Nothing else holds the engine, so no caller
 * can change it and forget to pump.
 *
 * Imports sync/ and the session table; never libp2p itself, never node/.
 */
export class SyncDriver {
  readonly #engine: SyncEngine
  readonly #sessions: SessionTable
  readonly #now: () => number
  readonly #onStorageError: (err: unknown) => boolean
  readonly #listeners: ((event: SyncEvent) => void)[] = []
  #tickTimer: NodeJS.Timeout | undefined
  #tickAt: number | null = null
  #stopped = false
  readonly #gate: DurableGate | undefined

  constructor (init: SyncDriverInit) {
    this.#sessions = init.sessions
    this.#now = init.now ?? Date.now
    this.#onStorageError = init.onStorageError ?? (() => false)
    const sessions = init.sessions
    const deliver = (sends: readonly Outbound[], events: readonly SyncEvent[]): void => { this.#deliver(sends, events) }
    const keep = init.heldEntries
    const whileHeld = keep &&
      ((ev: SyncEvent): SyncEvent => ev.type === 'stored' ? { ...ev, entries: ev.entries.filter(keep) } : ev)
    const gate = init.durability &&
      new DurableGate(init.durability, deliver, err => { this.#onStorageError(err) }, whileHeld)
    this.#gate = gate
    // What waits for a sync is a peer's backlog too: its wants are served no faster than it is told.
    const backlog = (peer: AuthorKey): number => sessions.queuedBytes(peer) + (gate?.heldBytes(peer) ?? 0)
    this.#engine = new SyncEngine({ ...init.sync, backlog })
  }

  /** Every event of the engine, after the driver acted on it (a `disconnect` has hung up already). */
  onEvent (listener: (event: SyncEvent) => void): void {
    this.#listeners.push(listener)
  }

  /**
   * The node is about to stop: settles once what the engine said so far and
   * held for a sync has gone to the sessions, or when `signal` aborts (a
   * disk that never syncs cannot hold a stop).
   */
  async flushed (signal: AbortSignal): Promise<void> {
    if (this.#gate === undefined || signal.aborted) return
    await Promise.race([this.#gate.released(), once(signal, 'abort')])
  }

  /** No more timers: the node is stopping. */
  stop (): void {
    this.#stopped = true
    this.#gate?.close()
    clearTimeout(this.#tickTimer)
  }

  // ------------------------------------------------------------------ getters

  get stats (): SyncStats {
    return this.#engine.stats
  }

  holdings (): ReturnType<SyncEngine['holdings']> {
    return this.#engine.holdings()
  }

  bannedUntil (peer: AuthorKey): number | undefined {
    return this.#engine.bannedUntil(peer)
  }

  /** Whether `peer` is a joiner whose join waits for its issuer here (SyncEngine.joinWaiting). */
  joinWaiting (peer: AuthorKey): boolean {
    return this.#engine.joinWaiting(peer, this.#now())
  }

  // ------------------------------------------------------------------ from the network

  /** A session opened: false if the engine refuses the peer (banned, or too many). */
  connect (peer: AuthorKey): boolean {
    // A session it replaces ends here: what the gate holds for that one is never sent on this one. A peer still over
    // its bound of unsynced frames gets no frame of the new session read either until a sync made room.
    return this.#pumped(() => {
      const admitted = this.#engine.connect(peer, this.#now())
      if (admitted) this.#gate?.forget(peer)
      const full = admitted ? this.#gate?.whenRoom(peer) : undefined
      if (full !== undefined) this.#sessions.holdReading(peer, full)
      return admitted
    })
  }

  disconnect (peer: AuthorKey): void {
    this.#gate?.forget(peer)
    this.#pumped(() => { this.#engine.disconnect(peer, this.#now()) })
  }

  /**
   * A frame from `peer`; a full disk is reported, and the error goes on up (the session ends and its connection
   * with it; the redial schedules reconnect on their backoff, and catch-up asks again).
   * A promise back: read no more of `peer` until it settles (what it sent waits for a slow sync, durable-gate.ts).
   */
  receive (peer: AuthorKey, bytes: Uint8Array): Promise<void> | undefined {
    this.#pumped(this.#unsynced(() => {
      try {
        this.#engine.receive(peer, bytes, this.#now())
      } catch (err) {
        this.#onStorageError(err)
        throw err
      }
    }, { peer, bytes: bytes.byteLength }))
    return this.#gate?.whenRoom(peer)
  }

  reportGarbage (peer: AuthorKey, reason: string): void {
    this.#pumped(() => { this.#engine.reportGarbage(peer, reason, this.#now()) })
  }

  // ------------------------------------------------------------------ from the node

  append (space: SpaceKey, body: Body): Entry {
    return this.#pumped(() => this.#engine.append(space, body, this.#now()))
  }

  appendBodies (space: SpaceKey, bodies: LocalBodies): Entry[] {
    return this.#pumped(() => this.#engine.appendBodies(space, bodies, this.#now()))
  }

  /**
   * Data writes of several callers in one commit (group commit), each judged alone; one pump for all.
   * `commit` runs the engine's step, and only it, not the listeners of the pump (the node defers its fsync there).
   * What the engine says of a group committed without its fsync (its `have`s) waits in the gate for the sync, as a
   * peer's run does: nothing this node tells a peer is lost to a power cut here (decision 12).
   */
  appendEach (space: SpaceKey, bodies: readonly Body[], commit: Around = step => step()): LocalOutcome[] {
    let outcomes: LocalOutcome[] = []
    this.#pumped(this.#unsynced(() => {
      outcomes = commit(() => this.#engine.appendEach(space, bodies, this.#now()))
    }))
    return outcomes
  }

  /** Our join with an invite (decision 9): through the engine like every other write. */
  join (space: SpaceKey, invite: Uint8Array, inviteKey: KeyPair): Entry {
    return this.#pumped(() => this.#engine.join(space, invite, inviteKey, this.#now()))
  }

  /** Our join as written before a restart, held again and presented (engine.ts); undefined if it is not ours. */
  restoreJoin (space: SpaceKey, join: SignedBytes): Entry | undefined {
    return this.#pumped(() => this.#engine.restoreJoin(space, join, this.#now()))
  }

  /** Our joins of `space` still pending, forgotten: their issuer refused them (engine.ts). */
  dropJoins (space: SpaceKey): void {
    this.#engine.dropJoins(space)
  }

  publishStatus (space: SpaceKey, body: Record<string, unknown>): void {
    this.#pumped(() => { this.#engine.publishStatus(space, body, this.#now()) })
  }

  /** Our leave notice for `space`, signed, not stored (engine.ts). */
  signLeaveNotice (space: SpaceKey): SignedStatus {
    return this.#engine.signLeaveNotice(space, this.#now())
  }

  /** The notice pushed to the member neighbours once the space's rows are gone: how many (engine.ts). */
  pushLeaveNotice (space: SpaceKey, notice: SignedStatus): number {
    return this.#pumped(() => this.#engine.pushLeaveNotice(space, notice))
  }

  /** The node created or adopted a space: every neighbour is told. */
  spaceAdded (space: SpaceKey): void {
    this.#pumped(() => { this.#engine.spaceAdded(space) })
  }

  /** This node's entries in `space` that no connected member holds (engine.ts unsentOwn). */
  unsentOwn (space: SpaceKey): number {
    return this.#engine.unsentOwn(space)
  }

  /** The node left a space (already out of its directory): the engine forgets it. */
  spaceRemoved (space: SpaceKey): void {
    this.#pumped(() => { this.#engine.spaceRemoved(space, this.#now()) })
  }

  /** A peer served a chunk that does not match its hash. */
  reportCorruptBlock (peer: AuthorKey, reason: string): void {
    this.#pumped(() => { this.#engine.reportCorruptBlock(peer, reason, this.#now()) })
  }

  // ------------------------------------------------------------------ driving

  /** Runs one input, then pumps whatever it did (also when it threw: what was queued before still goes out). */
  #pumped<T> (input: () => T): T {
    try {
      return input()
    } finally {
      this.#pump()
    }
  }

  /** `step` with what it commits made without fsync (and its outputs held until synced), when the store can. */
  #unsynced (step: () => void, from?: Taken): () => void {
    const gate = this.#gate
    return gate === undefined ? step : () => { gate.run(step, from) }
  }

  #pump (): void {
    const sends = this.#engine.drain()
    const events = this.#engine.events()
    if (this.#gate === undefined) this.#deliver(sends, events)
    else this.#gate.pass(sends, events)
    this.#schedule()
  }

  #deliver (sends: readonly Outbound[], events: readonly SyncEvent[]): void {
    for (const out of sends) this.#sessions.send(out.peer, out.bytes)
    for (const ev of events) {
      if (ev.type === 'disconnect') this.#sessions.hangUp(ev.peer)
      for (const listener of this.#listeners) listener(ev)
    }
  }

  #schedule (): void {
    const deadline = this.#engine.nextDeadline()
    if (deadline === null || this.#stopped) return
    if (this.#tickAt !== null && this.#tickAt <= deadline) return
    clearTimeout(this.#tickTimer)
    this.#tickAt = deadline
    this.#tickTimer = setTimeout(() => {
      this.#tickAt = null
      this.#pumped(this.#unsynced(() => {
        try {
          this.#engine.tick(this.#now())
        } catch (err) {
          // A full disk is an error of this tick (nothing was committed), never a crash from a timer.
          if (!this.#onStorageError(err)) throw err
        }
      }))
    }, Math.max(0, deadline - this.#now()))
    this.#tickTimer.unref()
  }
}

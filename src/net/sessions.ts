import type { SyncSession } from './sync-session.ts'

/**
 * The sync sessions open now, one per peer (author key, hex): the one place
 * that knows which peer is reachable over which session. The network adds
 * and removes them; the sync driver writes to them and hangs up on them;
 * block links open their streams on their connections. Holds no engine
 * state and never decides anything of the protocol.
 */
export class SessionTable {
  readonly #sessions = new Map<string, SyncSession>()

  get (author: string): SyncSession | undefined {
    return this.#sessions.get(author)
  }

  set (author: string, session: SyncSession): void {
    this.#sessions.set(author, session)
  }

  delete (author: string): void {
    this.#sessions.delete(author)
  }

  entries (): IterableIterator<[string, SyncSession]> {
    return this.#sessions.entries()
  }

  /** Queues bytes for `author`'s session (nothing if it has none). */
  send (author: string, bytes: Uint8Array): void {
    this.#sessions.get(author)?.send(bytes)
  }

  /** `author`'s session reads its first frame only once `settled` settles (SyncSession.holdReadingUntil). */
  holdReading (author: string, settled: Promise<void>): void {
    this.#sessions.get(author)?.holdReadingUntil(settled)
  }

  /** Ends `author`'s session and so its connection (a misbehaving peer; SyncSession.close). */
  hangUp (author: string): void {
    this.#sessions.get(author)?.close()
  }

  /** Bytes queued for `author`'s session and not yet written (0 if none): the engine's serving budget counts them. */
  queuedBytes (author: string): number {
    return this.#sessions.get(author)?.queuedBytes ?? 0
  }

  /** Peers with a sync session now (author keys, hex). */
  connectedAuthors (): string[] {
    return [...this.#sessions.entries()].filter(([, s]) => !s.closed).map(([author]) => author)
  }

  /** Whether some session runs over a connection to this libp2p peer id. */
  hasPeer (peerId: string): boolean {
    for (const s of this.#sessions.values()) if (s.connection.remotePeer.toString() === peerId) return true
    return false
  }

  /** The node is stopping: no session hands on a frame any more (SyncSession.quiesce). */
  quiesceAll (): void {
    for (const s of this.#sessions.values()) s.quiesce()
  }

  /** Writes what each session has queued and closes it gracefully, at most until `signal` (SyncSession.finish). */
  async finishAll (signal: AbortSignal): Promise<void> {
    await Promise.all([...this.#sessions.values()].map(async s => { await s.finish(signal) }))
  }
}

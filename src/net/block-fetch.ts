import crypto from 'node:crypto'
import { BlockScheduler, NoSourceError } from '../blocks/index.ts'
import type { ChunkBytes, ChunkFetcher, SchedulerProgress } from '../blocks/index.ts'
import { fromHex, toHex } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import type { BlockLink } from './block-link.ts'
import {
  receivedBufferBack, receivedBuffers, receivedCopy, receivingClosed, receivingOpened
} from './received-buffers.ts'

/**
 * One folder pass's chunk downloads: the I/O around blocks/'s scheduler.
 * Writers say which chunks they will need (plan) and then ask for each
 * (get); chunks are wanted from the scheduler a window ahead of what the
 * writers have taken, so every peer's pipeline stays full without holding a
 * whole file in memory. Every chunk is hashed on arrival: bad bytes that
 * the sender served as good (status 0) are its fault (penalized through
 * onCorrupt, and dropped by the scheduler), and never reach a writer; any
 * other answer ("changed", "missing", "denied") costs the sender nothing
 * and the chunk is asked of another peer. A peer that leaves a request
 * unanswered past its deadline (blocks/: from its measured rate, at least
 * `stallMs`) is stalled: its streams are closed (answers come in order, so
 * nothing behind the stuck one would come either), it is asked nothing more
 * in this pass, and what only it could give fails its files, which wait
 * for the next pass: the pass always ends. The timers are here; the
 * scheduler only takes the time.
 */
interface BlockFetchInit {
  readonly space: string
  /** The members of the space connected now (author keys, hex): each is asked for what it holds. */
  readonly peers: readonly string[]
  readonly link: (author: string) => Promise<BlockLink>
  readonly onCorrupt: (author: string, reason: string) => void
  /** Bytes wanted ahead of the writers (default 64 MiB). */
  readonly windowBytes?: number
  /** The least time a request waits unanswered before its peer counts as stalled (blocks/ default: 30 s). */
  readonly stallMs?: number | undefined
  readonly now?: () => number
}

/** A chunk as get() and getPieces() answer it: one piece, the writer's own view of a received buffer. */
type Pieces = readonly Uint8Array[]
interface Waiter { resolve: (b: Pieces) => void, reject: (e: Error) => void }

const WINDOW_BYTES = 64 * 1024 * 1024
const RATE_WINDOW_MS = 3_000

export class BlockFetch implements ChunkFetcher {
  /** Every chunk get() answers was hashed on arrival and found right. */
  readonly verifies = true
  readonly #init: BlockFetchInit
  readonly #now: () => number
  readonly #scheduler: BlockScheduler
  readonly #window: number
  /** Planned chunks not yet handed to the scheduler, in plan order. */
  readonly #queue: { hash: string, size: number }[] = []
  #queueAt = 0
  /** Per chunk: writers that will still take it. */
  readonly #refs = new Map<string, number>()
  readonly #sizes = new Map<string, number>()
  readonly #wanted = new Set<string>()
  /** Chunks arrived and not yet taken by every writer that will: each holds its buffer (#holds) until taken. */
  readonly #arrived = new Map<string, Uint8Array>()
  /** Per received buffer: how many hold it (its #arrived slot, and each answer handed out and not said done). */
  readonly #holds = new Map<Uint8Array, number>()
  /** Each answer handed out (a view of its own, so that a second done for it counts for nothing): its buffer. */
  readonly #handed = new Map<Uint8Array, Uint8Array>()
  readonly #waiters = new Map<string, Waiter[]>()
  readonly #failed = new Map<string, Error>()
  /** Requests in flight: on which stream each was asked (a cancel goes to the same one). */
  readonly #asked = new Map<string, Promise<BlockLink>>()
  #windowUsed = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false
  bytesReceived = 0
  readonly #samples: { atMs: number, bytes: number }[] = []

  constructor (init: BlockFetchInit) {
    this.#init = init
    this.#now = init.now ?? (() => performance.now())
    this.#window = init.windowBytes ?? WINDOW_BYTES
    this.#scheduler = new BlockScheduler(init.stallMs === undefined ? {} : { stallMs: init.stallMs })
    const now = this.#now()
    for (const peer of init.peers) this.#scheduler.addPeer(peer, now)
    receivingOpened()
  }

  plan (chunks: readonly FileChunk[]): void {
    for (const [hash, size] of chunks) {
      const hex = toHex(hash)
      const refs = this.#refs.get(hex) ?? 0
      this.#refs.set(hex, refs + 1)
      this.#sizes.set(hex, size)
      if (refs === 0 && !this.#arrived.has(hex)) this.#queue.push({ hash: hex, size })
    }
    this.#fill()
    this.#pump()
  }

  /** The chunk's verified bytes; rejects with NoSourceError if no peer has it. */
  async get (hash: Uint8Array, size: number): Promise<Uint8Array> {
    const pieces = await this.getPieces(hash, size)
    return pieces.length === 1 ? pieces[0] as Uint8Array : Buffer.concat(pieces)
  }

  /** The same, as the pieces it arrived in: a writer writes them as they are (one writev), no copy made. */
  getPieces (hash: Uint8Array, size: number): Promise<Pieces> {
    const hex = toHex(hash)
    // Closed (the folder stops): nothing will arrive, and a waiter added now would hold its pass, and the stop
    // that awaits that pass, for ever.
    if (this.#closed) return Promise.reject(new Error(`transfer stopped before chunk ${hex.slice(0, 16)}… arrived`))
    const failed = this.#failed.get(hex)
    if (failed !== undefined) return Promise.reject(failed)
    const bytes = this.#arrived.get(hex)
    if (bytes !== undefined) {
      const mine = this.#hand(bytes)
      this.#taken(hex)
      return Promise.resolve(mine)
    }
    if (!this.#refs.has(hex)) this.#refs.set(hex, 1)
    this.#sizes.set(hex, size)
    // Asked for before its turn in the window (another writer is ahead): wanted now, so no writer waits on a chunk
    // nobody asks for.
    this.#want(hex, size)
    const p = new Promise<Pieces>((resolve, reject) => {
      let list = this.#waiters.get(hex)
      if (list === undefined) this.#waiters.set(hex, list = [])
      list.push({ resolve, reject })
    })
    this.#pump()
    return p
  }

  /** A writer gave up on these chunks (its file failed): they are no longer kept or asked for on its account. */
  release (chunks: readonly FileChunk[]): void {
    for (const [hash] of chunks) {
      const hex = toHex(hash)
      if (this.#refs.has(hex)) this.#taken(hex)
    }
  }

  /** A writer is done with an answer of get() or getPieces(): its buffer is read into again once nothing holds it. */
  done (bytes: ChunkBytes): void {
    for (const view of bytes instanceof Uint8Array ? [bytes] : bytes) {
      const buffer = this.#handed.get(view)
      if (buffer === undefined) continue
      this.#handed.delete(view)
      this.#unhold(buffer)
    }
  }

  close (): void {
    if (!this.#closed) receivingClosed()
    this.#closed = true
    clearTimeout(this.#timer)
    // What is still asked is taken back: the links outlive the pass, and each peer would read and upload it for no one
    // (the cancels a last release queued in the scheduler are never polled now).
    for (const key of [...this.#asked.keys()]) {
      const at = key.indexOf(' ')
      this.#cancel(key.slice(0, at), key.slice(at + 1))
    }
    for (const [hex, list] of this.#waiters) {
      for (const w of list) w.reject(new Error(`transfer stopped before chunk ${hex.slice(0, 16)}… arrived`))
    }
    this.#waiters.clear()
    for (const bytes of this.#arrived.values()) this.#unhold(bytes)
    this.#arrived.clear()
  }

  progress (): SchedulerProgress & { bytesReceived: number, rateBytesPerSecond: number } {
    const now = this.#now()
    while ((this.#samples[0]?.atMs ?? Infinity) < now - RATE_WINDOW_MS) this.#samples.shift()
    const recent = this.#samples.reduce((n, s) => n + s.bytes, 0)
    const rateBytesPerSecond = recent / (RATE_WINDOW_MS / 1000)
    return { ...this.#scheduler.progress(), bytesReceived: this.bytesReceived, rateBytesPerSecond }
  }

  // ------------------------------------------------------------------ internals

  #fill (): void {
    while (this.#windowUsed < this.#window && this.#queueAt < this.#queue.length) {
      const { hash, size } = this.#queue[this.#queueAt++] as { hash: string, size: number }
      if (this.#refs.has(hash)) this.#want(hash, size)
    }
    if (this.#queueAt === this.#queue.length) { this.#queue.length = 0; this.#queueAt = 0 }
  }

  #want (hex: string, size: number): void {
    if (this.#wanted.has(hex) || this.#arrived.has(hex)) return
    this.#wanted.add(hex)
    this.#windowUsed += size
    this.#scheduler.want([{ hash: hex, size }])
    for (const peer of this.#init.peers) this.#scheduler.has(peer, [hex], this.#now())
  }

  /** One writer took (or gave up) the chunk; the last one frees its room in the window. */
  #taken (hex: string): void {
    const refs = (this.#refs.get(hex) ?? 1) - 1
    if (refs > 0) { this.#refs.set(hex, refs); return }
    this.#refs.delete(hex)
    const size = this.#sizes.get(hex) ?? 0
    this.#sizes.delete(hex)
    const arrived = this.#arrived.get(hex)
    if (arrived !== undefined) {
      this.#arrived.delete(hex)
      this.#unhold(arrived)
      this.#windowUsed -= size
    } else if (this.#wanted.delete(hex)) {
      this.#windowUsed -= size
    }
    this.#scheduler.unwant([hex])
    this.#fill()
  }

  #pump (): void {
    if (this.#closed) return
    const now = this.#now()
    for (const action of this.#scheduler.poll(now)) {
      switch (action.type) {
        case 'request': this.#request(action.peer, action.hash); break
        case 'penalize': this.#init.onCorrupt(action.peer, action.reason); break
        case 'cancel': this.#cancel(action.peer, action.hash); break
        // The scheduler no longer asks it; its sync session is the engine's to judge.
        case 'drop': if (action.cause === 'stalled') this.#closeStreams(action.peer); break
      }
    }
    for (const hex of this.#scheduler.orphans()) this.#fail(hex, new NoSourceError(hex))
    clearTimeout(this.#timer)
    const deadline = this.#scheduler.nextDeadline()
    if (deadline !== null) {
      this.#timer = setTimeout(() => { this.#scheduler.tick(this.#now()); this.#pump() }, Math.max(1, deadline - now))
      this.#timer.unref()
    }
  }

  /**
   * The streams a stalled peer's requests went on: the answers stuck behind its silence fail now (and its later passes
   * open new ones).
   */
  #closeStreams (peer: string): void {
    for (const [key, link] of this.#asked) {
      if (!key.startsWith(`${peer} `)) continue
      this.#asked.delete(key)
      void link.then(l => { l.close(new Error('the peer stalled: no answer in time')) }, () => {})
    }
  }

  /** Takes a request back from the peer's stream (an answer already on its way is ignored when it comes). */
  #cancel (peer: string, hex: string): void {
    const key = `${peer} ${hex}`
    const link = this.#asked.get(key)
    this.#asked.delete(key)
    void link?.then(l => { l.cancel(this.#init.space, fromHex(hex)) }, () => {})
  }

  #request (peer: string, hex: string): void {
    const key = `${peer} ${hex}`
    const link = this.#init.link(peer)
    this.#asked.set(key, link)
    // The size its record gives: the link holds no more than that unread for its answer (plus a frame's margin).
    const size = this.#sizes.get(hex)
    link
      .then(l => l.request(this.#init.space, fromHex(hex), size))
      .then(answer => {
        // Still asked: not taken back by this fetch (#cancel forgets it), so a "cancelled" was not ours to expect.
        const mine = this.#asked.get(key) === link
        if (mine) this.#asked.delete(key)
        this.#judge(peer, hex, answer === 'cancelled' && mine ? 'unexpectedly cancelled' : answer)
      }, () => {
        if (this.#asked.get(key) === link) this.#asked.delete(key)
        // The stream broke (or never opened): what it had is asked of the others.
        this.#scheduler.removePeer(peer)
        this.#pump()
      })
  }

  /**
   * Hashed before anything else sees the bytes: judged by the hash alone. Bytes that hash right are the chunk, whatever
   * size a record claimed for it (a writer's record may lie; the peer that serves the real chunk is honest, and each
   * writer checks the length against its own record). A chunk no writer needs any more (a late copy) is not kept:
   * honest late copies are not blamed.
   */
  #judge (peer: string, hex: string, answer: string | Uint8Array | readonly Uint8Array[]): void {
    if (typeof answer === 'string') { this.#answered(peer, hex, answer, false, null); return }
    const pieces = answer instanceof Uint8Array ? [answer] : answer
    const length = lengthOf(pieces)
    // BlockLink reads a chunk into a received buffer (received-buffers.ts); pieces from elsewhere are copied into one.
    const wanted = !this.#closed && this.#wanted.has(hex)
    const bytes = answer instanceof Uint8Array ? answer : wanted ? receivedCopy(pieces, length) : null
    const valid = hashOf(bytes === null ? pieces : [bytes]) === hex
    const kept = this.#answered(peer, hex, 'bytes', valid, valid && wanted ? bytes : null)
    // Not kept (bad bytes, a late copy): read by nothing else.
    if (!kept && bytes !== null) receivedBuffers.giveBack(bytes)
  }

  /** Whether it kept `bytes` (delivered them to the writers). */
  #answered (peer: string, hex: string, answer: string, valid: boolean, bytes: Uint8Array | null): boolean {
    if (this.#closed) return false
    const now = this.#now()
    let kept = false
    if (answer === 'cancelled') {
      // Taken back by the scheduler already.
    } else if (answer !== 'bytes') {
      // "cancelled" to a request this fetch never took back (a server of an earlier version matches a cancel by its
      // hash alone) counts as a refusal: the chunk is asked again, of this peer or another, never left in flight.
      this.#scheduler.refused(peer, hex, now)
    } else {
      this.#scheduler.received(peer, hex, valid, now)
      if (valid && bytes !== null && this.#wanted.delete(hex)) {
        this.#deliver(hex, bytes, now)
        kept = true
      }
    }
    this.#pump()
    return kept
  }

  #deliver (hex: string, bytes: Uint8Array, now: number): void {
    this.bytesReceived += bytes.length
    this.#samples.push({ atMs: now, bytes: bytes.length })
    this.#arrived.set(hex, bytes)
    this.#holds.set(bytes, 1)
    const waiters = this.#waiters.get(hex) ?? []
    this.#waiters.delete(hex)
    for (const w of waiters) {
      const mine = this.#hand(bytes)
      this.#taken(hex)
      w.resolve(mine)
    }
  }

  /** An answer of `bytes` for one writer: a view of its own, one more hold on the buffer until it says done. */
  #hand (bytes: Uint8Array): Pieces {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    this.#handed.set(view, bytes)
    this.#holds.set(bytes, (this.#holds.get(bytes) ?? 0) + 1)
    return [view]
  }

  /** One holder of `bytes` let go; the last one gives the buffer back to the pool. */
  #unhold (bytes: Uint8Array): void {
    const held = this.#holds.get(bytes)
    // Held by nothing counted here: never given back on a guess.
    if (held === undefined) return
    if (held > 1) { this.#holds.set(bytes, held - 1); return }
    this.#holds.delete(bytes)
    receivedBuffers.giveBack(bytes)
    receivedBufferBack()
  }

  #fail (hex: string, err: Error): void {
    this.#failed.set(hex, err)
    this.#scheduler.unwant([hex])
    if (this.#wanted.delete(hex)) this.#windowUsed -= this.#sizes.get(hex) ?? 0
    for (const w of this.#waiters.get(hex) ?? []) w.reject(err)
    this.#waiters.delete(hex)
  }
}

function lengthOf (pieces: Pieces): number {
  let n = 0
  for (const p of pieces) n += p.length
  return n
}

/** Hex SHA-256 of the pieces taken in order, as of one buffer. */
function hashOf (pieces: Pieces): string {
  const h = crypto.createHash('sha256')
  for (const p of pieces) h.update(p)
  return h.digest('hex')
}

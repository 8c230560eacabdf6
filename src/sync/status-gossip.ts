import { fromHex, newerStatus } from '../codec/index.ts'
import type { Message, SignedBytes, StatusHead, StatusStamp } from '../codec/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import { REQUEST_TIMEOUT_MS } from './constants.ts'
import { TupleMap } from './keys.ts'
import type { Send } from './types.ts'

/**
 * Status gossip (announce and pull): a node keeps the newest status record
 * per author. When it stores a newer one it announces (author, clock, id: tens
 * of bytes) to each member neighbour that may not hold it (`status-have`);
 * a neighbour that lacks it asks one announcer (`status-want`), asks the
 * next announcer after REQUEST_TIMEOUT_MS or an older answer, asks the last
 * one again after a timeout (it may have been busy) while it stays linked,
 * up to ASK_AGAIN_MAX times, and then gives up (the author's next record,
 * every period, is announced anew; a leave notice or the last record of a
 * node gone down is not, hence the asking again).
 *
 * Pure and on its own: it reads a space only through StatusSpace and a
 * neighbour only through StatusNeighbour, and returns what to send. It does
 * not verify records (the replica does, before `stored`).
 */
export interface StatusSpace {
  readonly key: SpaceKey
  readonly id: Uint8Array
  /** The stamp of the record held for `author` (null: none). Read once; `stored` keeps it current. */
  stampOf (author: AuthorKey): StatusStamp | null
  /** Whether `author` holds a role (only members publish status records). */
  isMember (author: AuthorKey): boolean
}

/** A member neighbour sharing the space, and the status heads it holds (claim-bounded by its session). */
export interface StatusNeighbour {
  readonly peer: AuthorKey
  readonly known: Map<AuthorKey, StatusStamp>
}

/** What answering a `status-want` may queue (the serve budget). */
interface StatusServe {
  record (author: AuthorKey): SignedBytes | undefined
  room (bytes: number): boolean
  queued (bytes: number): void
}

/**
 * Times the last announcer of a record is asked again when it did not answer in time: a server past its serve budget
 * leaves a want unanswered (serve-budget.ts), which is no sign that it lacks the record. With REQUEST_TIMEOUT_MS each
 * (so that every deadline is the time of asking plus one constant: bench/status-sim.ts keeps them in one FIFO), 10 s.
 */
export const ASK_AGAIN_MAX = 5

/**
 * A peer's record of an author is stored here no sooner than this after the last one stored (local time): each node
 * stores and announces at most one record a second of each author, whatever its links carry (STATUS_SPACING_MS).
 */
export const STATUS_SPACING_MS = 1_000

/** The newest record of an author that came within the spacing, who sent it, and when it may be stored. */
interface Held {
  readonly record: SignedBytes
  readonly stamp: StatusStamp
  readonly from: AuthorKey
  readonly dueMs: number
}

/** A record asked of one announcer: the newest stamp announced, who was asked, who else announced it, until when. */
interface Want {
  stamp: StatusStamp
  asked: AuthorKey
  readonly others: AuthorKey[]
  deadline: number
  /** How many times `asked`, the last announcer left, was asked again after not answering. */
  again: number
  /** The space's wire id, for asking the next announcer. */
  readonly id: Uint8Array
}

export class StatusGossip {
  /** Records announced to us and asked of one announcer, per space and author. */
  readonly #wants = new TupleMap<[SpaceKey, AuthorKey], Want>()
  /** The stamp of the record we hold per space and author (null: none), so that an announcement costs no decoding. */
  readonly #stamps = new TupleMap<[SpaceKey, AuthorKey], StatusStamp | null>()
  /** When a peer's record of each author was last stored here (local time), for STATUS_SPACING_MS. */
  readonly #storedAt = new TupleMap<[SpaceKey, AuthorKey], number>()
  /** Per space and author, the newest record that came within the spacing: stored once it is up (heldDue). */
  readonly #held = new TupleMap<[SpaceKey, AuthorKey], Held>()
  readonly #connected: (peer: AuthorKey) => boolean

  constructor (connected: (peer: AuthorKey) => boolean) {
    this.#connected = connected
  }

  /**
   * Whether a peer's newer, verified record of `author` (sent by `from`) may be stored now: not within
   * STATUS_SPACING_MS of the last one stored, else it is held, the newest only, until then. One member publishing as
   * fast as its links allowed had every node of the network verify, store and announce each record (a review's
   * probe: 334 a second at every node, at any distance, nobody charged). Held, never dropped: the newest record is
   * stored in the end, so every node holds the same one once its author slows down.
   */
  admitNow (space: SpaceKey, author: AuthorKey, record: SignedBytes, stamp: StatusStamp, from: AuthorKey,
    nowMs: number): boolean {
    const at = this.#storedAt.get([space, author])
    const held = this.#held.get([space, author])
    // A clock stepped back since counts as the spacing gone by: else every author's next record waited out the step.
    if (at !== undefined && nowMs >= at && nowMs - at < STATUS_SPACING_MS) {
      if (held === undefined || newerStatus(stamp, held.stamp)) {
        this.#held.set([space, author], { record, stamp, from, dueMs: at + STATUS_SPACING_MS })
      }
      return false
    }
    this.#storedAt.set([space, author], nowMs)
    if (held !== undefined && !newerStatus(held.stamp, stamp)) this.#held.delete([space, author])
    return true
  }

  /** Held records whose time came, to be taken as if they came now (admitNow lets them through). */
  heldDue (nowMs: number): { space: SpaceKey, record: SignedBytes, from: AuthorKey }[] {
    const due: { space: SpaceKey, record: SignedBytes, from: AuthorKey }[] = []
    for (const [key, h] of [...this.#held.entries()]) {
      if (h.dueMs > nowMs) continue
      this.#held.delete(key)
      due.push({ space: key[0], record: h.record, from: h.from })
    }
    return due
  }

  /** A record newer than ours was stored (published here, or from `from`): announced to neighbours that may lack it. */
  stored (space: StatusSpace, author: Uint8Array, stamp: StatusStamp, from: StatusNeighbour | null,
    neighbours: Iterable<StatusNeighbour>): Send[] {
    const a = authorKeyOf(author)
    if (from !== null && newerStatus(stamp, from.known.get(a))) from.known.set(a, stamp)
    const have: Message = { m: 'status-have', space: space.id, heads: [{ author, clock: stamp.clock, id: stamp.id }] }
    return this.#toLacking(space, a, stamp, from?.peer, neighbours, have)
  }

  /**
   * A record of ours that must reach neighbours without a pull from us (a leave notice, signed as the space's rows
   * go): the record itself to each neighbour that may lack it, instead of an announcement.
   */
  pushed (space: StatusSpace, record: SignedBytes, author: Uint8Array, stamp: StatusStamp,
    neighbours: Iterable<StatusNeighbour>): Send[] {
    const status: Message = { m: 'status', space: space.id, record }
    return this.#toLacking(space, authorKeyOf(author), stamp, undefined, neighbours, status)
  }

  /** `msg` about `author`'s record of `stamp`, to each neighbour but `skip` that may lack it (marked: it holds it). */
  #toLacking (space: StatusSpace, author: AuthorKey, stamp: StatusStamp, skip: AuthorKey | undefined,
    neighbours: Iterable<StatusNeighbour>, msg: Message): Send[] {
    this.#stamps.set([space.key, author], stamp)
    const out: Send[] = []
    for (const n of neighbours) {
      if (n.peer === skip || !newerStatus(stamp, n.known.get(author))) continue
      n.known.set(author, stamp)
      out.push({ peer: n.peer, msg })
    }
    return out
  }

  /** Announced records (`status-have` from a member): each newer one is asked of one announcer, once. */
  announced (space: StatusSpace, from: StatusNeighbour, heads: readonly StatusHead[], nowMs: number): Send[] {
    const ask: Uint8Array[] = []
    for (const h of heads) {
      const author = authorKeyOf(h.author)
      // Only members publish status records: a head of anyone else is no claim worth holding or asking for.
      if (!space.isMember(author)) continue
      const stamp = stampOf(h)
      if (newerStatus(stamp, from.known.get(author))) from.known.set(author, stamp)
      if (!newerStatus(stamp, this.#had(space, author))) continue
      const wanted = this.#wants.get([space.key, author])
      if (wanted !== undefined) {
        if (newerStatus(stamp, wanted.stamp)) wanted.stamp = stamp
        if (wanted.asked !== from.peer && !wanted.others.includes(from.peer)) wanted.others.push(from.peer)
        continue
      }
      const deadline = nowMs + REQUEST_TIMEOUT_MS
      const want = { stamp, asked: from.peer, others: [], deadline, id: space.id, again: 0 }
      this.#wants.set([space.key, author], want)
      ask.push(h.author)
    }
    return ask.length > 0 ? [{ peer: from.peer, msg: { m: 'status-want', space: space.id, authors: ask } }] : []
  }

  /** A member asked for records (`status-want`): those we hold, while the serve budget has room (else `refused`). */
  asked (space: StatusSpace, from: StatusNeighbour, authors: readonly Uint8Array[],
    serve: StatusServe): { sends: Send[], refused: boolean } {
    const sends: Send[] = []
    for (const a of authors) {
      const author = authorKeyOf(a)
      const record = serve.record(author)
      if (record === undefined) continue
      const bytes = record[0].byteLength + record[1].byteLength + 64
      if (!serve.room(bytes)) return { sends, refused: true }
      const stamp = this.stamp(space, author)
      if (stamp !== null && newerStatus(stamp, from.known.get(author))) from.known.set(author, stamp)
      sends.push({ peer: from.peer, msg: { m: 'status', space: space.id, record } })
      serve.queued(bytes)
    }
    return { sends, refused: false }
  }

  /** A record of `author` came (stored or not): the want is done, or the next announcer of a newer one is asked. */
  answered (space: StatusSpace, author: AuthorKey, nowMs: number): Send[] {
    const wanted = this.#wants.get([space.key, author])
    if (wanted === undefined) return []
    if (!newerStatus(wanted.stamp, this.#had(space, author))) {
      this.#wants.delete([space.key, author])
      return []
    }
    return this.#askNext([space.key, author], nowMs)
  }

  /** Wants past their deadline: asked of the next announcer, or of the same again (it may have been busy). */
  tick (nowMs: number): Send[] {
    const out: Send[] = []
    for (const [key, wanted] of [...this.#wants.entries()]) {
      if (wanted.deadline <= nowMs) out.push(...this.#askNext(key, nowMs, true))
    }
    return out
  }

  /** The link to `peer` ended: what it was asked is asked of the next announcer. */
  peerGone (peer: AuthorKey, nowMs: number): Send[] {
    const out: Send[] = []
    for (const [key, wanted] of [...this.#wants.entries()]) {
      if (wanted.asked === peer) out.push(...this.#askNext(key, nowMs))
    }
    return out
  }

  /** The node left `space`: nothing of it is asked or remembered. */
  spaceGone (space: SpaceKey): void {
    for (const [key] of [...this.#wants.entries()]) if (key[0] === space) this.#wants.delete(key)
    for (const [key] of [...this.#stamps.entries()]) if (key[0] === space) this.#stamps.delete(key)
    for (const [key] of [...this.#storedAt.entries()]) if (key[0] === space) this.#storedAt.delete(key)
    for (const [key] of [...this.#held.entries()]) if (key[0] === space) this.#held.delete(key)
  }

  nextDeadline (): number | null {
    let next: number | null = null
    for (const w of this.#wants.values()) if (next === null || w.deadline < next) next = w.deadline
    for (const h of this.#held.values()) if (next === null || h.dueMs < next) next = h.dueMs
    return next
  }

  /** The newest record of `author` we have: stored, or held for the spacing (a want of it is answered). */
  #had (space: StatusSpace, author: AuthorKey): StatusStamp | null {
    const stored = this.stamp(space, author)
    const held = this.#held.get([space.key, author])?.stamp
    return held !== undefined && newerStatus(held, stored) ? held : stored
  }

  /** The stamp of the record held for `author` in `space` (null: none), looked up once. */
  stamp (space: StatusSpace, author: AuthorKey): StatusStamp | null {
    let stamp = this.#stamps.get([space.key, author])
    if (stamp === undefined) {
      stamp = space.stampOf(author)
      this.#stamps.set([space.key, author], stamp)
    }
    return stamp
  }

  /** The want asked of the next announcer; with `timedOut`, of the same again once none is left (ASK_AGAIN_MAX). */
  #askNext (key: [SpaceKey, AuthorKey], nowMs: number, timedOut = false): Send[] {
    const wanted = this.#wants.get(key)
    if (wanted === undefined) return []
    let next = wanted.others.shift()
    while (next !== undefined && !this.#connected(next)) next = wanted.others.shift()
    if (next === undefined && timedOut && wanted.again < ASK_AGAIN_MAX && this.#connected(wanted.asked)) {
      wanted.again++
      next = wanted.asked
    }
    if (next === undefined) {
      // Nobody else announced it: the author's next record is announced anew.
      this.#wants.delete(key)
      return []
    }
    wanted.asked = next
    wanted.deadline = nowMs + REQUEST_TIMEOUT_MS
    return [{ peer: next, msg: { m: 'status-want', space: wanted.id, authors: [fromHex(key[1])] } }]
  }
}

/** The stamp of a record (or head) alone: what neighbours' `known` maps keep, not the record it came with. */
export function stampOf (record: StatusStamp): StatusStamp
export function stampOf (record: StatusStamp | undefined): StatusStamp | null
export function stampOf (record: StatusStamp | undefined): StatusStamp | null {
  return record === undefined ? null : { clock: record.clock, id: record.id }
}

import { decodeCbor, encodeCbor } from './cbor.ts'
import * as f from './fields.ts'
import { CodecError } from './errors.ts'
import type { Clock } from './entry.ts'
import { readEntriesMessage, writeEntriesMessage } from './message-fast.ts'
import {
  AUTHOR_SIZE, CLOCK_COUNTER_MAX, ENTRY_BYTES_MAX, FEEDS_PER_MESSAGE_MAX, GENESIS_BYTES_MAX, HASH_SIZE,
  HELLO_SPACES_MAX, MESSAGE_BYTES_MAX, REASON_BYTES_MAX, RUN_BYTES_MAX, RUN_ENTRIES_MAX, SIGNATURE_SIZE,
  SPACE_ID_SIZE, STATUS_BYTES_MAX, TIME_MS_MAX
} from './limits.ts'

/**
 * Wire messages of the sync protocol (sync/ decides what they mean).
 * One message = one DAG-CBOR map `{m: type, ...}`; framing is net/'s job.
 */
export type SignedBytes = readonly [bytes: Uint8Array, sig: Uint8Array]

/** A row of a version vector: what a node holds of one feed. */
export interface FeedRow {
  readonly author: Uint8Array
  readonly epoch: number
  /** Entries held, 0..count-1: the next seq. For a frozen feed, the seq of the fork. */
  readonly count: number
  /** Id of entry count-1; null when count is 0. */
  readonly head: Uint8Array | null
  /** A fork was proven at seq `count`: nothing from there on is ever sent. */
  readonly frozen: boolean
}

/** Seqs [from, to) of one feed. */
export interface FeedRange {
  readonly author: Uint8Array
  readonly epoch: number
  readonly from: number
  readonly to: number
}

/**
 * A status record as announced: its author, clock and id (SHA-256 of its bytes). Of two records of one clock (an
 * author may sign both) every node keeps the higher id; without the id in the head, a node holding one never asked
 * for the other, and nodes kept different records of one member (a review's probe).
 */
export interface StatusHead { readonly author: Uint8Array, readonly clock: Clock, readonly id: Uint8Array }

export interface SpaceHello {
  readonly genesis: SignedBytes
  readonly feeds: readonly FeedRow[]
  readonly statuses: readonly StatusHead[]
}

export type Message =
  /**
   * `spaces`: the full hello, only for spaces the receiver is a member of;
   * `tags`: one blinded tag per other space we hold (sync/space-tags.ts), which
   * only a peer that knows the space id can match, padded so a stranger learns
   * at most roughly how many spaces we hold.
   */
  | { readonly m: 'hello', readonly spaces: readonly SpaceHello[], readonly tags?: readonly Uint8Array[] }
  | { readonly m: 'want', readonly space: Uint8Array, readonly ranges: readonly FeedRange[] }
  | { readonly m: 'entries', readonly space: Uint8Array, readonly run: readonly SignedBytes[] }
  | { readonly m: 'none', readonly space: Uint8Array, readonly range: FeedRange }
  | { readonly m: 'have', readonly space: Uint8Array, readonly heads: readonly FeedRow[] }
  | { readonly m: 'fork', readonly space: Uint8Array, readonly a: SignedBytes, readonly b: SignedBytes }
  | { readonly m: 'status', readonly space: Uint8Array, readonly record: SignedBytes }
  /**
   * Status records this node holds (author and clock), announced instead of
   * pushed: a neighbour pulls the newer ones once.
   */
  | { readonly m: 'status-have', readonly space: Uint8Array, readonly heads: readonly StatusHead[] }
  | { readonly m: 'status-want', readonly space: Uint8Array, readonly authors: readonly Uint8Array[] }
  | { readonly m: 'bye', readonly reason: string }
  /**
   * An invite's issuer answers a join presented to it (decision 18): `outcome`
   * 'redeemed', 'waiting' (not the issuer) or a refusal code.
   */
  | {
    readonly m: 'join-answer', readonly space: Uint8Array, readonly join: Uint8Array, readonly outcome: string,
    readonly detail: string
  }

export type MessageType = Message['m']
/** 2: status heads carry the record's id. */
export const PROTOCOL_VERSION = 2

export function encodeMessage (msg: Message): Uint8Array {
  switch (msg.m) {
    case 'hello': return encodeCbor({
      m: msg.m,
      v: PROTOCOL_VERSION,
      sp: msg.spaces.map(s => ({ g: s.genesis, f: s.feeds.map(rowToCbor), st: s.statuses.map(statusHeadToCbor) })),
      ...(msg.tags === undefined ? {} : { t: msg.tags })
    })
    case 'want': return encodeCbor({ m: msg.m, s: msg.space, r: msg.ranges.map(rangeToCbor) })
    case 'entries': return writeEntriesMessage(msg.space, msg.run) // encodeCbor's bytes, without cborg
    case 'none': return encodeCbor({ m: msg.m, s: msg.space, r: rangeToCbor(msg.range) })
    case 'have': return encodeCbor({ m: msg.m, s: msg.space, h: msg.heads.map(rowToCbor) })
    case 'fork': return encodeCbor({ m: msg.m, s: msg.space, a: msg.a, b: msg.b })
    case 'status': return encodeCbor({ m: msg.m, s: msg.space, r: msg.record })
    case 'status-have': return encodeCbor({ m: msg.m, s: msg.space, h: msg.heads.map(statusHeadToCbor) })
    case 'status-want': return encodeCbor({ m: msg.m, s: msg.space, a: msg.authors })
    case 'bye': return encodeCbor({ m: msg.m, r: msg.reason })
    case 'join-answer': return encodeCbor({ m: msg.m, s: msg.space, h: msg.join, r: msg.outcome, b: msg.detail })
    default: return assertNever(msg)
  }
}

/** Only ever returns a Message or throws CodecError. */
export function decodeMessage (bytes: Uint8Array): Message {
  // The common `entries` message, read without cborg (message-fast.ts); anything else takes the general path.
  const fast = bytes instanceof Uint8Array ? readEntriesMessage(bytes) : undefined
  if (fast !== undefined) return fast
  const cbor = decodeCbor(bytes, 'message', MESSAGE_BYTES_MAX, false)
  const raw = f.map(cbor, 'message', ['m', 'v', 'sp', 's', 'r', 'h', 'a', 'b', 't'])
  switch (raw.m) {
    case 'hello': {
      const v = f.map(raw, 'hello', ['m', 'v', 'sp', 't'])
      if (v.v !== PROTOCOL_VERSION) {
        throw new CodecError('UNKNOWN_TYPE', `hello.v: protocol version ${f.describe(v.v)} is not ${PROTOCOL_VERSION}`)
      }
      const spaces = f.array(v.sp, 'hello.sp', HELLO_SPACES_MAX).map((s, i) => spaceHello(s, `hello.sp[${i}]`))
      if (v.t === undefined) return { m: 'hello', spaces }
      const tags = f.array(v.t, 'hello.t', HELLO_SPACES_MAX).map((t, i) => f.bytes(t, `hello.t[${i}]`, HASH_SIZE))
      return { m: 'hello', spaces, tags }
    }
    case 'want': {
      const v = f.map(raw, 'want', ['m', 's', 'r'])
      const space = spaceId(v.s, 'want.s')
      const ranges = f.array(v.r, 'want.r', FEEDS_PER_MESSAGE_MAX).map((r, i) => range(r, `want.r[${i}]`))
      return { m: 'want', space, ranges }
    }
    case 'entries': {
      const v = f.map(raw, 'entries', ['m', 's', 'r'])
      const run = f.array(v.r, 'entries.r', RUN_ENTRIES_MAX)
        .map((e, i) => signed(e, `entries.r[${i}]`, ENTRY_BYTES_MAX))
      const total = run.reduce((n, e) => n + e[0].length, 0)
      if (total > RUN_BYTES_MAX) throw new CodecError('OVERSIZED', `entries.r: ${total} bytes, limit ${RUN_BYTES_MAX}`)
      return { m: 'entries', space: spaceId(v.s, 'entries.s'), run }
    }
    case 'none': {
      const v = f.map(raw, 'none', ['m', 's', 'r'])
      return { m: 'none', space: spaceId(v.s, 'none.s'), range: range(v.r, 'none.r') }
    }
    case 'have': {
      const v = f.map(raw, 'have', ['m', 's', 'h'])
      const space = spaceId(v.s, 'have.s')
      const heads = f.array(v.h, 'have.h', FEEDS_PER_MESSAGE_MAX).map((r, i) => row(r, `have.h[${i}]`))
      return { m: 'have', space, heads }
    }
    case 'fork': {
      const v = f.map(raw, 'fork', ['m', 's', 'a', 'b'])
      const space = spaceId(v.s, 'fork.s')
      return { m: 'fork', space, a: signed(v.a, 'fork.a', ENTRY_BYTES_MAX), b: signed(v.b, 'fork.b', ENTRY_BYTES_MAX) }
    }
    case 'status': {
      const v = f.map(raw, 'status', ['m', 's', 'r'])
      return { m: 'status', space: spaceId(v.s, 'status.s'), record: signed(v.r, 'status.r', STATUS_BYTES_MAX) }
    }
    case 'status-have': {
      const v = f.map(raw, 'status-have', ['m', 's', 'h'])
      const space = spaceId(v.s, 'status-have.s')
      const heads = f.array(v.h, 'status-have.h', FEEDS_PER_MESSAGE_MAX)
        .map((h, i) => statusHead(h, `status-have.h[${i}]`))
      return { m: 'status-have', space, heads }
    }
    case 'status-want': {
      const v = f.map(raw, 'status-want', ['m', 's', 'a'])
      const space = spaceId(v.s, 'status-want.s')
      const authors = f.array(v.a, 'status-want.a', FEEDS_PER_MESSAGE_MAX)
        .map((a, i) => f.bytes(a, `status-want.a[${i}]`, AUTHOR_SIZE))
      return { m: 'status-want', space, authors }
    }
    case 'bye': {
      const v = f.map(raw, 'bye', ['m', 'r'])
      return { m: 'bye', reason: f.string(v.r, 'bye.r', REASON_BYTES_MAX) }
    }
    case 'join-answer': {
      const v = f.map(raw, 'join-answer', ['m', 's', 'h', 'r', 'b'])
      return {
        m: 'join-answer',
        space: spaceId(v.s, 'join-answer.s'),
        join: f.bytes(v.h, 'join-answer.h', HASH_SIZE),
        outcome: f.string(v.r, 'join-answer.r', 32),
        detail: f.string(v.b, 'join-answer.b', REASON_BYTES_MAX)
      }
    }
    default:
      throw new CodecError('UNKNOWN_TYPE', `message.m: unknown message type ${f.describe(raw.m)}`)
  }
}

function rowToCbor (r: FeedRow): unknown[] {
  return [r.author, r.epoch, r.count, r.head, r.frozen]
}

function rangeToCbor (r: FeedRange): unknown[] {
  return [r.author, r.epoch, r.from, r.to]
}

function spaceId (v: unknown, path: string): Uint8Array {
  return f.bytes(v, path, SPACE_ID_SIZE)
}

function signed (v: unknown, path: string, maxBytes: number): SignedBytes {
  const a = f.array(v, path, 2, 2)
  return [f.bytes(a[0], `${path}[0]`, undefined, maxBytes), f.bytes(a[1], `${path}[1]`, SIGNATURE_SIZE)]
}

function row (v: unknown, path: string): FeedRow {
  const a = f.array(v, path, 5, 5)
  const count = f.int(a[2], `${path}[2]`)
  const head = f.nullableBytes(a[3], `${path}[3]`, HASH_SIZE)
  if ((count === 0) !== (head === null)) throw f.invalid(path, 'a head is given exactly when count > 0')
  const author = f.bytes(a[0], `${path}[0]`, AUTHOR_SIZE)
  return { author, epoch: f.int(a[1], `${path}[1]`), count, head, frozen: f.bool(a[4], `${path}[4]`) }
}

function range (v: unknown, path: string): FeedRange {
  const a = f.array(v, path, 4, 4)
  const from = f.int(a[2], `${path}[2]`)
  const to = f.int(a[3], `${path}[3]`)
  if (to <= from) throw f.invalid(path, `empty range ${from}..${to}`)
  return { author: f.bytes(a[0], `${path}[0]`, AUTHOR_SIZE), epoch: f.int(a[1], `${path}[1]`), from, to }
}

function spaceHello (v: unknown, path: string): SpaceHello {
  const s = f.map(v, path, ['g', 'f', 'st'])
  const statuses = f.array(s.st, `${path}.st`, FEEDS_PER_MESSAGE_MAX).map((h, i) => statusHead(h, `${path}.st[${i}]`))
  return {
    genesis: signed(s.g, `${path}.g`, GENESIS_BYTES_MAX),
    feeds: f.array(s.f, `${path}.f`, FEEDS_PER_MESSAGE_MAX).map((r, i) => row(r, `${path}.f[${i}]`)),
    statuses
  }
}

function statusHead (v: unknown, path: string): StatusHead {
  const a = f.array(v, path, 4, 4)
  return {
    author: f.bytes(a[0], `${path}[0]`, AUTHOR_SIZE),
    clock: {
      wallMs: f.int(a[1], `${path}[1]`, 0, TIME_MS_MAX),
      counter: f.int(a[2], `${path}[2]`, 0, CLOCK_COUNTER_MAX)
    },
    id: f.bytes(a[3], `${path}[3]`, HASH_SIZE)
  }
}

function statusHeadToCbor (h: StatusHead): unknown[] {
  return [h.author, h.clock.wallMs, h.clock.counter, h.id]
}

function assertNever (x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`)
}

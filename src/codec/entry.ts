import { assertEncodable, assertValueDepth, decodeCbor, encodeCbor } from './cbor.ts'
import { readFileEntry, readKvEntry } from './entry-fast.ts'
import { filePathProblem, pathFormProblem } from './file-path.ts'
import { writeFileEntry, writeKvEntry } from './entry-fast-write.ts'
import { sha256 } from './hash.ts'
import * as f from './fields.ts'
import { CodecError } from './errors.ts'
import {
  AUTHOR_SIZE, CLOCK_COUNTER_MAX, ENTRY_BYTES_MAX, ENTRY_DEPTH_MAX, FILE_CHUNKS_MAX,
  FILE_MODE_BITS, FILE_PARTS_MAX, HASH_SIZE, INVITE_USES_MAX, KEEP_MAX, KEY_BYTES_MAX, NAME_BYTES_MAX, PATH_BYTES_MAX,
  SIGNATURE_SIZE, SPACE_ID_SIZE, SUPERSEDES_MAX
} from './limits.ts'

/**
 * A feed entry. On the wire and on disk it is `[unsignedBytes, sig]`; its id
 * is SHA-256 of the unsigned bytes (canonical DAG-CBOR), and the author signs
 * "samepage/entry/v1" || id (design decision 1).
 */
export type Role = 'owner' | 'admin' | 'writer' | 'reader'
export type GrantableRole = Exclude<Role, 'owner'>
export const GRANTABLE_ROLES: readonly GrantableRole[] = ['admin', 'writer', 'reader']

/** Hybrid logical clock: wall milliseconds and a counter for ties (decision 8). */
export interface Clock { readonly wallMs: number, readonly counter: number }
/** A place in an author's feeds; (epoch, seq) ordered lexicographically. */
export interface Position { readonly epoch: number, readonly seq: number }

export type DataBody =
  | { readonly t: 'kv.put', readonly key: string, readonly value: unknown }
  | { readonly t: 'kv.del', readonly key: string }
  | { readonly t: 'counter.add', readonly name: string, readonly delta: number }
  | { readonly t: 'ledger.append', readonly tx: unknown }
  | FileBody
  | FilePartBody

/** One chunk of a file: the SHA-256 of its bytes and its size. */
export type FileChunk = readonly [hash: Uint8Array, size: number]

/**
 * A version of a file in a shared folder (design: Files). `supersedes` names
 * the versions (entry ids) its writer had when it made this one, so that
 * versions nobody superseded are concurrent: a conflict. A delete is a
 * version with `deleted` and no chunks. `mode` is the permission bits.
 */
export interface FileBody {
  readonly t: 'file'
  readonly path: string
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly deleted: boolean
  readonly supersedes: readonly Uint8Array[]
  /** The chunk list inline (up to FILE_CHUNKS_MAX), or empty when `parts` holds it. */
  readonly chunks: readonly FileChunk[]
  /**
   * A bigger file's chunk list, as the positions of `file.part` entries of
   * the same author before this one, in order: the chunk list is their
   * chunks end to end. A part may be one an earlier version listed (an edit
   * republishes only the parts it changed).
   */
  readonly parts?: readonly Position[]
}

/** A run of a big file's chunk list (see FileBody.parts). */
interface FilePartBody {
  readonly t: 'file.part'
  readonly chunks: readonly FileChunk[]
}

type AclBody =
  | { readonly t: 'acl.grant', readonly member: Uint8Array, readonly role: GrantableRole, readonly from: Position }
  | { readonly t: 'acl.revoke', readonly member: Uint8Array, readonly at: Position, readonly keep: readonly number[] }
  | {
    readonly t: 'invite', readonly key: Uint8Array, readonly role: GrantableRole, readonly uses: number,
    readonly expiresMs: number
  }
  | { readonly t: 'invite.revoke', readonly invite: Uint8Array, readonly keep: readonly Uint8Array[] }
  | { readonly t: 'join', readonly invite: Uint8Array, readonly proof: Uint8Array }
  /**
   * The invite's issuer admits the join `join` (an entry id) on its invite
   * `invite` (decision 18): only the issuer's own count.
   */
  | { readonly t: 'invite.redeem', readonly invite: Uint8Array, readonly join: Uint8Array }

export type Body = DataBody | AclBody
export type BodyType = Body['t']
export const ACL_TYPES: readonly BodyType[] = [
  'acl.grant', 'acl.revoke', 'invite', 'invite.revoke', 'join', 'invite.redeem'
]

export interface UnsignedEntry {
  readonly space: Uint8Array
  readonly author: Uint8Array
  readonly epoch: number
  readonly seq: number
  /** Hash of the previous entry of this feed; at seq 0, the last head of an earlier epoch the author held, or null. */
  readonly prev: Uint8Array | null
  readonly clock: Clock
  readonly body: Body
}

export interface Entry extends UnsignedEntry {
  readonly id: Uint8Array
  readonly bytes: Uint8Array
  readonly sig: Uint8Array
}

export const ENTRY_SIGNATURE_DOMAIN = 'samepage/entry/v1'
export const JOIN_PROOF_DOMAIN = 'samepage/join/v1'
/** Epochs, seqs and clock milliseconds fit in 6 bytes (ledger keys pack them; year 10889 is far enough). */
export const POSITION_MAX = 2 ** 48 - 1
const EPOCH_MAX = POSITION_MAX

/**
 * An entry's canonical bytes: kv entries and file records written directly (entry-fast-write.ts), others by cborg.
 * Every body first passes the checks every receiver applies (bodyToCbor): an entry a peer would refuse is never
 * signed, so no local command can get this node blamed by its peers or break its own feed for them.
 */
export function encodeUnsignedEntry (entry: UnsignedEntry): Uint8Array {
  const body = bodyToCbor(entry.body)
  const file = entry.body.t === 'file' && entry.body.parts === undefined
  const bytes = writeKvEntry(entry) ?? (file ? writeFileEntry(entry) : undefined) ?? encodeGeneral(entry, body)
  if (bytes.length > ENTRY_BYTES_MAX) {
    throw new CodecError('OVERSIZED', `entry: ${bytes.length} bytes, limit ${ENTRY_BYTES_MAX}`)
  }
  return bytes
}

function encodeGeneral (entry: UnsignedEntry, body: Record<string, unknown>): Uint8Array {
  if (entry.body.t === 'kv.put') assertValueDepth(entry.body.value, 'the kv value')
  if (entry.body.t === 'ledger.append') assertValueDepth(entry.body.tx, 'the ledger tx')
  assertEncodable(entry.body, 'entry.b', ENTRY_DEPTH_MAX - 1)
  try {
    return encodeCbor({
      s: entry.space,
      a: entry.author,
      e: entry.epoch,
      q: entry.seq,
      p: entry.prev,
      c: [entry.clock.wallMs, entry.clock.counter],
      b: body
    })
  } catch (err) {
    throw unencodableBody(body) ?? err
  }
}

/** The writer's error when the body holds what DAG-CBOR cannot (Infinity: JSON's 1e400, NaN): that write's alone. */
function unencodableBody (body: unknown): CodecError | undefined {
  try {
    encodeCbor(body)
    return undefined
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    return new CodecError('INVALID_FIELD', `entry.b: a value that cannot be stored (${reason.slice(0, 120)})`)
  }
}

/**
 * Decodes and checks an entry's bytes; only ever returns an Entry or throws CodecError. Common kv entries and file
 * records are read straight from their bytes (entry-fast.ts); everything else, and every error, takes the general path.
 * checkCanonical=false is for bytes read back from our own store, checked when they arrived.
 */
export function decodeEntry (bytes: Uint8Array, sig: Uint8Array, checkCanonical = true): Entry {
  f.bytes(sig, 'entry.sig', SIGNATURE_SIZE)
  const fileRule = checkCanonical ? filePathProblem : pathFormProblem // fileBody's rule for its `arriving`
  const fits = bytes instanceof Uint8Array && bytes.length <= ENTRY_BYTES_MAX
  const fast = fits ? readKvEntry(bytes) ?? readFileEntry(bytes, fileRule) : undefined
  if (fast !== undefined) {
    // Built in the general path's field order, so both give objects of one shape.
    const { space, author, epoch, seq, prev, wallMs, counter, body } = fast
    return { space, author, epoch, seq, prev, clock: { wallMs, counter }, body, id: sha256(bytes), bytes, sig }
  }
  return decodeEntryByCbor(bytes, sig, checkCanonical)
}

/** decodeEntry's general path, for any entry (the tests of the direct readers compare them with it). */
export function decodeEntryByCbor (bytes: Uint8Array, sig: Uint8Array, checkCanonical = true): Entry {
  f.bytes(sig, 'entry.sig', SIGNATURE_SIZE)
  const raw = decodeCbor(bytes, 'entry', ENTRY_BYTES_MAX, checkCanonical, ENTRY_DEPTH_MAX)
  const v = f.map(raw, 'entry', ['s', 'a', 'e', 'q', 'p', 'c', 'b'])
  const clock = f.array(v.c, 'entry.c', 2, 2)
  const seq = f.int(v.q, 'entry.q', 0, POSITION_MAX)
  return {
    space: f.bytes(v.s, 'entry.s', SPACE_ID_SIZE),
    author: f.bytes(v.a, 'entry.a', AUTHOR_SIZE),
    epoch: f.int(v.e, 'entry.e', 0, EPOCH_MAX),
    seq,
    prev: f.nullableBytes(v.p, 'entry.p', HASH_SIZE),
    clock: {
      wallMs: f.int(clock[0], 'entry.c[0]', 0, POSITION_MAX),
      counter: f.int(clock[1], 'entry.c[1]', 0, CLOCK_COUNTER_MAX)
    },
    body: bodyFromCbor(v.b, checkCanonical),
    id: sha256(bytes),
    bytes,
    sig
  }
}

/** A body as it is encoded, checked as every receiver checks it (bodyFromCbor): a refusal names the field and limit. */
function bodyToCbor (body: Body): Record<string, unknown> {
  const cbor = cborForm(body)
  bodyFromCbor(cbor)
  return cbor
}

function cborForm (body: Body): Record<string, unknown> {
  switch (body.t) {
    case 'acl.grant': return { ...body, from: positionToCbor(body.from) }
    case 'acl.revoke': return { ...body, at: positionToCbor(body.at) }
    case 'file': {
      const { parts, ...rest } = body
      return {
        ...rest,
        chunks: body.chunks.map(c => [c[0], c[1]]),
        supersedes: [...body.supersedes],
        ...(parts === undefined ? {} : { parts: parts.map(positionToCbor) })
      }
    }
    case 'file.part': return { t: body.t, chunks: body.chunks.map(c => [c[0], c[1]]) }
    default: return { ...body }
  }
}

function positionToCbor (p: Position): [number, number] {
  return [p.epoch, p.seq]
}

function position (v: unknown, path: string): Position {
  const a = f.array(v, path, 2, 2)
  return { epoch: f.int(a[0], `${path}[0]`, 0, EPOCH_MAX), seq: f.int(a[1], `${path}[1]`, 0, POSITION_MAX) }
}

function bodyFromCbor (raw: unknown, arriving = true): Body {
  const t = f.map(raw, 'entry.b', [
    't', 'key', 'value', 'name', 'delta', 'tx', 'member', 'role', 'from', 'at', 'keep', 'uses', 'expiresMs', 'invite',
    'proof', 'join', 'path', 'size', 'mode', 'mtimeMs', 'deleted', 'supersedes', 'chunks', 'parts'
  ]).t
  switch (t) {
    case 'kv.put': {
      const b = f.map(raw, 'entry.b', ['t', 'key', 'value'])
      if (!('value' in b)) throw f.invalid('entry.b.value', 'missing')
      return { t, key: f.string(b.key, 'entry.b.key', KEY_BYTES_MAX, 1), value: b.value }
    }
    case 'kv.del': {
      const b = f.map(raw, 'entry.b', ['t', 'key'])
      return { t, key: f.string(b.key, 'entry.b.key', KEY_BYTES_MAX, 1) }
    }
    case 'counter.add': {
      const b = f.map(raw, 'entry.b', ['t', 'name', 'delta'])
      return {
        t,
        name: f.string(b.name, 'entry.b.name', NAME_BYTES_MAX, 1),
        delta: f.int(b.delta, 'entry.b.delta', -Number.MAX_SAFE_INTEGER)
      }
    }
    case 'ledger.append': {
      const b = f.map(raw, 'entry.b', ['t', 'tx'])
      if (!('tx' in b)) throw f.invalid('entry.b.tx', 'missing')
      return { t, tx: b.tx }
    }
    case 'acl.grant': {
      const b = f.map(raw, 'entry.b', ['t', 'member', 'role', 'from'])
      return {
        t,
        member: f.bytes(b.member, 'entry.b.member', AUTHOR_SIZE),
        role: f.oneOf(b.role, 'entry.b.role', GRANTABLE_ROLES),
        from: position(b.from, 'entry.b.from')
      }
    }
    case 'acl.revoke': {
      const b = f.map(raw, 'entry.b', ['t', 'member', 'at', 'keep'])
      const keep = f.array(b.keep, 'entry.b.keep', KEEP_MAX).map((e, i) => f.int(e, `entry.b.keep[${i}]`, 0, EPOCH_MAX))
      return { t, member: f.bytes(b.member, 'entry.b.member', AUTHOR_SIZE), at: position(b.at, 'entry.b.at'), keep }
    }
    case 'invite': {
      const b = f.map(raw, 'entry.b', ['t', 'key', 'role', 'uses', 'expiresMs'])
      return {
        t,
        key: f.bytes(b.key, 'entry.b.key', AUTHOR_SIZE),
        role: f.oneOf(b.role, 'entry.b.role', GRANTABLE_ROLES),
        uses: f.int(b.uses, 'entry.b.uses', 1, INVITE_USES_MAX),
        expiresMs: f.int(b.expiresMs, 'entry.b.expiresMs')
      }
    }
    case 'invite.revoke': {
      const b = f.map(raw, 'entry.b', ['t', 'invite', 'keep'])
      const keep = f.array(b.keep, 'entry.b.keep', KEEP_MAX).map((e, i) => f.bytes(e, `entry.b.keep[${i}]`, HASH_SIZE))
      return { t, invite: f.bytes(b.invite, 'entry.b.invite', HASH_SIZE), keep }
    }
    case 'join': {
      const b = f.map(raw, 'entry.b', ['t', 'invite', 'proof'])
      const invite = f.bytes(b.invite, 'entry.b.invite', HASH_SIZE)
      return { t, invite, proof: f.bytes(b.proof, 'entry.b.proof', SIGNATURE_SIZE) }
    }
    case 'invite.redeem': {
      const b = f.map(raw, 'entry.b', ['t', 'invite', 'join'])
      const invite = f.bytes(b.invite, 'entry.b.invite', HASH_SIZE)
      return { t, invite, join: f.bytes(b.join, 'entry.b.join', HASH_SIZE) }
    }
    case 'file': return fileBody(raw, arriving)
    case 'file.part': return filePartBody(raw)
    default:
      throw new CodecError('UNKNOWN_TYPE', `entry.b.t: unknown body type ${f.describe(t)}`)
  }
}

function chunkList (v: unknown, path: string, min: number): FileChunk[] {
  const list = f.array(v, path, FILE_CHUNKS_MAX)
  if (list.length < min) throw f.invalid(path, `at least ${min} chunk expected`)
  return list.map((c, i): FileChunk => {
    const pair = f.array(c, `${path}[${i}]`, 2, 2)
    return [f.bytes(pair[0], `${path}[${i}][0]`, HASH_SIZE), f.int(pair[1], `${path}[${i}][1]`, 1)]
  })
}

function nonEmpty (v: unknown[], path: string): unknown[] {
  if (v.length === 0) throw f.invalid(path, 'empty')
  return v
}

function filePartBody (raw: unknown): FilePartBody {
  const b = f.map(raw, 'entry.b', ['t', 'chunks'])
  return { t: 'file.part', chunks: chunkList(b.chunks, 'entry.b.chunks', 1) }
}

/**
 * `arriving` false: read back from our own store, checked when it arrived (a
 * record stored before the work-area rule still reads; files/ never writes it).
 */
function fileBody (raw: unknown, arriving = true): FileBody {
  const b = f.map(raw, 'entry.b', ['t', 'path', 'size', 'mode', 'mtimeMs', 'deleted', 'supersedes', 'chunks', 'parts'])
  const path = f.string(b.path, 'entry.b.path', PATH_BYTES_MAX, 1)
  const problem = arriving ? filePathProblem(path) : pathFormProblem(path)
  if (problem !== null) throw f.invalid('entry.b.path', problem)
  const size = f.int(b.size, 'entry.b.size')
  const deleted = f.bool(b.deleted, 'entry.b.deleted')
  const chunks = chunkList(b.chunks, 'entry.b.chunks', 0)
  const parts = b.parts === undefined
    ? undefined
    : nonEmpty(f.array(b.parts, 'entry.b.parts', FILE_PARTS_MAX), 'entry.b.parts')
      .map((p, i) => position(p, `entry.b.parts[${i}]`))
  if (parts !== undefined) {
    // The sizes are checked where the parts are read (the replica), since they are other entries.
    if (chunks.length > 0 || deleted) {
      throw f.invalid('entry.b.parts', 'a file with parts has no inline chunks and is not deleted')
    }
  } else if (chunks.reduce((n, c) => n + c[1], 0) !== size) {
    throw f.invalid('entry.b.chunks', `chunk sizes do not add up to size ${size}`)
  }
  if (deleted && chunks.length > 0) throw f.invalid('entry.b.chunks', 'a deleted file has no chunks')
  return {
    t: 'file',
    path,
    size,
    // Permission bits only: setuid, setgid and sticky are dropped on every node alike (decision 19).
    mode: f.int(b.mode, 'entry.b.mode', 0, 0o7777) & FILE_MODE_BITS,
    mtimeMs: f.int(b.mtimeMs, 'entry.b.mtimeMs', 0, POSITION_MAX),
    deleted,
    supersedes: f.array(b.supersedes, 'entry.b.supersedes', SUPERSEDES_MAX)
      .map((e, i) => f.bytes(e, `entry.b.supersedes[${i}]`, HASH_SIZE)),
    chunks,
    ...(parts === undefined ? {} : { parts })
  }
}

/** Total order on positions. */
export function comparePositions (a: Position, b: Position): number {
  return a.epoch - b.epoch || a.seq - b.seq
}

export function compareClocks (a: Clock, b: Clock): number {
  return a.wallMs - b.wallMs || a.counter - b.counter
}

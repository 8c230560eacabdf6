import { assertEncodable, compareBytes, decodeCbor, encodeCbor } from './cbor.ts'
import { cidOf, sha256 } from './hash.ts'
import type { CID } from 'multiformats/cid'
import * as f from './fields.ts'
import { CodecError } from './errors.ts'
import { compareClocks } from './entry.ts'
import type { Clock } from './entry.ts'
import {
  AUTHOR_SIZE, CLOCK_COUNTER_MAX, GENESIS_BYTES_MAX, NAME_BYTES_MAX, SIGNATURE_SIZE, SPACE_ID_SIZE, STATUS_BYTES_MAX,
  TIME_MS_MAX
} from './limits.ts'

/**
 * Standalone signed records: a space's genesis (its CID is the space id)
 * and status records (only the newest per author is kept; never in a feed).
 */
export interface Genesis {
  readonly name: string
  readonly createdMs: number
  readonly owner: Uint8Array
}

export interface SignedGenesis extends Genesis {
  readonly bytes: Uint8Array
  readonly sig: Uint8Array
  readonly cid: CID
}

export const GENESIS_SIGNATURE_DOMAIN = 'samepage/genesis/v1'
export const STATUS_SIGNATURE_DOMAIN = 'samepage/status/v1'

export function encodeGenesis (g: Genesis): Uint8Array {
  assertEncodable(g.name, 'genesis.name')
  return encodeCbor({ t: 'samepage.space', name: g.name, createdMs: g.createdMs, owner: g.owner })
}

export function decodeGenesis (bytes: Uint8Array, sig: Uint8Array): SignedGenesis {
  f.bytes(sig, 'genesis.sig', SIGNATURE_SIZE)
  const v = f.map(decodeCbor(bytes, 'genesis', GENESIS_BYTES_MAX, true), 'genesis', ['t', 'name', 'createdMs', 'owner'])
  if (v.t !== 'samepage.space') throw new CodecError('UNKNOWN_TYPE', 'genesis.t: not a samepage space genesis')
  return {
    name: f.string(v.name, 'genesis.name', NAME_BYTES_MAX, 1),
    createdMs: f.int(v.createdMs, 'genesis.createdMs'),
    owner: f.bytes(v.owner, 'genesis.owner', AUTHOR_SIZE),
    bytes,
    sig,
    cid: cidOf(bytes)
  }
}

export interface StatusRecord {
  readonly space: Uint8Array
  readonly author: Uint8Array
  readonly clock: Clock
  readonly body: Readonly<Record<string, unknown>>
}

export interface SignedStatus extends StatusRecord {
  readonly bytes: Uint8Array
  readonly sig: Uint8Array
  /** SHA-256 of the bytes: what is signed (with the domain), and the tie-break between equal clocks. */
  readonly id: Uint8Array
}

/** A status record as two are compared: its clock, and its id (SHA-256 of its bytes) between two of one clock. */
export interface StatusStamp { readonly clock: Clock, readonly id: Uint8Array }

/**
 * Whether status record `a` replaces `b` (none: any does): a later clock, or of one clock (an author may sign two)
 * the higher id. The one rule every node keeps, gossips and shows records by, so all end with the same record.
 */
export function newerStatus (a: StatusStamp, b: StatusStamp | null | undefined): boolean {
  return b === null || b === undefined || (compareClocks(a.clock, b.clock) || compareBytes(a.id, b.id)) > 0
}

export function encodeStatus (s: StatusRecord): Uint8Array {
  assertEncodable(s.body, 'status.b')
  const bytes = encodeCbor({ s: s.space, a: s.author, c: [s.clock.wallMs, s.clock.counter], b: s.body })
  if (bytes.length > STATUS_BYTES_MAX) {
    throw new CodecError('OVERSIZED', `status: ${bytes.length} bytes, limit ${STATUS_BYTES_MAX}`)
  }
  return bytes
}

export function decodeStatus (bytes: Uint8Array, sig: Uint8Array): SignedStatus {
  f.bytes(sig, 'status.sig', SIGNATURE_SIZE)
  const v = f.map(decodeCbor(bytes, 'status', STATUS_BYTES_MAX, true), 'status', ['s', 'a', 'c', 'b'])
  const clock = f.array(v.c, 'status.c', 2, 2)
  const body = v.b
  const isMap = body !== null && typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array)
  if (!isMap) throw f.invalid('status.b', 'expected a map')
  return {
    space: f.bytes(v.s, 'status.s', SPACE_ID_SIZE),
    author: f.bytes(v.a, 'status.a', AUTHOR_SIZE),
    clock: {
      wallMs: f.int(clock[0], 'status.c[0]', 0, TIME_MS_MAX),
      counter: f.int(clock[1], 'status.c[1]', 0, CLOCK_COUNTER_MAX)
    },
    body: body as Record<string, unknown>,
    bytes,
    sig,
    id: sha256(bytes)
  }
}

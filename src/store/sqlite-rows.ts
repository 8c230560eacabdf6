import assert from 'node:assert/strict'
import type { SQLOutputValue } from 'node:sqlite'
import { isEntryId } from '../ids/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { FeedState, ServedEntry, StoredEntry } from './types.ts'

/**
 * Rows as SQLite returns them, to the store's types: every column is
 * checked for its type (a damaged or foreign file throws here, not later).
 *
 * Ids are NOT parsed here. Every id in these columns was written by this
 * store from a branded id (made by the ids/ constructor or parser before it
 * reached the store), and catch-up reads some 50,000 rows/s: a parse per row
 * would check again what was checked before it was written. So each id kind
 * becomes its branded type by one cast below (authorKeyText, entryIdText,
 * spaceKeyText), and nowhere else in the store.
 */
type Row = Record<string, SQLOutputValue>

/**
 * An id as stored: its 32 bytes. Only a file migrated from version 1 can
 * hold an id of another spelling (as TEXT, see sqlite-schema.ts): it is
 * looked up as that text, and reads back as is.
 */
export function idValue (id: EntryId): Uint8Array | string {
  // Only bound to a statement, never kept: a Buffer (maybe a view of Node's pool) needs no copy of its own.
  return isEntryId(id) ? Buffer.from(id, 'hex') : id
}

/** The one cast of the store to AuthorKey: text this store wrote from an AuthorKey. */
export function authorKeyText (v: SQLOutputValue | undefined): AuthorKey {
  return str(v) as AuthorKey
}

/** The one cast of the store to SpaceKey: text this store wrote from a SpaceKey. */
export function spaceKeyText (v: SQLOutputValue | undefined): SpaceKey {
  return str(v) as SpaceKey
}

/** The one cast of the store to EntryId: text (or bytes) this store wrote from an EntryId. */
function entryIdText (v: SQLOutputValue | undefined): EntryId {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') as EntryId
  return str(v) as EntryId
}

export function toEntry (r: Row): StoredEntry {
  const kind = str(r['kind'])
  if (kind !== 'acl' && kind !== 'data') assert.fail(`store: bad entry kind ${kind}`)
  return {
    author: authorKeyText(r['author']),
    epoch: num(r['epoch']),
    seq: num(r['seq']),
    id: entryIdText(r['id']),
    bytes: bytes(r['bytes']),
    sig: bytes(r['sig']),
    verified: num(r['verified']) === 1,
    kind
  }
}

/** A row of the run statement (RUN_COLUMNS, as an array) of the feed (`author`, `epoch`) the caller named. */
export function toRunEntry (author: AuthorKey, epoch: number, r: readonly SQLOutputValue[]): StoredEntry {
  const kind = str(r[5])
  if (kind !== 'acl' && kind !== 'data') assert.fail(`store: bad entry kind ${kind}`)
  return {
    author,
    epoch,
    seq: num(r[0]),
    id: entryIdText(r[1]),
    bytes: bytes(r[2]),
    sig: bytes(r[3]),
    verified: num(r[4]) === 1,
    kind
  }
}

/**
 * The one row of the servedRun statement (sqlite-statements.ts SERVED_RUN_SQL) as the run's entries: each entry's
 * bytes and sig are views of the two blobs the row carries, cut at the lengths it lists. Checked whole: counts,
 * flags and lengths must agree with each other and with the blobs, and seqs must ascend.
 */
export function toServedRun (r: readonly SQLOutputValue[]): ServedEntry[] {
  const n = num(r[0])
  if (n === 0) return []
  const seqs = intList(r[1], n)
  const flags = str(r[2])
  const byteLengths = intList(r[3], n)
  const allBytes = bytes(r[4])
  const sigLengths = intList(r[5], n)
  const allSigs = bytes(r[6])
  if (flags.length !== n) assert.fail(`store: ${flags.length} verified flags for a run of ${n}`)
  const run = new Array<ServedEntry>(n)
  let b = 0
  let s = 0
  for (let i = 0; i < n; i++) {
    const flag = flags.charCodeAt(i) - 48 // '0' or '1'
    if (flag !== 0 && flag !== 1) assert.fail(`store: bad verified flag in a run: ${flags[i]}`)
    const bEnd = b + (byteLengths[i] as number)
    const sEnd = s + (sigLengths[i] as number)
    if (bEnd > allBytes.length || sEnd > allSigs.length) assert.fail('store: a run\'s lengths overrun its blobs')
    const seq = seqs[i] as number
    if (i > 0 && !(seq > (seqs[i - 1] as number))) assert.fail('store: a run\'s seqs out of order')
    run[i] = { seq, bytes: allBytes.subarray(b, bEnd), sig: allSigs.subarray(s, sEnd), verified: flag === 1 }
    b = bEnd
    s = sEnd
  }
  if (b !== allBytes.length || s !== allSigs.length) assert.fail('store: a run\'s lengths fall short of its blobs')
  return run
}

/** `count` non-negative integers from a comma list (group_concat's), without a string per number. */
function intList (v: SQLOutputValue | undefined, count: number): number[] {
  const text = str(v)
  const out = new Array<number>(count)
  let k = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 44 : text.charCodeAt(i)
    if (c === 44) { // ','
      if (digits === 0 || k === count) assert.fail('store: a bad number list in a run')
      out[k++] = value
      value = 0
      digits = 0
    } else if (c >= 48 && c <= 57 && digits < 15) {
      value = value * 10 + (c - 48)
      digits++
    } else {
      assert.fail('store: a bad number list in a run')
    }
  }
  if (k !== count) assert.fail(`store: ${k} numbers for a run of ${count}`)
  return out
}

export function toFeed (r: Row): FeedState {
  const head = r['head']
  const frozen = r['frozen_at']
  return {
    author: authorKeyText(r['author']),
    epoch: num(r['epoch']),
    count: num(r['count']),
    head: head === null || head === undefined ? null : entryIdText(head),
    frozenAt: frozen === null || frozen === undefined ? null : num(frozen)
  }
}

export function num (v: SQLOutputValue | bigint | undefined): number {
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  if (typeof v !== 'number') assert.fail(`store: expected an integer, got ${typeof v}`)
  return v
}

function str (v: SQLOutputValue | undefined): string {
  if (typeof v !== 'string') assert.fail(`store: expected text, got ${typeof v}`)
  return v
}

export function bytes (v: SQLOutputValue | undefined): Uint8Array {
  if (!(v instanceof Uint8Array)) assert.fail(`store: expected a blob, got ${typeof v}`)
  return v
}

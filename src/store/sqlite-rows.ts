import assert from 'node:assert/strict'
import type { SQLOutputValue } from 'node:sqlite'
import { isEntryId } from '../ids/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { FeedState, StoredEntry } from './types.ts'

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

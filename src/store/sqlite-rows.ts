import type { SQLOutputValue } from 'node:sqlite'
import type { FeedState, IdHex, StoredEntry } from './types.ts'

/**
 * Rows as SQLite returns them, to the store's types: every column is
 * checked for its type (a damaged or foreign file throws here, not later).
 */
type Row = Record<string, SQLOutputValue>

const CANONICAL_HEX = /^(?:[0-9a-f]{2})*$/

/** An id as stored: the bytes of even-length lowercase hex (every real id), else the text itself (reads back as is). */



export function idValue (id: IdHex): Uint8Array | string {
  return CANONICAL_HEX.test(id) ? Buffer.from(id, 'hex') : id
}

function idText (v: SQLOutputValue | undefined): IdHex {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  return str(v)
}

export function toEntry (r: Row): StoredEntry {
  const kind = str(r['kind'])
  if (kind !== 'acl' && kind !== 'data') throw new Error(`store: bad entry kind ${kind}`)
  return {
    author: str(r['author']),
    epoch: num(r['epoch']),
    seq: num(r['seq']),
    id: idText(r['id']),
    bytes: bytes(r['bytes']),
    sig: bytes(r['sig']),
    verified: num(r['verified']) === 1,
    kind
  }
}

export function toFeed (r: Row): FeedState {
  const head = r['head']
  const frozen = r['frozen_at']
  return {
    author: str(r['author']),
    epoch: num(r['epoch']),
    count: num(r['count']),
    head: head === null || head === undefined ? null : str(head),
    frozenAt: frozen === null || frozen === undefined ? null : num(frozen)
  }
}

export function num (v: SQLOutputValue | bigint | undefined): number {
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  if (typeof v !== 'number') throw new Error(`store: expected an integer, got ${typeof v}`)
  return v
}

export function str (v: SQLOutputValue | undefined): string {
  if (typeof v !== 'string') throw new Error(`store: expected text, got ${typeof v}`)
  return v
}

export function bytes (v: SQLOutputValue | undefined): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new Error(`store: expected a blob, got ${typeof v}`)
  return v
}

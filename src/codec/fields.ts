import { CodecError } from './errors.ts'
import { printable } from '../ids/index.ts'

/**
 * Field readers for decoded DAG-CBOR. Each one checks type and range and
 * throws CodecError('INVALID_FIELD') naming the path, so the decoders read
 * top to bottom like the format they check.
 */
export type CborMap = Record<string, unknown>

export function invalid (path: string, problem: string): CodecError {
  return new CodecError('INVALID_FIELD', `${path}: ${problem}`)
}

export function map (v: unknown, path: string, keys: readonly string[]): CborMap {
  const isMap = v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
  if (!isMap) throw invalid(path, 'expected a map')
  for (const k of Object.keys(v)) {
    // Quoted cut and printable: a peer's key of megabytes was kept whole in every misbehaviour record naming it.
    if (!keys.includes(k)) throw invalid(`${path}.${printable(k, 40)}`, 'unknown field')
  }
  return v as CborMap
}

export function bytes (v: unknown, path: string, size?: number, maxSize = 1 << 20): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(path, 'expected bytes')
  if (size !== undefined && v.length !== size) throw invalid(path, `expected ${size} bytes, got ${v.length}`)
  if (v.length > maxSize) throw new CodecError('OVERSIZED', `${path}: ${v.length} bytes, limit ${maxSize}`)
  return v
}

export function nullableBytes (v: unknown, path: string, size: number): Uint8Array | null {
  return v === null ? null : bytes(v, path, size)
}

export function int (v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(path, 'expected a safe integer')
  if (v < min || v > max) throw invalid(path, `${v} is outside ${min}..${max}`)
  return v
}

export function string (v: unknown, path: string, maxBytes: number, minBytes = 0): string {
  if (typeof v !== 'string') throw invalid(path, 'expected a string')
  const size = Buffer.byteLength(v, 'utf8')
  if (size > maxBytes) throw new CodecError('OVERSIZED', `${path}: ${size} bytes, limit ${maxBytes}`)
  if (size < minBytes) throw invalid(path, `shorter than ${minBytes} bytes`)
  return v
}

export function bool (v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, 'expected a boolean')
  return v
}

export function array (v: unknown, path: string, maxItems: number, exactItems?: number): unknown[] {
  if (!Array.isArray(v)) throw invalid(path, 'expected an array')
  if (v.length > maxItems) throw new CodecError('OVERSIZED', `${path}: ${v.length} items, limit ${maxItems}`)
  if (exactItems !== undefined && v.length !== exactItems) {
    throw invalid(path, `expected ${exactItems} items, got ${v.length}`)
  }
  return v
}

/**
 * A short description of a decoded value for an error message. Never String(v):
 * it throws on a map with a `toString` key and overflows the stack on deep arrays.
 */
export function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40))
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  if (v === null || v === undefined) return String(v)
  return Array.isArray(v) ? 'an array' : v instanceof Uint8Array ? 'bytes' : typeof v
}

export function oneOf<T extends string> (v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalid(path, `expected one of ${allowed.join(', ')}`)
  }
  return v as T
}

import { decodeCbor, encodeCbor } from '../codec/index.ts'

/**
 * A counter's row: [P, N], the exact sums of its increments and of its
 * decrements (a PN-counter). Sums of integers are the same in any order, so
 * every node that applied the same adds holds the same row, however they
 * arrived. They used to saturate at 2^53-1: one add of 2^53-1 by any writer
 * then froze that side for good, and every later add was signed, synced and
 * lost. Now nothing is lost: an add of up to 2^53-1 (what an entry carries)
 * is counted whatever came before.
 *
 * A sum up to 2^53-1 is stored as a CBOR integer, as every row was before
 * (such rows, and viewHash over them, are unchanged); a larger one as a byte
 * string, its magnitude big-endian without leading zeros: DAG-CBOR has no
 * bignum, and cborg encodes no integer past 64 bits, while the adds of many
 * entries can sum past that.
 */
interface CounterSums {
  readonly p: bigint
  readonly n: bigint
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER)
/** [P, N] of two sums of at most ~2^100 each (2^53 per entry, far fewer than 2^47 entries): a few dozen bytes. */
const ROW_BYTES_MAX = 256

/** The row after an add of `delta` (a safe integer) to the row `old` (none: the counter's first add). */
export function addToCounterRow (old: Uint8Array | undefined, delta: number): Uint8Array {
  const { p, n } = old === undefined ? { p: 0n, n: 0n } : decodeCounterRow(old)
  const d = BigInt(delta)
  return encodeCbor(d >= 0n ? [sumField(p + d), sumField(n)] : [sumField(p), sumField(n - d)])
}

/** The counter's value, P - N: a number while it is a safe integer, a bigint past that (JSON shows it as a string). */
export function counterRowValue (bytes: Uint8Array): number | bigint {
  const { p, n } = decodeCounterRow(bytes)
  const value = p - n
  return value <= SAFE_MAX && value >= -SAFE_MAX ? Number(value) : value
}

function decodeCounterRow (bytes: Uint8Array): CounterSums {
  const row = decodeCbor(bytes, 'counter row', ROW_BYTES_MAX, false)
  if (!Array.isArray(row) || row.length !== 2) throw new TypeError('counter row: not an array of 2 sums')
  return { p: sumOf(row[0]), n: sumOf(row[1]) }
}

function sumField (sum: bigint): number | Uint8Array {
  if (sum <= SAFE_MAX) return Number(sum)
  const hex = sum.toString(16)
  return new Uint8Array(Buffer.from(hex.length % 2 === 0 ? hex : '0' + hex, 'hex'))
}

function sumOf (field: unknown): bigint {
  if (typeof field === 'number' && Number.isSafeInteger(field) && field >= 0) return BigInt(field)
  if (typeof field === 'bigint' && field >= 0n) return field // a decoder may give a large integer as one
  if (field instanceof Uint8Array && field.length > 0) return BigInt('0x' + Buffer.from(field).toString('hex'))
  throw new TypeError('counter row: a sum is not a non-negative integer')
}

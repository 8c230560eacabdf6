import { decodeCbor } from './cbor.ts'
import { CodecError } from './errors.ts'
import * as f from './fields.ts'
import { CLOCK_COUNTER_MAX, TIME_MS_MAX } from './limits.ts'
import type { Clock } from './entry.ts'

/**
 * One field of a stored entry, read without decoding the rest. An entry an
 * older version stored under weaker checks (a body nested past today's
 * limit) cannot be decoded any more, but its feed goes on: the next entry's
 * clock is compared with its clock (decision 8). Reading stored data never
 * throws because of what a peer wrote (decision 14), so the clock is found
 * by skipping over the other fields with a loop, never by recursion.
 */
export function storedEntryClock (bytes: Uint8Array): Clock {
  const raw = topLevelField(bytes, 'c')
  if (raw === null) throw new CodecError('MALFORMED', 'entry: no clock field')
  const c = f.array(decodeCbor(raw, 'entry.c', 64, false), 'entry.c', 2, 2)
  return { wallMs: f.int(c[0], 'entry.c[0]', 0, TIME_MS_MAX), counter: f.int(c[1], 'entry.c[1]', 0, CLOCK_COUNTER_MAX) }
}

/** The bytes of the value under text key `key` of the map that `b` encodes, or null. */
function topLevelField (b: Uint8Array, key: string): Uint8Array | null {
  const top = head(b, 0)
  if (top === null || top.major !== 5) return null
  const want = Buffer.from(key, 'utf8')
  let pos = top.next
  for (let i = 0; i < top.arg; i++) {
    const k = head(b, pos)
    if (k === null || k.major !== 3 || k.next + k.arg > b.length) return null
    const matches = k.arg === want.length && Buffer.from(b.buffer, b.byteOffset + k.next, k.arg).equals(want)
    const valueAt = k.next + k.arg
    const end = skip(b, valueAt)
    if (end < 0) return null
    if (matches) return b.subarray(valueAt, end)
    pos = end
  }
  return null
}

/** Where the item at `pos` ends, or -1: a count of items still to skip, no stack. */
function skip (b: Uint8Array, pos: number): number {
  let left = 1
  while (left > 0) {
    const h = head(b, pos)
    if (h === null) return -1
    left--
    pos = h.next
    if (h.major === 2 || h.major === 3) {
      if (h.arg > b.length - pos) return -1
      pos += h.arg
    } else if (h.major === 4 || h.major === 5 || h.major === 6) {
      const items = h.major === 4 ? h.arg : h.major === 5 ? 2 * h.arg : 1
      if (items > b.length - pos) return -1
      left += items
    }
  }
  return pos
}

function head (b: Uint8Array, pos: number): { major: number, arg: number, next: number } | null {
  if (pos >= b.length) return null
  const ib = b[pos] as number
  const info = ib & 31
  if (info < 24) return { major: ib >> 5, arg: info, next: pos + 1 }
  if (info > 27) return null
  const size = 1 << (info - 24)
  if (pos + 1 + size > b.length) return null
  let arg = 0
  for (let i = 1; i <= size; i++) arg = arg * 256 + (b[pos + i] as number)
  return { major: ib >> 5, arg, next: pos + 1 + size }
}

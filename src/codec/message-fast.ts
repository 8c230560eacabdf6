import { cborHeadSize, writeCborHead } from './cbor-head.ts'
import { Reader } from './entry-fast.ts'
import {
  ENTRY_BYTES_MAX, MESSAGE_BYTES_MAX, RUN_BYTES_MAX, RUN_ENTRIES_MAX, SIGNATURE_SIZE, SPACE_ID_SIZE
} from './limits.ts'
import type { SignedBytes } from './message.ts'

/**
 * The `entries` message read straight from its bytes, as the sender's
 * encoder writes it: the map {m: "entries", r: [[bytes, sig], ...], s:
 * space} with its keys in canonical order and shortest heads. Through cborg
 * a message of 1,024 entries made a token object per item (over 3,000) and
 * the arrays around them, on the path of every entry a late joiner receives.
 *
 * It accepts only what decodeMessage's general path accepts, within every
 * bound the general path checks (a run of 1 to RUN_ENTRIES_MAX entries,
 * each at most ENTRY_BYTES_MAX bytes with a signature of SIGNATURE_SIZE,
 * RUN_BYTES_MAX in all, a space id of SPACE_ID_SIZE, nothing after the map),
 * and returns the same message: each byte string copied into its own
 * buffer, as cborg copies it, so an entry never holds its whole frame. For
 * anything else, valid or not, it returns undefined and the general path
 * decides and names the error.
 */
const MAP_OF_3 = 0xa3
const ENTRIES_TYPE = texts('m', 'entries', 'r')
const SPACE_KEY = texts('s')
const PAIR = 0x82
const MAJOR_BYTES = 0x40
const MAJOR_ARRAY = 0x80

/** Short ASCII text items, each with its head, end to end. */
function texts (...items: string[]): Uint8Array {
  return new Uint8Array(items.flatMap(t => [0x60 + t.length, ...Buffer.from(t, 'latin1')]))
}

type EntriesMessage = { m: 'entries', space: Uint8Array, run: SignedBytes[] }

export function readEntriesMessage (b: Uint8Array): EntriesMessage | undefined {
  if (b.length > MESSAGE_BYTES_MAX || b[0] !== MAP_OF_3) return undefined
  const r = new Reader(b)
  r.pos = 1
  if (!r.literal(ENTRIES_TYPE)) return undefined
  const count = r.head(4)
  if (count < 1 || count > RUN_ENTRIES_MAX) return undefined
  const run: SignedBytes[] = []
  let total = 0
  for (let i = 0; i < count; i++) {
    if (b[r.pos++] !== PAIR) return undefined
    const bytes = r.byteString(ENTRY_BYTES_MAX)
    const sig = r.byteString(SIGNATURE_SIZE)
    if (bytes === undefined || sig === undefined || sig.length !== SIGNATURE_SIZE) return undefined
    total += bytes.length
    // new Uint8Array(view) copies; a Buffer's slice() (the engine's frames are Buffers) would be a view of the frame
    run.push([new Uint8Array(bytes), new Uint8Array(sig)])
  }
  if (total > RUN_BYTES_MAX || !r.literal(SPACE_KEY)) return undefined
  const space = r.byteString(SPACE_ID_SIZE)
  if (space === undefined || space.length !== SPACE_ID_SIZE || r.pos !== b.length) return undefined
  return { m: 'entries', space: new Uint8Array(space), run }
}

/**
 * The `entries` message written straight to its bytes: the same bytes as
 * encodeCbor({m, s, r}) gives (keys in canonical order m, r, s; shortest
 * heads), in one buffer sized first. Through cborg a served run of 1,024
 * entries made a token per item and a chain of chunks concatenated at the
 * end, a third of a late joiner's seeder's CPU after the store's reads.
 * Bounds are the caller's (serving never builds a run past them).
 */
export function writeEntriesMessage (space: Uint8Array, run: readonly SignedBytes[]): Uint8Array {
  let size = 1 + ENTRIES_TYPE.length + cborHeadSize(run.length) + SPACE_KEY.length + cborHeadSize(space.length) +
    space.length
  for (const [bytes, sig] of run) {
    size += 1 + cborHeadSize(bytes.length) + bytes.length + cborHeadSize(sig.length) + sig.length
  }
  const out = new Uint8Array(size)
  out[0] = MAP_OF_3
  out.set(ENTRIES_TYPE, 1)
  let pos = writeCborHead(out, 1 + ENTRIES_TYPE.length, MAJOR_ARRAY, run.length)
  for (const [bytes, sig] of run) {
    out[pos++] = PAIR
    pos = writeCborHead(out, pos, MAJOR_BYTES, bytes.length)
    out.set(bytes, pos)
    pos = writeCborHead(out, pos + bytes.length, MAJOR_BYTES, sig.length)
    out.set(sig, pos)
    pos += sig.length
  }
  out.set(SPACE_KEY, pos)
  pos = writeCborHead(out, pos + SPACE_KEY.length, MAJOR_BYTES, space.length)
  out.set(space, pos)
  return out
}

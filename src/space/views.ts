import {
  cborHeadSize, compareBytes, compareClocks, decodeCbor, decodeStatus, encodeCbor, toHex, writeCborHead
} from '../codec/index.ts'
import type { Clock, Entry, DataBody, FileBody, Role, SignedBytes, SignedStatus } from '../codec/index.ts'
import type { ViewName, ViewWrite } from '../store/index.ts'
import type { Acl } from './acl.ts'
import { addToCounterRow } from './counter-row.ts'

/**
 * Views are a pure function of the stored entries (decision 4). Each effective
 * data entry becomes row writes through applyDataEntry; a full rebuild runs
 * the same function over every stored entry into an empty overlay, so the
 * incremental path and the rebuild cannot disagree (tested by properties).
 *
 * Rows (keys order bytewise):
 *   kv      key utf8               -> [wallMs, counter, author, epoch, seq, id, deleted, value]
 *   counter name utf8              -> [P, N] (PN-counter; exact sums, so any order gives the same: counter-row.ts)
 *   ledger  clock|author|epoch|seq|id -> tx    (one total order)
 *   files   path utf8              -> {h: ids of the versions nobody superseded, x: ids superseded}
 *   acl     member bytes           -> {role, windows, cuts}
 *   status  author bytes           -> [bytes, sig] of the newest status record
 */
interface RowSource {
  get (view: ViewName, key: Uint8Array): Uint8Array | undefined
  /** The kv row of `key` (its utf8: `bytes`), if the source reads it faster by the key's text. */
  getKv? (key: string, bytes: Uint8Array): Uint8Array | undefined
}

/** What last-writer-wins compares of a kv row: all of it but the value. */
interface KvOrder {
  readonly wallMs: number
  readonly counter: number
  readonly author: Uint8Array
  readonly epoch: number
  readonly seq: number
  readonly id: Uint8Array
}

/**
 * The order of committed kv rows by key, kept by whoever is the only
 * writer of a space's views, so that a kv update needs neither a row read
 * nor a row decode. Never holds more than its bound.
 *
 * Only keys that had a row before the batch are kept: an update of a key
 * is what predicts another. A key new to the store is not (its next write
 * reads the row, as before the cache): a late joiner's keys are nearly all
 * new, and their orders, kept for up to 10,000 keys and then dropped at
 * once, outlived V8's young generation. With them and the entries held
 * for a sync (net/sync-driver.ts heldEntries), a joiner of 100,000 entries
 * peaked at 212-245 MB; without, 163-166 MB (docs/experiments.md).
 */
export class KvOrderCache {
  readonly #known = new Map<string, KvOrder>()
  readonly #max: number

  constructor (max = 100_000) {
    this.#max = max
  }

  get (key: string): KvOrder | undefined {
    return this.#known.get(key)
  }

  /** After a commit of `overlay`'s writes: what it read and wrote is now the committed state (new keys: above). */
  remember (overlay: ViewOverlay): void {
    const orders = overlay.kvOrders()
    const fresh = overlay.newKvKeys()
    const kept = orders.size - fresh.size
    if (this.#known.size + kept > this.#max) this.#known.clear()
    if (kept > this.#max) return
    // A key kept had a row, so its order is one (null only ever stood for no row, and then the key is new).
    for (const [key, order] of orders) if (order !== null && !fresh.has(key)) this.#known.set(key, order)
  }

  clear (): void {
    this.#known.clear()
  }
}

/** Row writes layered over a source, so later entries of a batch see earlier ones. */
export class ViewOverlay implements RowSource {
  readonly #base: RowSource
  readonly #rows = new Map<string, ViewWrite>()
  readonly #cache: KvOrderCache | undefined
  /** kv keys this overlay resolved or wrote, with the order of their row as of its writes. */
  readonly #kv = new Map<string, KvOrder | null>()
  /** kv rows written, by key text: a catch-up writes one per entry, and a hex key for each showed in its profile. */
  readonly #kvRows = new Map<string, ViewWrite>()
  /** kv keys this overlay wrote that had no row before it. */
  readonly #newKv = new Set<string>()

  constructor (base: RowSource, cache?: KvOrderCache) {
    this.#base = base
    this.#cache = cache
  }

  get (view: ViewName, key: Uint8Array): Uint8Array | undefined {
    const w = view === 'kv'
      ? this.#kvRows.get(Buffer.from(key).toString('utf8'))
      : this.#rows.get(`${view}/${toHex(key)}`)
    if (w !== undefined) return w.value ?? undefined
    return this.#base.get(view, key)
  }

  set (view: Exclude<ViewName, 'kv'>, key: Uint8Array, value: Uint8Array | null): void {
    this.#rows.set(`${view}/${toHex(key)}`, { view, key, value })
  }

  /** The order of the kv row of `key` (its utf8 bytes: `bytes`), null if there is none. */
  kvOrder (key: string, bytes: Uint8Array): KvOrder | null {
    let order = this.#kv.get(key)
    if (order !== undefined) return order
    order = this.#cache?.get(key)
    if (order === undefined) {
      // Not written here (setKv records its order in #kv): the row is the source's.
      const row = this.#base.getKv !== undefined ? this.#base.getKv(key, bytes) : this.#base.get('kv', bytes)
      // Its order only: the cache keeps it after the batch, and a decoded row holds its value (up to ~64 kB).
      const r = row === undefined ? null : decodeKvRow(row)
      order = r === null
        ? null
        : { wallMs: r.wallMs, counter: r.counter, author: r.author, epoch: r.epoch, seq: r.seq, id: r.id }
    }
    this.#kv.set(key, order)
    return order
  }

  setKv (key: string, bytes: Uint8Array, order: KvOrder, row: Uint8Array): void {
    if (this.#kv.get(key) === null) this.#newKv.add(key)
    this.#kvRows.set(key, { view: 'kv', key: bytes, value: row })
    this.#kv.set(key, order)
  }

  kvOrders (): ReadonlyMap<string, KvOrder | null> {
    return this.#kv
  }

  newKvKeys (): ReadonlySet<string> {
    return this.#newKv
  }

  writes (): ViewWrite[] {
    return [...this.#rows.values(), ...this.#kvRows.values()]
  }
}

export const EMPTY_ROWS: RowSource = { get: () => undefined }

export function isDataBody (body: Entry['body']): body is DataBody {
  return body.t === 'kv.put' || body.t === 'kv.del' || body.t === 'counter.add' || body.t === 'ledger.append' ||
    body.t === 'file' || body.t === 'file.part'
}

/** Applies one effective data entry to the views. Idempotent for kv; callers apply each entry once. */
export function applyDataEntry (rows: ViewOverlay, e: Entry): void {
  const b = e.body
  switch (b.t) {
    case 'kv.put':
    case 'kv.del': {
      const key = utf8(b.key)
      const old = rows.kvOrder(b.key, key)
      if (old !== null && compareKvOrder(old, e) >= 0) return
      const value = b.t === 'kv.put' ? b.value : null
      const row = encodeKvRow(e, b.t === 'kv.del', value)
      const { wallMs, counter } = e.clock
      // The author copied: the kv order cache outlives the entry, whose fast read gives a view of its bytes.
      const order = { wallMs, counter, author: new Uint8Array(e.author), epoch: e.epoch, seq: e.seq, id: e.id }
      rows.setKv(b.key, key, order, row)
      return
    }
    case 'counter.add': {
      const key = utf8(b.name)
      rows.set('counter', key, addToCounterRow(rows.get('counter', key), b.delta))
      return
    }
    case 'ledger.append':
      rows.set('ledger', ledgerKey(e), encodeCbor(b.tx))
      return
    case 'file': {
      const key = utf8(b.path)
      const old = rows.get('files', key)
      const row = old === undefined ? EMPTY_FILE_ROW : decodeFileRow(old)
      rows.set('files', key, encodeFileRow(addFileVersion(row, e.id, b.supersedes)))
      return
    }
    case 'file.part':
      return // read through the file record that lists it, never on its own

    default:
      throw new Error(`applyDataEntry: ${b.t} is not a data entry`)
  }
}

/**
 * The versions of one path: `heads` are those no version of the path
 * supersedes (one: the file; more: a conflict), `superseded` every id any
 * version named. Both are sets, so the row is the same whatever the order
 * the versions arrived in (decision 4); a version superseded before it
 * arrives never becomes a head.
 */
interface FileRow {
  readonly heads: readonly Uint8Array[]
  readonly superseded: readonly Uint8Array[]
}

const EMPTY_FILE_ROW: FileRow = { heads: [], superseded: [] }

function addFileVersion (row: FileRow, id: Uint8Array, supersedes: readonly Uint8Array[]): FileRow {
  const superseded = new Map(row.superseded.map(x => [toHex(x), x]))
  for (const x of supersedes) superseded.set(toHex(x), x)
  const heads = new Map(row.heads.map(x => [toHex(x), x]))
  heads.set(toHex(id), id)
  for (const k of superseded.keys()) heads.delete(k)
  const sorted = (m: Map<string, Uint8Array>): Uint8Array[] => [...m.values()].sort(compareBytes)
  return { heads: sorted(heads), superseded: sorted(superseded) }
}

function encodeFileRow (row: FileRow): Uint8Array {
  return encodeCbor({ h: row.heads, x: row.superseded })
}

export function decodeFileRow (bytes: Uint8Array): FileRow {
  const v = decodeCbor(bytes, 'files row', 1 << 24, false) as { h: Uint8Array[], x: Uint8Array[] }
  return { heads: v.h, superseded: v.x }
}

/** One version of a file, as the API and files/ see it. */
export interface FileVersion extends Omit<FileBody, 't' | 'parts'> {
  readonly id: string
  readonly author: string
  readonly clock: Clock
  /** Why the chunk list cannot be read (its parts are not held, or do not add up); the version is then not written. */
  readonly problem?: string
}

export interface FileState {
  readonly path: string
  readonly current: FileVersion
  /** Concurrent versions that lost (kept as conflict copies on disk by files/). */
  readonly conflicts: readonly FileVersion[]
}

/** Winner first: a file before a deletion, then newer mtime, later clock, higher author, higher id. */
export function compareFileVersions (a: FileVersion, b: FileVersion): number {
  return Number(a.deleted) - Number(b.deleted) || b.mtimeMs - a.mtimeMs || compareClocks(b.clock, a.clock) ||
    (a.author < b.author ? 1 : a.author > b.author ? -1 : 0) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

interface KvRow extends KvOrder {
  readonly deleted: boolean
  readonly value: unknown
}

/**
 * encodeCbor([wallMs, counter, author, epoch, seq, id, deleted, value]), byte
 * for byte, written directly: the fields are non-negative integers, byte
 * strings and a boolean, and a well-formed string value is its UTF-8. Any
 * other value is encoded by encodeCbor. Tested against encodeCbor.
 */
export function encodeKvRow (
  e: Pick<Entry, 'clock' | 'author' | 'epoch' | 'seq' | 'id'>, deleted: boolean, value: unknown
): Uint8Array {
  const { wallMs, counter } = e.clock
  const text = typeof value === 'string' && value.isWellFormed() ? value : undefined
  const encoded = text !== undefined ? undefined : value === null ? CBOR_NULL : encodeCbor(value)
  const textBytes = text === undefined ? 0 : Buffer.byteLength(text, 'utf8')
  const size = 1 + cborHeadSize(wallMs) + cborHeadSize(counter) + cborHeadSize(e.author.length) + e.author.length +
    cborHeadSize(e.epoch) + cborHeadSize(e.seq) + cborHeadSize(e.id.length) + e.id.length + 1 +
    (encoded !== undefined ? encoded.length : cborHeadSize(textBytes) + textBytes)
  const out = rowBytes(size)
  out[0] = 0x88 // array of 8
  let pos = writeCborHead(out, 1, 0x00, wallMs)
  pos = writeCborHead(out, pos, 0x00, counter)
  pos = writeCborHead(out, pos, 0x40, e.author.length)
  out.set(e.author, pos)
  pos = writeCborHead(out, pos + e.author.length, 0x00, e.epoch)
  pos = writeCborHead(out, pos, 0x00, e.seq)
  pos = writeCborHead(out, pos, 0x40, e.id.length)
  out.set(e.id, pos)
  pos += e.id.length
  out[pos++] = deleted ? 0xf5 : 0xf4
  if (encoded !== undefined) {
    out.set(encoded, pos)
  } else {
    pos = writeCborHead(out, pos, 0x60, textBytes)
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(text as string, pos, 'utf8')
  }
  return out
}

const CBOR_NULL = Uint8Array.of(0xf6)

/**
 * Room for one encoded kv row, cut from a shared slab as Node's Buffer pool
 * does: a catch-up encodes a row per entry, and an ArrayBuffer of its own
 * for each was one of its largest allocations. A row pins at most one slab
 * (ROW_SLAB_BYTES) while something holds it; larger rows get their own.
 */
const ROW_SLAB_BYTES = 64 * 1024
let rowSlab = new Uint8Array(0)
let rowSlabUsed = 0

function rowBytes (size: number): Uint8Array {
  if (size > ROW_SLAB_BYTES / 8) return new Uint8Array(size)
  if (rowSlabUsed + size > rowSlab.length) {
    rowSlab = new Uint8Array(ROW_SLAB_BYTES)
    rowSlabUsed = 0
  }
  const out = rowSlab.subarray(rowSlabUsed, rowSlabUsed + size)
  rowSlabUsed += size
  return out
}


export function decodeKvRow (bytes: Uint8Array): KvRow {
  const row = decodeCbor(bytes, 'kv row', 1 << 20, false)
  if (!Array.isArray(row) || row.length !== 8) throw new TypeError('kv row: not an array of 8 fields')
  const [wallMs, counter, author, epoch, seq, id, deleted, value] = row as KvRowFields
  if (!(author instanceof Uint8Array) || !(id instanceof Uint8Array)) {
    throw new TypeError('kv row: author or id not bytes')
  }



  return { wallMs, counter, author, epoch, seq, id, deleted, value }
}

type KvRowFields = [number, number, Uint8Array, number, number, Uint8Array, boolean, unknown]

/** A ledger row: the appended value. */
export function decodeLedgerRow (bytes: Uint8Array): unknown {
  return decodeCbor(bytes, 'ledger row', 1 << 20, false)
}

/** An acl row as aclRows writes it; readers need only its role. */
export function decodeAclRow (bytes: Uint8Array): { readonly role: Role | null } {
  return decodeCbor(bytes, 'acl row', 1 << 20, false) as { role: Role | null }
}

/** A status row: the record's bytes and signature as received (serving one costs no decoding). */
export function encodeStatusRow (record: SignedBytes): Uint8Array {
  return encodeCbor([record[0], record[1]])
}

export function decodeStatusRowRecord (bytes: Uint8Array): SignedBytes {
  return decodeCbor(bytes, 'status row', 1 << 20, false) as SignedBytes
}

export function decodeStatusRow (bytes: Uint8Array): SignedStatus {
  const [record, sig] = decodeStatusRowRecord(bytes)
  return decodeStatus(record, sig)
}

/** Last writer wins by (clock, author), then (epoch, seq, id) so that no two entries tie. */
function compareKvOrder (row: KvOrder, e: Entry): number {
  return row.wallMs - e.clock.wallMs || row.counter - e.clock.counter || compareBytes(row.author, e.author) ||
    row.epoch - e.epoch || row.seq - e.seq || compareBytes(row.id, e.id)
}

function ledgerKey (e: Entry): Uint8Array {
  const key = Buffer.alloc(8 + 4 + 32 + 8 + 8 + 32)
  key.writeUIntBE(e.clock.wallMs, 2, 6) // wallMs < 2^48: bytes 0-1 stay zero
  key.writeUInt32BE(e.clock.counter, 8)
  key.set(e.author, 12)
  key.writeUIntBE(e.epoch, 46, 6)
  key.writeUIntBE(e.seq, 54, 6)
  key.set(e.id, 60)
  return new Uint8Array(key)
}

export function aclRows (acl: Acl): ViewWrite[] {
  return acl.members().map(m => ({
    view: 'acl' as const,
    key: Buffer.from(m.member, 'hex'),
    value: encodeCbor({
      role: m.role,
      windows: m.windows.map(w => [w.role, w.from.epoch, w.from.seq]),
      cuts: m.cuts.map(c => [c.at.epoch, c.at.seq, c.scope, c.kind, [...c.keep].sort((a, b) => a - b)])
    })
  }))
}

function utf8 (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'))
}

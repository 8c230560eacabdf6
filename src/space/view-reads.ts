import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { bytesEqual, FILE_CHUNK_BYTES_MAX, fromHex, toHex } from '../codec/index.ts'
import type { Entry, FileChunk, Position, Role, SignedStatus } from '../codec/index.ts'
import { authorKeyOf, entryIdOf, isEntryId } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { ViewName } from '../store/index.ts'
import { counterRowValue } from './counter-row.ts'
import { readOrMark, readOrSkip } from './reads.ts'
import { kvItem, ledgerItem } from './view-pages.ts'
import { decodeStoredEntry } from './signing.ts'
import type { ReplicaState } from './state.ts'
import {
  compareFileVersions, decodeAclRow, decodeFileRow, decodeKvRow, decodeStatusRow
} from './views.ts'
import type { FileState, FileVersion } from './views.ts'

/**
 * Reads of a replica's views, each row through its codec in views.ts.
 * Reads never throw on stored data (decision 14, reads.ts): a row that no
 * longer decodes is a marker in a list, or skipped where a reader can do
 * without it (a status).
 */

/** The views derived from feeds: status is left out (telemetry pushed on its own path, not derived from feeds). */
export const DERIVED_VIEWS: readonly ViewName[] = ['kv', 'counter', 'ledger', 'files', 'acl']

/** SHA-256 over every row of the given views, in view then key order: equal hashes answer every read the same. */
export function viewHash (s: ReplicaState, views: readonly ViewName[] = DERIVED_VIEWS): string {
  return hashRows(views.map(view => [view, s.store.viewRows(s.key, view)] as const))
}

type ViewRows = readonly [ViewName, Iterable<readonly [Uint8Array, Uint8Array]>]

export function hashRows (views: readonly ViewRows[]): string {
  const h = crypto.createHash('sha256')
  const len = Buffer.alloc(4)
  for (const [view, rows] of views) {
    h.update(view)
    for (const [key, value] of rows) {
      len.writeUInt32BE(key.length); h.update(len); h.update(key)
      len.writeUInt32BE(value.length); h.update(len); h.update(value)
    }
  }
  return h.digest('hex')
}

/** A kv row: its value and its author (null when the row cannot be read: the value is then the marker that says so). */
export function kvGet (s: ReplicaState, key: string): { value: unknown, author: AuthorKey | null } | undefined {
  const row = s.store.viewGet(s.key, 'kv', utf8(key))
  if (row === undefined) return undefined
  const r = readOrMark(() => decodeKvRow(row))
  if (!('deleted' in r)) return { value: r, author: null }
  return r.deleted ? undefined : { value: r.value, author: authorKeyOf(r.author) }
}

/** Every key with its value; a row that cannot be read has a marker for its value (reads.ts). */
export function kvList (s: ReplicaState): { key: string, value: unknown }[] {
  return [...s.store.viewRows(s.key, 'kv')].flatMap(([key, row]) => kvItem(key, row) ?? [])
}

/**
 * A path's current version and its conflicts: of the versions nobody
 * superseded, the winner is a file over a deletion, then the newer mtime,
 * then the later clock, then the higher author and id (as Syncthing
 * settles a conflict); the others are conflicts, kept, never lost.
 */
export function fileGet (s: ReplicaState, path: string): FileState | undefined {
  const row = s.store.viewGet(s.key, 'files', utf8(path))
  return row === undefined ? undefined : fileState(s, path, row)
}

/**
 * Every path that has a version, in path order (deleted ones included, with `current.deleted`). With `decoded`, a
 * version decoded by the last list is taken from it instead of being read and decoded again.
 */
export function filesList (s: ReplicaState, decoded?: DecodedVersions): FileState[] {
  const list: FileState[] = []
  const rows: Uint8Array[] = []
  for (const [key, row] of s.store.viewRows(s.key, 'files')) {
    const path = text(key)
    list.push(decoded?.state(path, row) ?? fileState(s, path, row, decoded))
    rows.push(row)
  }
  decoded?.keep(list, rows)
  return list
}

/** Versions learned from this node's own records beyond those of the last list (~1 KB each for a small file). */
const LEARNED_MAX = 65_536

/**
 * File versions as the last files list decoded them, by entry id: a folder pass reads the whole view again each time
 * entries arrive (10,000 small files: ~0.2-0.3 s a read, most of it looking up and decoding each version), and most
 * versions are the same as the last time. An entry never changes (its id is its hash) and the parts a chunk list names
 * are stored for good once held, so a version decoded whole stays right; one still waiting for a part is decoded
 * again. A list keeps its own versions and no others; the records this node writes are added until the next list
 * (learnFileVersions), at most LEARNED_MAX beyond the last list's versions (a first scan of a huge folder records
 * batch after batch before it lists). Its owner clears it when it stops listing.
 */
export class DecodedVersions {
  #byId = new Map<string, FileVersion>()
  /**
   * Each path's state as the last list read it, with the row it read it from: a row whose bytes did not change gives
   * the same state (its versions are entries, which never change), without decoding the row or sorting its versions
   * again (a pass reads the whole view at each round; of 10,000 paths, most are as they were).
   */
  #byPath = new Map<string, { readonly row: Uint8Array, readonly state: FileState }>()
  readonly #learnedBeyond: number
  #learnedMax: number

  constructor (learnedBeyond = LEARNED_MAX) {
    this.#learnedBeyond = learnedBeyond
    this.#learnedMax = learnedBeyond
  }

  get (id: string): FileVersion | undefined { return this.#byId.get(id) }

  /** The state the last list read for `path`, if its row is still `row`. */
  state (path: string, row: Uint8Array): FileState | undefined {
    const kept = this.#byPath.get(path)
    return kept !== undefined && bytesEqual(kept.row, row) ? kept.state : undefined
  }

  /**
   * The versions of this list are the ones kept, and only they; with `rows` (each state's row, in the list's order),
   * so are the states of its paths, but for one with a version waiting for a part (its row does not say when it came).
   */
  keep (list: readonly FileState[], rows?: readonly Uint8Array[]): void {
    this.#byId = new Map()
    this.#byPath = new Map()
    list.forEach((f, i) => {
      let whole = this.#add(f.current)
      for (const c of f.conflicts) whole = this.#add(c) && whole
      const row = rows?.[i]
      if (whole && row !== undefined) this.#byPath.set(f.path, { row, state: f })
    })
    this.#learnedMax = this.#byId.size + this.#learnedBeyond
  }

  /** A version this node just recorded, kept until the next list if there is room. */
  learn (version: FileVersion): void {
    if (this.#byId.size < this.#learnedMax) this.#add(version)
  }

  clear (): void {
    this.#byId = new Map()
    this.#byPath = new Map()
    this.#learnedMax = this.#learnedBeyond
  }

  /** A version decoded whole is kept (true); one waiting for a part is not. */
  #add (version: FileVersion): boolean {
    if (version.problem !== undefined) return false
    this.#byId.set(version.id, version)
    return true
  }
}

/**
 * Versions of one path looked at, newest first, to find the one a file holds (supersededFileVersions): a member may
 * have recorded thousands of versions of a path, and a stale copy is nearly always one of the last few.
 */
const SUPERSEDED_LOOKED_AT = 1_000

/**
 * The versions of `path` that later versions superseded, of `size` bytes and mode `mode`, newest first: walked back
 * from the path's current versions along what each supersedes (a member's record may name any id: only versions of
 * this path count), at most SUPERSEDED_LOOKED_AT entries. Only a version of that size and mode is decoded whole (a
 * big file's chunk list is read from its parts), so the caller compares content with few of them. A folder asks this
 * of a file it knows nothing of (a folder added again, or over an older copy of the space's files): one that holds a
 * superseded version is that old version, not a new change.
 */
export function supersededFileVersions (s: ReplicaState, path: string, size: number, mode: number): FileVersion[] {
  const row = s.store.viewGet(s.key, 'files', utf8(path))
  if (row === undefined) return []
  const queue = decodeFileRow(row).heads.map(id => toHex(id))
  const heads = new Set(queue)
  const seen = new Set(queue)
  const found: FileVersion[] = []
  for (let i = 0; i < queue.length && i < SUPERSEDED_LOOKED_AT; i++) {
    const id = queue[i] as string
    const stored = isEntryId(id) ? s.store.entryById(s.key, id) : undefined
    if (stored === undefined) continue
    const body = readOrSkip(() => decodeStoredEntry(stored.bytes, stored.sig).body)
    if (body?.t !== 'file' || body.path !== path) continue
    if (!heads.has(id) && !body.deleted && body.size === size && body.mode === mode) {
      found.push(fileVersionOf(s, stored.bytes, stored.sig))
    }
    for (const x of body.supersedes) {
      const older = toHex(x)
      if (seen.has(older) || queue.length >= SUPERSEDED_LOOKED_AT) continue
      seen.add(older)
      queue.push(older)
    }
  }
  return found
}

function fileState (s: ReplicaState, path: string, row: Uint8Array, decoded?: DecodedVersions): FileState {
  const versions = decodeFileRow(row).heads.map(id => {
    const entryId = entryIdOf(id)
    const known = decoded?.get(entryId)
    if (known !== undefined) return known
    const stored = s.store.entryById(s.key, entryId)
    assert.ok(stored !== undefined, `files view names entry ${toHex(id)}, which is not stored`)
    return fileVersionOf(s, stored.bytes, stored.sig)
  }).sort(compareFileVersions)
  return { path, current: versions[0] as FileVersion, conflicts: versions.slice(1) }
}

/**
 * File records this node just wrote (`entries`, committed), decoded from their bytes as a read of the view would
 * decode them, into `decoded`: the folder that recorded them reads the view next and finds them there.
 */
export function learnFileVersions (s: ReplicaState, entries: readonly Entry[], decoded: DecodedVersions): void {
  for (const e of entries) if (e.body.t === 'file') decoded.learn(fileVersionOf(s, e.bytes, e.sig))
}

function fileVersionOf (s: ReplicaState, bytes: Uint8Array, sig: Uint8Array): FileVersion {
  const e = decodeStoredEntry(bytes, sig)
  assert.ok(e.body.t === 'file')
  const { t: _, parts, ...body } = e.body
  const version = { id: entryIdOf(e.id), author: authorKeyOf(e.author), clock: e.clock, ...body }
  const listed = parts === undefined ? version : { ...version, ...chunksFromParts(s, e.author, e, parts, body.size) }
  const big = listed.chunks.find(c => c[1] > FILE_CHUNK_BYTES_MAX)
  // No chunker cuts one (a writer would read and hash what the record claims): a version every node holds and none
  // writes. Refused on arrival, it stopped its feed there on the nodes of this version, which charged and banned the
  // honest nodes that relayed what an earlier one stored (a review's probe).
  if (big !== undefined) {
    return { ...listed, problem: `its chunk list names a chunk of ${big[1]} bytes, over the ${FILE_CHUNK_BYTES_MAX} ` +
      'any chunk may be; it is not written' }
  }
  return listed
}

/**
 * A big file's chunk list from its parts: file.part entries of its author
 * that come before it (`at`). One in its own epoch is held (feeds are stored
 * whole from seq 0); one in an earlier epoch may not be yet, and then the
 * version waits for it.
 */
function chunksFromParts (
  s: ReplicaState, author: Uint8Array, at: Position, parts: readonly Position[], size: number
): { chunks: FileChunk[], problem?: string } {
  const chunks: FileChunk[] = []
  const a = authorKeyOf(author)
  for (const p of parts) {
    if (p.epoch > at.epoch || (p.epoch === at.epoch && p.seq >= at.seq)) {
      return { chunks: [], problem: `its chunk list names part ${p.epoch}/${p.seq}, which does not come before it` }
    }
    const stored = s.store.entryAt(s.key, a, p.epoch, p.seq)
    if (stored === undefined) {
      return { chunks: [], problem: `part ${p.epoch}/${p.seq} of its chunk list is not here yet` }
    }

    const body = decodeStoredEntry(stored.bytes, stored.sig).body
    if (body.t !== 'file.part') {
      return { chunks: [], problem: `its chunk list names entry ${p.epoch}/${p.seq}, which is a ${body.t}, not a part` }
    }
    for (const c of body.chunks) chunks.push(c)
  }
  const total = chunks.reduce((n, c) => n + c[1], 0)
  if (total !== size) return { chunks: [], problem: `its parts hold ${total} bytes of chunks, not its size ${size}` }
  return { chunks }
}

/** P - N: a number while it is a safe integer, a bigint past that (counter-row.ts). */
export function counterGet (s: ReplicaState, name: string): number | bigint {
  const row = s.store.viewGet(s.key, 'counter', utf8(name))
  return row === undefined ? 0 : counterRowValue(row)
}

export function ledgerList (s: ReplicaState): unknown[] {
  return [...s.store.viewRows(s.key, 'ledger')].map(([, v]) => ledgerItem(v))
}

export function aclList (s: ReplicaState): { member: AuthorKey, role: Role | null }[] {
  return [...s.store.viewRows(s.key, 'acl')].map(([k, v]) => ({ member: authorKeyOf(k), role: decodeAclRow(v).role }))
}

export function status (s: ReplicaState, author: AuthorKey): SignedStatus | undefined {
  const row = s.store.viewGet(s.key, 'status', fromHex(author))
  return row === undefined ? undefined : readOrSkip(() => decodeStatusRow(row))
}

/** Every status record held that still decodes (one stored under older, weaker checks is left out, not thrown). */
export function statuses (s: ReplicaState): SignedStatus[] {
  return [...s.store.viewRows(s.key, 'status')].flatMap(([, v]) => readOrSkip(() => decodeStatusRow(v)) ?? [])
}

function utf8 (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'))
}

function text (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8')
}

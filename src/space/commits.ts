import { ACL_TYPES, bytesEqual, compareBytes, compareClocks, fromHex } from '../codec/index.ts'
import type { Entry } from '../codec/index.ts'
import { authorKeyOf, entryIdOf } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { Batch, EntryRef, ForkProof, StoredEntry, ViewName, ViewWrite } from '../store/index.ts'
import type { Acl } from './acl.ts'
import type { HeldFork } from './fork-holds.ts'
import { emptyResult } from './outcome.ts'
import type { IngestResult } from './outcome.ts'
import { readOrSkip } from './reads.ts'
import { atLeast } from './roles.ts'
import { decodeStoredEntry } from './signing.ts'
import type { ReplicaState } from './state.ts'
import { aclRows, applyDataEntry, EMPTY_ROWS, isDataBody, ViewOverlay } from './views.ts'

/**
 * Commits: the only code that writes a replica's store, and that moves its
 * memory (`acl`, `aclEntries`, the kv order cache, head clocks) only once the
 * commit succeeded (a full disk throws, and nothing changed). Entries and
 * the view updates they cause go in one batch (invariant 2: views equal a
 * rebuild from the stored entries, and the rebuild is rebuildDataViews).
 */

/** An entry ready to store, and whether its own signature was verified (decision 2). */
export interface AuthEntry { readonly entry: Entry, readonly verified: boolean }

/** Marks stored entries verified (their own signature checked since they were stored). */
export function commitVerified (s: ReplicaState, result: IngestResult, verifiedNow: readonly EntryRef[]): IngestResult {
  if (verifiedNow.length > 0) s.store.commit({ space: s.key, verified: verifiedNow })
  return result
}

/**
 * Stores a run of one feed (checked by ingest.ts) with its view updates:
 * data entries incrementally under `acl`; with acl entries, a rebuild if
 * the new ACL reaches back over stored data, else an incremental change.
 */
export function commitEntries (
  s: ReplicaState, items: readonly AuthEntry[], aclAdded: readonly Entry[], acl: Acl, verifiedNow: readonly EntryRef[]
): void {
  const authorOf = lastAuthorKey()
  const stored: StoredEntry[] = items.map(({ entry, verified }) => ({
    author: authorOf(entry.author), epoch: entry.epoch, seq: entry.seq, id: entryIdOf(entry.id), bytes: entry.bytes,
    sig: entry.sig, verified, kind: ACL_TYPES.includes(entry.body.t) ? 'acl' : 'data'
  }))
  // File versions are the entries the files view names by id (view-reads.ts): only they need the store's id lookup.
  const findById = stored.filter((_, i) => (items[i] as AuthEntry).entry.body.t === 'file').map(e => e.id)
  const entryIdBytes = items.map(it => it.entry.id)
  const batch: Batch = { space: s.key, entries: stored, entryIdBytes, verified: verifiedNow, findById }
  if (aclAdded.length > 0) {
    const next = s.computeAcl([...s.aclEntries, ...aclAdded])
    if (reachesBack(s, s.acl, next)) commitRebuild(s, items.map(it => it.entry), aclAdded, batch, next)
    else commitAclChange(s, items, aclAdded, next, batch)
  } else {
    const overlay = new ViewOverlay(storeRows(s, items), s.kvOrders)
    for (const { entry } of items) {
      if (s.effectiveData(acl, entry, authorOf(entry.author))) applyDataEntry(overlay, entry)
    }
    s.store.commit({ ...batch, viewWrites: overlay.writes() })
    s.kvOrders.remember(overlay)
  }
  const last = (items[items.length - 1] as AuthEntry).entry
  s.headClocks.set(`${authorKeyOf(last.author)}/${last.epoch}`, last.clock)
  if (compareClocks(last.clock, s.clock) > 0) s.clock = last.clock
}

type RowSource = ConstructorParameters<typeof ViewOverlay>[0]

/**
 * The store's view rows as a batch's overlay reads them, with the kv rows of
 * the keys its entries name that the kv order cache does not know read ahead
 * in one statement: a late joiner's keys are mostly new, and one read per key
 * was its largest cost after the writes (a run holds at most
 * RUN_ENTRIES_MAX keys, so the read is bounded by the batch).
 */
function storeRows (s: ReplicaState, items: readonly AuthEntry[]): RowSource {
  const read = (view: ViewName, key: Uint8Array): Uint8Array | undefined => s.store.viewGet(s.key, view, key)
  if (s.store.viewGetMany === undefined) return { get: read }
  /** Each key's text to the hex the store's answer is keyed by: one conversion per key. */
  const wanted = new Map<string, string>()
  for (const { entry: { body } } of items) {
    if ((body.t === 'kv.put' || body.t === 'kv.del') && s.kvOrders.get(body.key) === undefined) {
      wanted.set(body.key, Buffer.from(body.key, 'utf8').toString('hex'))
    }
  }
  if (wanted.size < 2) return { get: read }
  const rows = s.store.viewGetMany(s.key, 'kv', [...wanted.values()])
  return {
    get: read,
    getKv: (key, bytes) => {
      const hex = wanted.get(key)
      return hex !== undefined ? rows.get(hex) : read('kv', bytes)
    }
  }
}

/** authorKeyOf, remembering the last author: a run is one feed's, and hex per entry showed in catch-up's profile. */
function lastAuthorKey (): (author: Uint8Array) => AuthorKey {
  let last: Uint8Array | undefined
  let key: AuthorKey | undefined
  return author => {
    if (last === undefined || key === undefined || !bytesEqual(author, last)) {
      last = author
      key = authorKeyOf(author)
    }
    return key
  }
}

/**
 * The data views rebuilt from every stored entry plus `added`, under `acl`:
 * the same applyDataEntry as the incremental path, over an empty overlay.
 */
export function rebuildDataViews (s: ReplicaState, acl: Acl, added: readonly Entry[] = []): ViewOverlay {
  const overlay = new ViewOverlay(EMPTY_ROWS)
  const apply = (e: Entry): void => { if (s.effectiveData(acl, e)) applyDataEntry(overlay, e) }
  // An entry stored under an older version's weaker checks that today's decoder refuses is held but not
  // effective, alike on every node.
  for (const stored of s.store.entries(s.key, 'data')) {
    const e = readOrSkip(() => decodeStoredEntry(stored.bytes, stored.sig))
    if (e !== undefined) apply(e)
  }
  for (const e of added) if (isDataBody(e.body)) apply(e)
  return overlay
}

/**
 * Recomputes the ACL and every view from all stored entries plus `added`,
 * and commits them with `batch` (replacing all view rows): after an acl
 * entry or a fork proof, whose effect can reach back over stored entries.
 */
export function commitRebuild (
  s: ReplicaState, added: readonly Entry[], aclAdded: readonly Entry[], batch?: Batch, acl?: Acl
): void {
  const next = acl ?? s.computeAcl([...s.aclEntries, ...aclAdded], batch?.forks)
  const overlay = rebuildDataViews(s, next, added)
  const statusRows: ViewWrite[] = []
  for (const [key, value] of s.store.viewRows(s.key, 'status')) {
    if (next.currentRole(authorKeyOf(key)) !== null) statusRows.push({ view: 'status', key, value })
  }
  s.kvOrders.clear()
  const viewWrites = [...overlay.writes(), ...aclRows(next), ...statusRows]
  s.store.commit({ space: s.key, ...batch, replaceViews: true, viewWrites })
  s.aclEntries.push(...aclAdded)
  s.acl = next
  // Nothing to remember: the rebuild's overlay read no rows, so every key in it is new (KvOrderCache says why not).
}

/**
 * Stores a fork proof (the lowest per feed) and rebuilds: the forked feed's entries from its seq on are retracted.
 * A proof of an author whose hold lasts waits (fork-holds.ts): `forkHeld`.
 */
export function commitFork (s: ReplicaState, a: Entry, b: Entry, nowMs: number): IngestResult {
  const author = authorKeyOf(a.author)
  const frozenAt = s.store.feed(s.key, author, a.epoch)?.frozenAt ?? null
  if (frozenAt !== null && frozenAt <= a.seq) return { ...emptyResult(), duplicates: 1 }
  const held = s.forkHolds.heldSeq(author, a.epoch)
  if (held !== undefined && held <= a.seq) return { ...emptyResult(), duplicates: 1 }
  if (s.forkHolds.holds(author, nowMs)) {
    if (!s.forkHolds.hold(author, { a, b })) return { ...emptyResult(), duplicates: 1 }
    return { ...emptyResult(), forkHeld: forkProofOf(author, a, b) }
  }
  // Committed with the author's proofs of other feeds still held (their hold is over, not yet taken): one rebuild.
  const others = s.forkHolds.take(author).filter(p => p.a.epoch !== a.epoch)
  return commitForks(s, author, [{ a, b }, ...others], nowMs)
}

/**
 * The proofs held for authors whose hold is over, committed: one rebuild per author. Each result's `fork` is one of
 * them and `releasedForks` the others committed with it, forwarded alike.
 */
export function commitHeldForks (s: ReplicaState, nowMs: number): IngestResult[] {
  return s.forkHolds.due(nowMs).map(author => commitForks(s, author, s.forkHolds.take(author), nowMs))
}

function commitForks (s: ReplicaState, author: AuthorKey, pairs: readonly HeldFork[], nowMs: number): IngestResult {
  const forks = pairs.filter(({ a }) => (s.store.feed(s.key, author, a.epoch)?.frozenAt ?? Infinity) > a.seq)
    .map(({ a, b }) => forkProofOf(author, a, b))
  const [fork, ...rest] = forks
  if (fork === undefined) return { ...emptyResult(), duplicates: pairs.length }
  commitRebuild(s, [], [], { space: s.key, forks })
  s.forkHolds.committed(author, nowMs)
  return { ...emptyResult(), fork, releasedForks: rest, aclChanged: true }
}

function forkProofOf (author: AuthorKey, a: Entry, b: Entry): ForkProof {
  const [x, y] = compareBytes(a.id, b.id) < 0 ? [a, b] : [b, a]
  return { author, epoch: a.epoch, seq: a.seq, a: [x.bytes, x.sig], b: [y.bytes, y.sig] }
}

/**
 * Whether going from ACL `before` to `after` changes which stored data
 * entries are effective: only then must the views be rebuilt. Most acl
 * entries (an invite, a join, a grant to a new member) open windows over
 * feeds that hold no data yet, and a rebuild would read every entry.
 */
function reachesBack (s: ReplicaState, before: Acl, after: Acl): boolean {
  const changed = before.changedAuthors(after)
  if (changed === 'all') return true
  for (const author of changed) {
    for (const pos of s.store.dataPositions(s.key, author)) {
      if (atLeast(before.roleAt(author, pos), 'writer') !== atLeast(after.roleAt(author, pos), 'writer')) return true
    }
  }
  return false
}

/**
 * Commits a batch with acl entries whose new ACL (`acl`) leaves every stored
 * data entry as effective as it was: the batch's data entries are applied
 * incrementally, the acl rows rewritten, and the status rows of members who
 * are members no more dropped, as a rebuild would.
 */
function commitAclChange (
  s: ReplicaState, items: readonly AuthEntry[], aclAdded: readonly Entry[], acl: Acl, batch: Batch
): void {
  const before = s.acl
  const overlay = new ViewOverlay(storeRows(s, items), s.kvOrders)
  for (const { entry } of items) if (s.effectiveData(acl, entry)) applyDataEntry(overlay, entry)
  const now = new Set(acl.members().map(m => m.member))
  const removed: ViewWrite[] = []
  for (const m of before.members()) {
    if (!now.has(m.member)) removed.push({ view: 'acl', key: fromHex(m.member), value: null })
    if (m.role !== null && acl.currentRole(m.member) === null) {
      removed.push({ view: 'status', key: fromHex(m.member), value: null })
    }
  }
  s.store.commit({ ...batch, viewWrites: [...overlay.writes(), ...removed, ...aclRows(acl)] })
  s.aclEntries.push(...aclAdded)
  s.acl = acl
  s.kvOrders.remember(overlay)
}

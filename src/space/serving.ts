import { fromHex, RUN_BYTES_MAX, RUN_ENTRIES_MAX, toHex } from '../codec/index.ts'
import type { FeedRow, SignedBytes } from '../codec/index.ts'
import { entryIdOf } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { FeedState, ServedEntry } from '../store/index.ts'
import { readOrSkip } from './reads.ts'
import { decodeStoredEntry, entrySignatureValid } from './signing.ts'
import type { ReplicaState } from './state.ts'
import { decodeStatusRowRecord } from './views.ts'

/**
 * Serving: what a peer is told and sent of this replica. Nothing at or past
 * a proven fork (invariant 3), nothing past what the ACL covers, and no run
 * that does not end at an entry whose own signature is verified (decision 2).
 */

/** This node's version vector for the space (frozen feeds end before their fork, decision 7). */
export function vector (s: ReplicaState): FeedRow[] {
  return s.store.feeds(s.key).map(f => feedRowOf(s, f))
}

export function feedRow (s: ReplicaState, author: AuthorKey, epoch: number): FeedRow | undefined {
  const f = s.store.feed(s.key, author, epoch)
  return f === undefined ? undefined : feedRowOf(s, f)
}

function feedRowOf (s: ReplicaState, f: FeedState): FeedRow {
  const count = f.frozenAt === null ? f.count : Math.min(f.count, f.frozenAt)
  const head = count === f.count ? f.head : s.store.entryAt(s.key, f.author, f.epoch, count - 1)?.id ?? null
  const headId = head === null ? null : fromHex(head)
  return { author: fromHex(f.author), epoch: f.epoch, count, head: headId, frozen: f.frozenAt !== null }

}

/** How far a feed is worth pulling: below the fork, and below the ACL's limit (seq 0 always: it may be a join). */
export function pullLimit (s: ReplicaState, author: AuthorKey, epoch: number): number {
  const frozenAt = s.store.feed(s.key, author, epoch)?.frozenAt ?? Infinity
  return Math.min(frozenAt, Math.max(1, s.acl.feedLimit(author, epoch)))
}

/**
 * At most this many entries' own signatures a serve checks when no verified
 * one is in reach: an author's botched signature (inside a run a later one
 * covers) at the end of a range no longer stops the whole range, and an
 * author that botched many in a row costs a bounded number of checks.
 */
const SERVE_VERIFY_MAX = 16

/**
 * Signatures a serve found botched, remembered (their bytes never change; a valid copy that replaces one is
 * another key): a want of many ranges ending in a botched stretch checked each again, 16 Ed25519 checks a range
 * (2,000 ranges, one message: 1.5 s). Bounded per replica; the oldest is forgotten first.
 */
const BOTCHED_REMEMBERED_MAX = 4_096

function botchedKey (author: AuthorKey, epoch: number, entry: ServedEntry): string {
  return `${author}/${epoch}/${entry.seq}/${toHex(entry.sig.subarray(0, 8))}`
}

/**
 * How many signatures the serves of one want may check in all (serve-budget.ts): a want of many ranges, each ending
 * in another botched stretch, cost 16 checks a range once more stretches than BOTCHED_REMEMBERED_MAX were asked.
 * Spent, a serve sends only up to an entry verified before, and says so (`spent`).
 */
export interface SignatureChecks { left: number, spent: boolean }

/**
 * Entries [from, to) of a feed to send, ending at an entry whose own
 * signature is verified (decision 2), within one message's limits. If no
 * such entry is in reach, the server verifies the last ones itself, from the
 * end back, and serves up to the first that verifies.
 */
export function serve (
  s: ReplicaState, author: AuthorKey, epoch: number, from: number, to: number, checks?: SignatureChecks
): SignedBytes[] {
  const limit = Math.min(to, pullLimit(s, author, epoch))
  if (from >= limit) return []
  // servedRun reads no more than RUN_BYTES_MAX; the loop below cuts run()'s answer to the same.
  const run: readonly ServedEntry[] =
    s.store.servedRun?.(s.key, author, epoch, from, limit, RUN_ENTRIES_MAX, RUN_BYTES_MAX) ??
    s.store.run(s.key, author, epoch, from, limit, RUN_ENTRIES_MAX)
  let bytes = 0
  let end = 0
  while (end < run.length && bytes + (run[end] as ServedEntry).bytes.length <= RUN_BYTES_MAX) {
    bytes += (run[end++] as ServedEntry).bytes.length
  }
  let last = end - 1
  while (last >= 0 && !(run[last] as ServedEntry).verified) last--
  for (let at = end - 1; last < 0 && checks?.spent !== true && at >= Math.max(0, end - SERVE_VERIFY_MAX); at--) {
    if (ownSignatureValid(s, author, epoch, run[at] as ServedEntry, checks)) last = at
  }
  return run.slice(0, last + 1).map(e => [e.bytes, e.sig] as const)
}

/**
 * A stored entry's own signature, checked once: a valid one is marked verified, a botched one remembered (and not
 * checked again while remembered). A check spends one of `checks`; none left, it says so and finds nothing valid.
 */
function ownSignatureValid (
  s: ReplicaState, author: AuthorKey, epoch: number, stored: ServedEntry, checks?: SignatureChecks
): boolean {
  const key = botchedKey(author, epoch, stored)
  if (s.botchedSigs.has(key)) return false
  if (checks !== undefined && checks.left <= 0) {
    checks.spent = true
    return false
  }
  if (checks !== undefined) checks.left--
  const entry = readOrSkip(() => decodeStoredEntry(stored.bytes, stored.sig))
  if (entry === undefined || !entrySignatureValid(entry)) {
    const oldest = s.botchedSigs.values().next()
    if (s.botchedSigs.size >= BOTCHED_REMEMBERED_MAX && oldest.done !== true) s.botchedSigs.delete(oldest.value)
    s.botchedSigs.add(key)
    return false
  }
  // Its id is the hash of the bytes it is stored with (the store checks it against the row at that position).
  s.store.commit({ space: s.key, verified: [{ author, epoch, seq: stored.seq, id: entryIdOf(entry.id) }] })
  return true
}

/** Whether the entry we hold at a position carries a signature its author botched (ownSignatureValid: once). */
export function botchedAt (s: ReplicaState, author: AuthorKey, epoch: number, seq: number): boolean {
  const held = s.store.entryAt(s.key, author, epoch, seq)
  return held !== undefined && !held.verified && !ownSignatureValid(s, author, epoch, held)
}

/** Id of the stored entry at a position (hex), for comparing heads with a peer's. */
export function entryIdAt (s: ReplicaState, author: AuthorKey, epoch: number, seq: number): string | undefined {
  return s.store.entryAt(s.key, author, epoch, seq)?.id
}

/** Where pulling a feed resumes: stored entries plus the contiguous run already held pending (not re-asked for). */
export function resumeAt (s: ReplicaState, author: AuthorKey, epoch: number): number {
  const count = s.store.feed(s.key, author, epoch)?.count ?? 0
  return s.pending.contiguousEnd(`${author}/${epoch}`, count)
}

/** A status record as stored (serving one costs no decoding), or undefined if the row does not decode. */

export function statusRecord (s: ReplicaState, author: AuthorKey): SignedBytes | undefined {
  const row = s.store.viewGet(s.key, 'status', fromHex(author))
  return row === undefined ? undefined : readOrSkip(() => decodeStatusRowRecord(row))
}

import assert from 'node:assert/strict'
import {
  ACL_TYPES, bytesEqual, codecReason, compareClocks, decodeEntry, decodeStatus, isCodecError, newerStatus,
  toHex

} from '../codec/index.ts'
import type { Clock, Entry, SignedBytes, SignedStatus } from '../codec/index.ts'
import { authorKeyOf, entryIdOf, parseFeedKey } from '../ids/index.ts'
import type { EntryRef, FeedState, StoredEntry } from '../store/index.ts'
import type { Acl } from './acl.ts'
import { commitEntries, commitFork, commitVerified } from './commits.ts'
import type { AuthEntry } from './commits.ts'
import { emptyResult } from './outcome.ts'
import type { IngestResult, Reject } from './outcome.ts'
import type { PendingEntry } from './pending.ts'
import { readOrSkip } from './reads.ts'
import { decodeStoredEntry, entrySignatureValid, joinProofValid, statusSignatureValid } from './signing.ts'
import type { ReplicaState } from './state.ts'
import { status } from './view-reads.ts'
import { encodeStatusRow } from './views.ts'

/**
 * The ingest pipeline: what peers send (and local writes, which take the
 * same checks, local-writes.ts).
 *
 *   ingestRun: decode every entry -> one feed, consecutive seqs, linked by
 *   hash -> verify the run's last signature (decision 2) -> ingestAuthentic:
 *   skip what we hold (or prove a fork), check the link to our head, the
 *   clock, the ACL coverage of the feed, joins' proofs -> store entries and
 *   their view updates in one commit (commits.ts) -> retry what was pending
 *   on them.
 *
 * Invariants:
 *   1. Stored feeds are contiguous from seq 0 and linked by hash.
 *   2. Views equal a rebuild from the stored entries (the rebuild is the same code).
 *   3. Nothing past a proven fork is stored from then on, served or pulled.
 */
const CLOCK_SKEW_MAX_MS = 60_000

/** A run of one feed's entries from a peer, in seq order, as `[bytes, sig]` pairs. */
export function ingestRun (s: ReplicaState, run: readonly SignedBytes[], from: string, nowMs: number): IngestResult {
  if (run.length === 0) return emptyResult()
  const entries: Entry[] = []
  for (const [bytes, sig] of run) {
    const e = decodeOrReject(() => decodeEntry(bytes, sig))
    if ('reason' in e) return { ...emptyResult(), reject: e }
    entries.push(e)
  }
  const first = entries[0] as Entry
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry
    if (!bytesEqual(e.space, s.id)) {
      return { ...emptyResult(), reject: { reason: 'wrong-space', detail: 'entry of another space' } }
    }
    if (i === 0) continue
    const before = entries[i - 1] as Entry
    const follows = bytesEqual(e.author, first.author) && e.epoch === first.epoch && e.seq === before.seq + 1 &&
      e.prev !== null && bytesEqual(e.prev, before.id)
    if (!follows) {
      const detail = `entry ${i} of the run does not follow entry ${i - 1}`
      return { ...emptyResult(), reject: { reason: 'broken-chain', detail } }
    }
  }
  const last = entries[entries.length - 1] as Entry
  if (!entrySignatureValid(last)) {
    return { ...emptyResult(), reject: { reason: 'bad-signature', detail: `run ending at seq ${last.seq}` } }
  }
  return ingestAuthentic(s, entries.map((entry, i) => ({ entry, verified: i === entries.length - 1 })), from, nowMs)
}

/** Two entries at one position, each with its own signature (decision 7). */
export function ingestFork (s: ReplicaState, a: SignedBytes, b: SignedBytes, nowMs: number): IngestResult {
  const ea = decodeOrReject(() => decodeEntry(a[0], a[1]))
  const eb = decodeOrReject(() => decodeEntry(b[0], b[1]))
  if ('reason' in ea) return { ...emptyResult(), reject: ea }
  if ('reason' in eb) return { ...emptyResult(), reject: eb }
  const samePosition = bytesEqual(ea.space, s.id) && bytesEqual(eb.space, s.id) && bytesEqual(ea.author, eb.author) &&
    ea.epoch === eb.epoch && ea.seq === eb.seq
  if (!samePosition || bytesEqual(ea.id, eb.id)) {
    const detail = 'not two different entries at one position of this space'
    return { ...emptyResult(), reject: { reason: 'bad-fork-proof', detail } }
  }
  // One proof per feed (the lowest): a proof at or after a proven fork, or one held, is a duplicate, before any
  // signature is checked.
  const author = authorKeyOf(ea.author)
  const lowest = Math.min(s.store.feed(s.key, author, ea.epoch)?.frozenAt ?? Infinity,
    s.forkHolds.heldSeq(author, ea.epoch) ?? Infinity)
  if (lowest <= ea.seq) return { ...emptyResult(), duplicates: 1 }
  // Only a position someone granted can be forked (decision 17): two entries a stranger signed in its own feed
  // prove nothing.
  if (ea.seq >= s.acl.feedLimit(author, ea.epoch)) {
    const detail = `seq ${ea.seq} of a feed no grant covers here`
    return { ...emptyResult(), reject: { reason: 'ungranted-fork', detail } }
  }
  if (!entrySignatureValid(ea) || !entrySignatureValid(eb)) {
    const detail = 'an entry of the proof is not signed by its author'
    return { ...emptyResult(), reject: { reason: 'bad-fork-proof', detail } }
  }
  return commitFork(s, ea, eb, nowMs)
}

export type StatusOutcome = 'stored' | 'stale' | 'not-member' | 'future' | 'held' | Reject

/**
 * A standalone status record: kept only if newer than what we hold for its author. `now`: whether a newer, verified
 * record may be stored now; if not, the outcome is 'held' and nothing is stored (the caller keeps it for later).
 */
export function ingestStatus (
  s: ReplicaState, record: SignedBytes, nowMs: number, now?: (st: SignedStatus) => boolean
): StatusOutcome {
  const st = decodeOrReject(() => decodeStatus(record[0], record[1]))
  if ('reason' in st) return st
  if (!bytesEqual(st.space, s.id)) return { reason: 'wrong-space', detail: 'status of another space' }
  const author = authorKeyOf(st.author)
  if (s.acl.currentRole(author) === null) return 'not-member'
  if (st.clock.wallMs > nowMs + CLOCK_SKEW_MAX_MS) return 'future'
  // Staleness before the signature: the copies of a record that reach us
  // from several neighbours cost a lookup, not a verification each.
  const old = status(s, author)
  if (!newerStatus(st, old)) return 'stale'
  if (!statusSignatureValid(st.author, st.id, st.sig)) {
    return { reason: 'bad-signature', detail: 'status record not signed by its author' }
  }
  if (now !== undefined && !now(st)) return 'held'
  const value = encodeStatusRow(record)
  s.store.commit({ space: s.key, viewWrites: [{ view: 'status', key: st.author, value }], durable: false })
  return 'stored'
}

/** Retries pending entries: after time passed (clock skew) or the ACL changed. */
export function retryPending (s: ReplicaState, nowMs: number): IngestResult[] {
  return s.pending.feeds().flatMap(feed => releaseFeed(s, feed, nowMs))
}

/**
 * What of a feed's held entries can be judged now, ingested: those a run stored since passed (each a duplicate, or
 * the proof of a fork: dropped unchecked, that proof was lost), then the run from the feed's end on.
 */
function releaseFeed (s: ReplicaState, feed: string, nowMs: number): IngestResult[] {
  const { author, epoch } = parseFeedKey(feed)
  const { passed, run } = s.pending.take(feed, s.store.feed(s.key, author, epoch)?.count ?? 0)
  return groupByPeer([...passed, ...run]).map(group => ingestReleased(s, group, nowMs))
}

/**
 * Entries held pending, let through (time passed, the ACL changed, or their feed reached them): a reject, a
 * divergence or a fork found in them is for the peer that sent them (charged, probed, or refined with), named in
 * `releasedFaults`, never for whatever let them through.
 */
function ingestReleased (s: ReplicaState, group: PendingGroup, nowMs: number): IngestResult {
  const { reject, diverged, ...result } = ingestAuthentic(s, group.items, group.from, nowMs)
  const { from } = group
  if (reject !== undefined) result.releasedFaults.push({ from, reject })
  if (diverged !== undefined) result.releasedFaults.push({ from, diverged })
  const forked = result.fork ?? result.forkHeld
  if (forked !== undefined) result.releasedFaults.push({ from, forked })
  return result
}

/** Entries whose signatures are settled (a verified run, or signed here), through every other check of the pipeline. */
export function ingestAuthentic (
  s: ReplicaState, items: readonly AuthEntry[], from: string, nowMs: number
): IngestResult {
  const result = ingestChecked(s, items, from, nowMs)
  if (result.fork !== undefined || result.forkHeld !== undefined) return result
  // An entry whose own signature verified where a peer showed another valid one (ours was botched there, and this
  // is a valid copy of it): the two prove the fork there.
  for (const { entry, verified } of items) {
    const other = verified ? s.copiesElsewhere.differing(entry) : undefined
    if (other === undefined) continue
    const { fork, forkHeld, releasedForks, aclChanged } = commitFork(s, entry, other, nowMs)
    if (fork !== undefined) result.fork = fork
    if (forkHeld !== undefined) result.forkHeld = forkHeld
    result.releasedForks.push(...releasedForks)
    result.aclChanged ||= aclChanged
    break
  }
  return result
}

function ingestChecked (s: ReplicaState, items: readonly AuthEntry[], from: string, nowMs: number): IngestResult {
  const result = emptyResult()
  const head = items[0]?.entry
  if (head === undefined) return result
  const author = authorKeyOf(head.author)
  const epoch = head.epoch
  const feedKey = `${author}/${epoch}`
  const feed = s.store.feed(s.key, author, epoch)
  const count = feed?.count ?? 0
  const frozenAt = feed?.frozenAt ?? null
  const verifiedNow: EntryRef[] = []
  let i = 0
  // Skip what we hold; a different entry at a held position is a fork.
  for (; i < items.length && (items[i] as AuthEntry).entry.seq < count; i++) {
    const { entry, verified } = items[i] as AuthEntry
    const held = s.store.entryAt(s.key, author, epoch, entry.seq) as StoredEntry
    if (held.id === entryIdOf(entry.id)) {
      result.duplicates++
      // The signature verified here is the one that came now: held with another (a garbled one, relayed as it came),
      // ours is replaced by it, or we would serve runs ending at a row marked verified that is not (and a held
      // garbled signature would hide forever a fork that entry proves).
      if (verified && !held.verified) {
        const resigned = !bytesEqual(held.sig, entry.sig)
        verifiedNow.push(resigned ? { ...positionOf(held), sig: entry.sig } : held)
        // Held botched below a proof: the fork may now be provable lower (its first difference may be here).
        if (resigned && frozenAt !== null && entry.seq < frozenAt) result.resigned = { author, epoch, seq: entry.seq }
      }
      continue
    }
    // Past a fork proven here already: nothing more to prove (and no signature to check).
    if (frozenAt !== null && entry.seq >= frozenAt) return commitVerified(s, result, verifiedNow)
    // The fork is proven where the chains first differ (decision 7). Where an entry there carries a signature that
    // does not verify, it proves nothing; then the last entry of the run we hold a position for is tried: past the
    // first difference every position differs, and that one is the run's verified end when the run ends below our
    // count. A proof there is above the first difference (the holders of either branch keep their entries below
    // it), but it freezes the feed, where none would let its author go on equivocating unseen.
    const lastHeld = items.findLast(it => it.entry.seq < Math.min(count, frozenAt ?? Infinity)) as AuthEntry
    const ours = lastHeld.entry.seq > entry.seq ? s.store.entryAt(s.key, author, epoch, lastHeld.entry.seq) : undefined
    const first = proofAt(held, items[i] as AuthEntry)
    // Ours there carries a signature its author botched, theirs verifies: a valid copy of ours, which a relay may
    // hold, would prove the fork where it is (`heldBotched`: the sync engine asks its other peers for one), and so
    // would a second valid entry that differs from theirs.
    if (first === 'ours-botched') result.heldBotched = { author, epoch, seq: entry.seq }
    const elsewhere = first === 'ours-botched' ? s.copiesElsewhere.proofWith(entry) : first
    const proof = elsewhere ?? proofAt(ours, lastHeld)
    commitVerified(s, result, verifiedNow)
    if (proof === undefined || proof === 'ours-botched') return result
    return { ...result, ...commitFork(s, proof.held, proof.entry, nowMs), duplicates: result.duplicates }
  }
  const rest = items.slice(i).filter(it => frozenAt === null || it.entry.seq < frozenAt)
  result.dropped = items.length - i - rest.length
  if (rest.length === 0) return commitVerified(s, result, verifiedNow)
  const first = (rest[0] as AuthEntry).entry
  if (first.seq > count) {
    result.pending = s.pending.add(feedKey, rest.map(it => ({ ...it, from })))
    return commitVerified(s, result, verifiedNow)
  }
  if (count > 0 && (first.prev === null || toHex(first.prev) !== feed?.head)) {
    result.diverged = { author, epoch, seq: count - 1 }
    return commitVerified(s, result, verifiedNow)
  }
  const prevClock = count > 0 ? s.headClock(feed as FeedState) : undefined
  const { toStore, aclAdded, acl } = admit(s, rest, prevClock, { feedKey, from, nowMs }, result)
  if (toStore.length > 0) commitEntries(s, toStore, aclAdded, acl, verifiedNow)
  else commitVerified(s, result, verifiedNow)
  result.stored.push(...toStore.map(it => it.entry))
  result.aclChanged = aclAdded.length > 0
  if (toStore.length > 0) retryAfterStore(s, feedKey, nowMs, result)
  return result
}

/**
 * The entries of `rest` (which extend the feed's head) that may be stored
 * now, in order: up to a clock regression or a bad join proof (a reject in
 * `result`), or up to one that must wait (a clock ahead of ours, a position
 * the ACL does not cover, a join whose invite is not held): it and the rest
 * go pending. `acl` is the ACL the data entries are judged by (a join
 * changes the coverage of its own feed at once).
 */
function admit (
  s: ReplicaState, rest: readonly AuthEntry[], prevClock: Clock | undefined,
  at: { readonly feedKey: string, readonly from: string, readonly nowMs: number }, result: IngestResult
): { toStore: AuthEntry[], aclAdded: Entry[], acl: Acl } {
  const author = authorKeyOf((rest[0] as AuthEntry).entry.author)
  const epoch = (rest[0] as AuthEntry).entry.epoch
  let acl = s.acl
  const aclAdded: Entry[] = []
  const toStore: AuthEntry[] = []
  for (let k = 0; k < rest.length; k++) {
    const item = rest[k] as AuthEntry
    const e = item.entry
    if (prevClock !== undefined && compareClocks(e.clock, prevClock) <= 0) {
      result.reject = { reason: 'clock-regression', detail: `seq ${e.seq} has a clock not after seq ${e.seq - 1}` }
      break
    }
    const uncovered = e.seq >= acl.feedLimit(author, epoch) && !(e.seq === 0 && e.body.t === 'join')
    const blocked = e.clock.wallMs > at.nowMs + CLOCK_SKEW_MAX_MS || uncovered
    const joinCheck = e.body.t === 'join' ? checkJoin(s, e, aclAdded) : 'ok'
    if (joinCheck === 'bad') {
      const detail = `join at seq ${e.seq} is not countersigned by its invite's key`
      result.reject = { reason: 'bad-join-proof', detail }
      break
    }
    if (blocked || joinCheck === 'missing') {
      result.pending += s.pending.add(at.feedKey, rest.slice(k).map(it => ({ ...it, from: at.from })))
      break
    }
    toStore.push(item)
    prevClock = e.clock
    if (ACL_TYPES.includes(e.body.t)) {
      aclAdded.push(e)
      // Only a join at seq 0 changes the coverage of its own feed (the rest of this run; computeAcl counts no other
      // join, and a run of many cost a whole ACL each); other acl entries take effect at the commit.
      if (e.body.t === 'join' && e.seq === 0) acl = s.computeAcl([...s.aclEntries, ...aclAdded])
    }
  }
  return { toStore, aclAdded, acl }
}

function retryAfterStore (s: ReplicaState, feedKey: string, nowMs: number, result: IngestResult): void {
  const more = releaseFeed(s, feedKey, nowMs)
  if (result.aclChanged) more.push(...retryPending(s, nowMs))
  for (const r of more) {
    result.stored.push(...r.stored)
    result.released.push(...r.stored)
    result.releasedFaults.push(...r.releasedFaults)
    result.releasedForks.push(...r.releasedForks, ...(r.fork === undefined ? [] : [r.fork]))
    result.duplicates += r.duplicates
    result.aclChanged ||= r.aclChanged
  }
}

/**
 * Two entries at one position, ours and one that came, as a fork proof: both with their own signatures valid. None
 * can be made of an entry whose own signature does not verify; that is not the sender's doing: the entry came in an
 * authentic run (a later signature covers its bytes), so its author made it, and an honest node holds and relays it
 * as it came (one signature is checked per run). Nor of one held under an older version's weaker checks.
 */
function proofAt (
  held: StoredEntry | undefined, item: AuthEntry
): { held: Entry, entry: Entry } | 'ours-botched' | undefined {
  if (held === undefined || held.id === entryIdOf(item.entry.id)) return undefined
  const heldEntry = readOrSkip(() => decodeStoredEntry(held.bytes, held.sig))
  if (heldEntry === undefined) return undefined
  if (!item.verified && !entrySignatureValid(item.entry)) return undefined
  if (!held.verified && !entrySignatureValid(heldEntry)) return 'ours-botched'
  return { held: heldEntry, entry: item.entry }
}

/** 'missing' while the invite is not stored (pending); 'bad' if the proof does not verify. */
function checkJoin (s: ReplicaState, e: Entry, aclAdded: readonly Entry[]): 'ok' | 'missing' | 'bad' {
  assert.equal(e.body.t, 'join')
  if (e.body.t !== 'join') return 'bad'
  const inviteId = entryIdOf(e.body.invite)
  const invite = aclAdded.find(x => entryIdOf(x.id) === inviteId) ??
    s.aclEntries.find(x => entryIdOf(x.id) === inviteId)
  if (invite === undefined) return 'missing'
  if (invite.body.t !== 'invite') return 'bad'
  return joinProofValid(invite.body.key, s.id, e.author, e.body.proof) ? 'ok' : 'bad'
}

/** A decoded value, or the codec's error as a reject (decision 13: a peer's bad input is a value). */
export function decodeOrReject<T extends object> (decode: () => T): T | Reject {
  try {
    return decode()
  } catch (err) {
    if (isCodecError(err)) return { reason: 'malformed', detail: codecReason(err) }
    throw err
  }
}

interface PendingGroup { readonly from: string, readonly items: AuthEntry[] }

/**
 * Held entries as the runs to ingest: one from each peer's entries that link by hash. The pending queue holds one
 * entry a position, of whatever run brought it, and only a run was checked to link (ingestRun): two runs of one peer
 * from two branches of a forked feed, taken as one, were stored as a chain that does not link, which every node
 * pulling it from us then charged to us, up to a ban.
 */
function groupByPeer (items: readonly PendingEntry[]): PendingGroup[] {
  const groups: PendingGroup[] = []
  for (const it of items) {
    const g = groups[groups.length - 1]
    const last = g?.items[g.items.length - 1]?.entry
    const links = last !== undefined && it.entry.seq === last.seq + 1 && it.entry.prev !== null &&
      bytesEqual(it.entry.prev, last.id)
    if (g !== undefined && g.from === it.from && links) g.items.push(it)
    else groups.push({ from: it.from, items: [it] })
  }
  return groups
}

function positionOf (e: StoredEntry): Pick<StoredEntry, 'author' | 'epoch' | 'seq' | 'id'> {
  return { author: e.author, epoch: e.epoch, seq: e.seq, id: e.id }
}

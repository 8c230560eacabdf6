import assert from 'node:assert/strict'
import {
  bytesEqual, CLOCK_COUNTER_MAX, compareClocks, decodeEntry, decodeStatus, fromHex, POSITION_MAX
} from '../codec/index.ts'
import type { Body, Clock, Entry, Position, SignedBytes, SignedStatus } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf, entryIdOf, keyBytes } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { isCodecError } from '../codec/index.ts'
import type { CodecError } from '../codec/index.ts'
import { nextEpoch } from './epochs.ts'
import { ingestAuthentic, ingestStatus } from './ingest.ts'
import { SpaceError } from './outcome.ts'
import type { IngestResult } from './outcome.ts'
import { refuseIfRevoked } from './revocation.ts'
import { atLeast } from './roles.ts'
import { entrySignatureValid, signEntry, signJoinProof, signStatus } from './signing.ts'
import type { ReplicaState } from './state.ts'
import { isDataBody } from './views.ts'

/**
 * Local writes: entries this node signs, put through the same checks as
 * anything received (so a reader cannot write even locally), committed
 * before they return (decision 12: acknowledged means committed). One way
 * for every write: appendBodies; a single entry is its one-body case.
 */

/**
 * Bodies to append, or a function from the position of the first of them to
 * the bodies: for bodies that name positions of others in the same commit
 * (a big file names its chunk-list parts, file-versions.ts). The function is
 * called once, with the position the entries are then signed at.
 */
export type LocalBodies = readonly Body[] | ((first: Position) => readonly Body[])

/**
 * Appends local entries in one commit (one fsync for all). All or nothing:
 * if the role does not allow them, none is written.
 */
export function appendBodies (s: ReplicaState, keyPair: KeyPair, local: LocalBodies, nowMs: number): Entry[] {
  if (typeof local !== 'function' && local.length === 0) return []
  const author = authorKeyOf(keyPair.publicKey)
  const epoch = epochFor(s, author, nowMs)
  let { seq, prev } = feedEnd(s, author, epoch)
  const bodies = typeof local === 'function' ? local({ epoch, seq }) : local
  if (bodies.length === 0) return []
  refuseIfRevoked(s, author)
  for (const body of bodies) {
    if (isDataBody(body) && !atLeast(s.acl.roleAt(author, { epoch, seq }), 'writer')) {
      throw notAllowed(s, author, { epoch, seq }, body)
    }
  }
  const entries: Entry[] = []
  for (const body of bodies) {
    const clock = nextClock(s, nowMs)
    const entry = signEntry(keyPair, { space: s.id, author: keyPair.publicKey, epoch, seq, prev, clock, body })
    entries.push(entry)
    prev = entry.id
    seq++
  }
  const result = ingestLocal(s, entries, nowMs)
  // stored may also hold pending entries these unblocked
  const stored = new Set(result.stored.map(e => entryIdOf(e.id)))
  const missing = entries.find(e => !stored.has(entryIdOf(e.id)))
  if (missing === undefined) return entries
  const detail = result.reject !== undefined ? ` (${result.reject.detail})` : ''
  if (entries.length === 1) throw notAllowed(s, author, missing, missing.body, detail)
  const name = s.genesis.name
  throw new SpaceError('NOT_ALLOWED', `not all of ${entries.length} entries were accepted in space ${name}${detail}`)
}

/** What became of one body of appendEach: its entry, committed, or the refusal of that body alone. */
export type LocalOutcome = { readonly entry: Entry } | { readonly refused: SpaceError | CodecError }

/** Signed bytes of one group commit at most: a burst is cut into several commits, none holding memory without bound. */
const GROUP_BYTES_MAX = 1024 * 1024

/**
 * Group commit: data bodies of several writers in one commit (one fsync
 * for all), each judged alone, in order. A body the role does not allow or
 * the codec refuses (too big, a bad value) is refused by itself, and the
 * next ones take the seqs it did not use. Returns one outcome per body
 * taken: a prefix of `bodies`, cut once GROUP_BYTES_MAX of signed bytes is
 * reached (the first is always taken). A failed commit throws, and then
 * none of them was written. Data bodies only: they leave the ACL as it
 * is, so each is judged by the ACL the commit starts from, as alone.
 */
export function appendEach (s: ReplicaState, keyPair: KeyPair, bodies: readonly Body[], nowMs: number): LocalOutcome[] {
  const author = authorKeyOf(keyPair.publicKey)
  const epoch = epochFor(s, author, nowMs)
  let { seq, prev } = feedEnd(s, author, epoch)
  const outcomes: LocalOutcome[] = []
  const entries: Entry[] = []
  let bytes = 0
  for (const body of bodies) {
    if (bytes >= GROUP_BYTES_MAX) break
    assert.ok(isDataBody(body), `a group commit takes data bodies only, not ${body.t}`)
    const at = { epoch, seq }
    const signed = refusedOr(() => {
      refuseIfRevoked(s, author)
      if (!atLeast(s.acl.roleAt(author, at), 'writer')) throw notAllowed(s, author, at, body)
      const clock = nextClock(s, nowMs)
      return signEntry(keyPair, { space: s.id, author: keyPair.publicKey, epoch, seq, prev, clock, body })
    })
    outcomes.push(signed)
    if ('refused' in signed) continue
    entries.push(signed.entry)
    bytes += signed.entry.bytes.length
    prev = signed.entry.id
    seq++
  }
  if (entries.length === 0) return outcomes
  const result = ingestLocal(s, entries, nowMs)
  // The very entries handed in come back in `stored` (no hex id per entry to match them).
  const stored = new Set<Entry>(result.stored)
  const detail = result.reject !== undefined ? ` (${result.reject.detail})` : ''
  return outcomes.map(o => 'refused' in o || stored.has(o.entry)
    ? o
    : { refused: notAllowed(s, author, o.entry, o.entry.body, detail) })
}

/** Entries signed here through the ingest pipeline; what they let out of pending is kept for the sync layer. */
function ingestLocal (s: ReplicaState, entries: readonly Entry[], nowMs: number): IngestResult {
  const result = ingestAuthentic(s, entries.map(entry => ({ entry, verified: true })), 'local', nowMs)
  s.releasedByLocal = { entries: result.released, faults: result.releasedFaults, forks: result.releasedForks }
  return result
}

/** The signed entry, or the user's error that refused it (anything else is ours, and goes on up). */
function refusedOr (sign: () => Entry): LocalOutcome {
  try {
    return { entry: sign() }
  } catch (err) {
    if (err instanceof SpaceError || isCodecError(err)) return { refused: err }
    throw err
  }
}

function notAllowed (s: ReplicaState, author: AuthorKey, at: Position, body: Body, detail = ''): SpaceError {
  const role = s.acl.roleAt(author, at) ?? 'none'
  const refused = `your role in space ${s.genesis.name} (${role}) does not allow ${body.t}${detail}`
  return new SpaceError('NOT_ALLOWED', `${refused}; ask an admin of the space to grant you writer`)
}

/**
 * Opens a new epoch for a local author (decisions 6 and 15): at its first
 * write of this replica's life (a process start), since no store can prove
 * it is not a restored copy. Above every epoch it holds, at least the wall
 * time, plus this process's salt (epochs.ts).
 */
export function openEpoch (s: ReplicaState, author: AuthorKey, nowMs: number): number {
  const epoch = nextEpoch(ownEpochs(s, author), nowMs, s.epochSalt)
  s.epochs.set(author, epoch)
  return epoch
}

/** Every epoch `author` opened that this replica knows of: its stored feeds', this process's, and the floor. */
function ownEpochs (s: ReplicaState, author: AuthorKey): number[] {
  const own = s.store.feeds(s.key).filter(f => f.author === author).map(f => f.epoch)
  const opened = s.epochs.get(author)
  if (opened !== undefined) own.push(opened)
  if (s.epochFloor > 0) own.push(s.epochFloor)
  return own
}

/** The highest epoch `author` opened here (-1: none): what a node that leaves the space must open above later. */
export function highestOwnEpoch (s: ReplicaState, author: AuthorKey): number {
  return Math.max(-1, ...ownEpochs(s, author))
}

/**
 * Joins with an invite (decision 9): a join entry at seq 0 of a new epoch,
 * countersigned by the invite key. It stays pending until the invite entry
 * arrives from the inviter; until then pendingJoin() presents it at the handshake.
 */
export function join (
  s: ReplicaState, keyPair: KeyPair, inviteId: Uint8Array, inviteKey: KeyPair, nowMs: number
): { entry: Entry, stored: boolean } {
  const author = authorKeyOf(keyPair.publicKey)
  const epoch = openEpoch(s, author, nowMs)
  const proof = signJoinProof(inviteKey, s.id, keyPair.publicKey)
  const entry = signEntry(keyPair, {
    space: s.id, author: keyPair.publicKey, epoch, seq: 0, prev: lastHeadBefore(s, author, epoch),
    clock: nextClock(s, nowMs), body: { t: 'join', invite: inviteId, proof }
  })
  const result = ingestLocal(s, [entry], nowMs)
  if (result.reject !== undefined) {
    const detail = result.reject.detail
    throw new SpaceError('INVALID_INPUT', `this invite does not match the space: ${detail}; ask for a new invite`)
  }
  return { entry, stored: result.stored.length > 0 }
}

export function publishStatus (
  s: ReplicaState, keyPair: KeyPair, body: Record<string, unknown>, nowMs: number, after?: Clock
): SignedStatus {
  const { bytes, sig } = signOwnStatus(s, keyPair, body, nowMs, after)
  const result = ingestStatus(s, [bytes, sig], nowMs)
  if (result !== 'stored') {
    throw new SpaceError('NOT_ALLOWED', `status not accepted: ${typeof result === 'string' ? result : result.detail}`)
  }
  return decodeStatus(bytes, sig)
}

/**
 * A status record of ours, signed with the replica's next clock and not stored (a leave notice: leave.ts); `after`:
 * a clock of an earlier record of ours it must come after (one a peer handed back, whose clock we had then).
 */
export function signOwnStatus (
  s: ReplicaState, keyPair: KeyPair, body: Record<string, unknown>, nowMs: number, after?: Clock
): SignedStatus {
  if (after !== undefined && compareClocks(after, s.clock) > 0) s.clock = after
  const clock = nextClock(s, nowMs)
  const { bytes, sig } = signStatus(keyPair, { space: s.id, author: keyPair.publicKey, clock, body })
  return decodeStatus(bytes, sig)
}

/** Where this author's next local entry goes: its epoch, and the seq after its feed's last. */
export function nextPosition (s: ReplicaState, author: AuthorKey, nowMs: number): Position {
  const epoch = epochFor(s, author, nowMs)
  return { epoch, seq: s.store.feed(s.key, author, epoch)?.count ?? 0 }
}

/**
 * Our join as this node wrote it before a restart (node/own-joins.ts keeps its bytes on disk): held in pending again,
 * so pendingJoinOf() finds it and it is presented as before, or stored at once if its invite is here. Only a join of
 * `author` in this space whose signature holds is taken (the file is ours, but a damaged one must not put anything
 * else in pending); undefined otherwise. Epochs opened from now on are above its own, as they were before.
 */
export function restoreJoin (s: ReplicaState, author: AuthorKey, join: SignedBytes, nowMs: number): Entry | undefined {
  let entry: Entry
  try {
    entry = decodeEntry(join[0], join[1])
  } catch (err) {
    if (isCodecError(err)) return undefined
    throw err
  }
  const ours = authorKeyOf(entry.author) === author && bytesEqual(entry.space, s.id) && entry.body.t === 'join'
  if (!ours || entry.seq !== 0 || !entrySignatureValid(entry)) return undefined
  if (entry.epoch > s.epochFloor) s.epochFloor = entry.epoch
  const result = ingestLocal(s, [entry], nowMs)
  return result.reject === undefined ? entry : undefined
}

/** Our own join while it waits for its invite (pending here until the inviter's feed arrives). */
export function pendingJoinOf (s: ReplicaState, author: AuthorKey): Entry | undefined {
  let newest: Entry | undefined
  for (const feed of s.pending.feeds()) {
    if (!feed.startsWith(`${author}/`)) continue
    const first = s.pending.peek(feed, 0)
    // The newest join is the one its user waits on (an older one may have been refused).
    if (first === undefined || first.entry.body.t !== 'join') continue
    if (newest === undefined || first.entry.epoch > newest.epoch) newest = first.entry
  }
  return newest
}

/**
 * Forgets every join of `author` still pending here, and whatever waits behind it in its feed: its issuer refused
 * the newest for good (node/own-joins.ts), and the older ones it replaced are not presented again either (a restart
 * would not hold them again). A join no longer pending is no longer presented (pendingJoinOf finds none).
 */
export function dropPendingJoins (s: ReplicaState, author: AuthorKey): void {
  for (const feed of s.pending.feeds()) {
    if (feed.startsWith(`${author}/`) && s.pending.peek(feed, 0)?.entry.body.t === 'join') s.pending.dropFeed(feed)
  }
}

function epochFor (s: ReplicaState, author: AuthorKey, nowMs: number): number {
  const known = s.epochs.get(author)
  // A proven fork: go on in a new epoch (decision 7).
  if (known !== undefined && s.store.feed(s.key, author, known)?.frozenAt == null) return known
  // Only an epoch this replica opened is continued: a stored one may have gone on in a copy of this store
  // (decision 15).

  return openEpoch(s, author, nowMs)
}

/** Where our feed of `epoch` ends: the next seq, and the id the next entry links to (the last epoch's head, at 0). */
function feedEnd (s: ReplicaState, author: AuthorKey, epoch: number): { seq: number, prev: Uint8Array | null } {
  const feed = s.store.feed(s.key, author, epoch)
  const seq = feed?.count ?? 0
  const head = feed?.head ?? null
  assert.ok(seq === 0 || head !== null, `feed ${author}/${epoch} holds ${seq} entries but no head`)
  return { seq, prev: head !== null ? keyBytes(head) : lastHeadBefore(s, author, epoch) }
}

function lastHeadBefore (s: ReplicaState, author: AuthorKey, epoch: number): Uint8Array | null {
  const earlier = s.store.feeds(s.key).filter(f => f.author === author && f.epoch < epoch && f.head !== null)
  const last = earlier.sort((a, b) => b.epoch - a.epoch)[0]
  return last?.head != null ? fromHex(last.head) : null
}

function nextClock (s: ReplicaState, nowMs: number): Clock {
  const c = s.clock
  const next = nowMs > c.wallMs
    ? { wallMs: Math.min(nowMs, POSITION_MAX), counter: 0 }
    : { wallMs: c.wallMs, counter: Math.min(c.counter + 1, CLOCK_COUNTER_MAX) }
  s.clock = next
  return next
}

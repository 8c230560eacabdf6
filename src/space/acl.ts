import { comparePositions, INVITE_KEEP_MAX } from '../codec/index.ts'
import type { GrantableRole, Position, Role } from '../codec/index.ts'
import type { AuthorKey, EntryId } from '../ids/index.ts'
import { entryIdOf } from '../ids/index.ts'
import { higher } from './roles.ts'

/**
 * The ACL as windows of positions (design decisions 5, 7 and 9).
 *
 * A grant or a join its invite's issuer redeemed opens a window for a member from a position;
 * a revoke or a fork proof is a Cut that closes the windows opened before it.
 * A member's entry is effective iff its position lies in a window of a role
 * that allows it. Everything is computed from the SET of acl entries and fork
 * proofs, never from their order of arrival or their clocks, so every node
 * with the same entries computes the same windows.
 *
 * Authority is a chain without cycles: the owner's entries always count
 * (except after its own fork in that epoch); admin windows come only from the
 * owner's grants, invites and revokes; writer and reader windows from the
 * owner's or from admins' entries lying inside the issuer's admin window.
 *
 * This module holds the windows and the questions asked of them; building
 * them from the entries is acl-compute.ts.
 */
export interface Window { readonly role: GrantableRole, readonly from: Position }

export interface Cut {
  readonly at: Position
  /** Earlier epochs of the member that stay effective below the cut (decision 6: no backdating into a new epoch). */
  readonly keep: ReadonlySet<number>
  /** 'all' (owner revoke, fork) closes every window; 'members' (admin revoke) only writer and reader windows. */
  readonly scope: 'all' | 'members'
  /** A fork also retracts the author's own joins from the cut on: only a new grant reopens it. */
  readonly kind: 'revoke' | 'fork'
}

interface MemberRow {
  readonly member: AuthorKey
  /** The role of the windows still open (not closed by any cut), or null. */
  readonly role: Role | null
  readonly windows: readonly Window[]
  readonly cuts: readonly Cut[]
}

/** An effective invite as the ACL sees it (decision 9). */
export interface InviteState {
  readonly id: Uint8Array
  readonly issuer: AuthorKey
  readonly expiresMs: number
  /** Whether a revoke by an authority over it counts (then only the joins every such revoke names count). */
  readonly revoked: boolean
  /** Ids of the joins at seq 0 that name it, in id order: everything a node holds, whether they took a use or not. */
  readonly joins: readonly Uint8Array[]
  readonly role: GrantableRole
  readonly uses: number
  /** The joins its issuer redeemed that took a use (decision 18), in the issuer's feed order: at most `uses`. */
  readonly redeemed: readonly Uint8Array[]
}

/** An invite a member may revoke, and what its revoke should keep. */
export interface RevocableInvite {
  readonly invite: Uint8Array
  readonly issuer: AuthorKey
  readonly expiresMs: number
  readonly keep: readonly Uint8Array[]
  /** Joins its issuer redeemed: past INVITE_KEEP_MAX, `keep` cannot name them all (the sweep then leaves it be). */
  readonly redeemed: number
}

export class Acl {
  readonly owner: AuthorKey
  readonly #windows: Map<AuthorKey, Window[]>
  readonly #cuts: Map<AuthorKey, Cut[]>
  readonly #ownerForks: Position[]
  readonly #invites: readonly InviteState[]

  constructor (
    owner: AuthorKey, windows: Map<AuthorKey, Window[]>, cuts: Map<AuthorKey, Cut[]>, ownerForks: Position[],
    invites: readonly InviteState[] = []
  ) {
    this.owner = owner
    this.#windows = windows
    this.#cuts = cuts
    this.#ownerForks = ownerForks
    this.#invites = invites
  }

  /**
   * Invites not revoked yet that `member` has authority to revoke, the same
   * rule computeAcl applies to invite.revoke: the owner revokes any invite;
   * an admin (while it is one) those issued by admins, never the owner's.
   * Each comes with the joins to keep: every join its issuer redeemed (named
   * in the issuer's own feed, held here or not: an issuer catching up after a
   * rejoin or a restore did not hold the join it redeemed, and its sweep's
   * revoke evicted that member everywhere; a review's probe), and every join
   * at seq 0 held for it, so that two revokes made from the same entries keep
   * the same joins (the ACL counts only the joins all revokes keep) and none
   * held or redeemed is dropped; the use limit still applies to them. Past
   * INVITE_KEEP_MAX joins, the first INVITE_KEEP_MAX of that order (keptJoins).
   */
  openInvites (member: AuthorKey): RevocableInvite[] {
    const isOwner = member === this.owner
    if (!isOwner && this.currentRole(member) !== 'admin') return []
    return this.#invites
      .filter(i => !i.revoked && (isOwner || i.issuer !== this.owner))
      .map(i => ({
        invite: i.id, issuer: i.issuer, expiresMs: i.expiresMs, keep: keptJoins(i), redeemed: i.redeemed.length
      }))
  }

  /** openInvites that have expired at `nowMs` (expired means `expiresMs < nowMs`, as the handshake refuses joins). */
  expiredInvites (member: AuthorKey, nowMs: number): RevocableInvite[] {
    return this.openInvites(member).filter(i => i.expiresMs < nowMs)
  }

  /**
   * How many of `issuer`'s invites could still admit someone at `nowMs`: not revoked, not expired, uses left. Only
   * their issuer admits their joiners (decision 18), so a leave tells how many it leaves unanswered.
   */
  unusedInvites (issuer: AuthorKey, nowMs: number): number {
    return this.#invites.filter(i =>
      i.issuer === issuer && !i.revoked && i.expiresMs >= nowMs && i.redeemed.length < i.uses).length
  }

  /** The effective invite with this id (hex), or undefined (unknown, or issued without authority). */
  inviteState (id: EntryId): InviteState | undefined {
    return this.#invites.find(i => entryIdOf(i.id) === id)
  }

  /** The revokes (not forks) that cut `member`'s windows: a revoked member comes back only by a grant (decision 18). */
  revokesOf (member: AuthorKey): readonly Cut[] {
    return (this.#cuts.get(member) ?? []).filter(c => c.kind === 'revoke')
  }

  /** The highest role that makes `pos` of `author` effective, or null. */
  roleAt (author: AuthorKey, pos: Position): Role | null {
    if (author === this.owner) return this.#ownerEffective(pos) ? 'owner' : null
    let best: Role | null = null
    const cuts = this.#cuts.get(author) ?? []
    for (const w of this.#windows.get(author) ?? []) {
      if (windowContains(w, cuts, pos)) best = higher(best, w.role)
    }
    return best
  }

  /** The role a member holds from now on (its open windows), or null: who is served a space. */
  currentRole (author: AuthorKey): Role | null {
    if (author === this.owner) return 'owner'
    let best: Role | null = null
    const cuts = this.#cuts.get(author) ?? []
    for (const w of this.#windows.get(author) ?? []) {
      if (!cuts.some(c => cutApplies(c, w))) best = higher(best, w.role)
    }
    return best
  }

  /**
   * Seqs below this limit in feed (author, epoch) may be effective, so they are
   * pulled and stored; seqs at or above it are not (pending until a new grant).
   * 0 means the feed is not covered at all (only a join at seq 0 is looked at).
   */
  feedLimit (author: AuthorKey, epoch: number): number {
    if (author === this.owner) {
      const fork = this.#ownerForks.filter(f => f.epoch === epoch).map(f => f.seq)
      return fork.length === 0 ? Infinity : Math.min(...fork)
    }
    let limit = 0
    const cuts = this.#cuts.get(author) ?? []
    for (const w of this.#windows.get(author) ?? []) limit = Math.max(limit, windowLimit(w, cuts, epoch))
    return limit
  }

  members (): MemberRow[] {
    const rows: MemberRow[] = [{ member: this.owner, role: 'owner', windows: [], cuts: [] }]
    const authors = new Set([...this.#windows.keys(), ...this.#cuts.keys()])
    authors.delete(this.owner)
    for (const member of [...authors].sort()) {
      const windows = this.#windows.get(member) ?? []
      rows.push({ member, role: this.currentRole(member), windows, cuts: this.#cuts.get(member) ?? [] })
    }
    return rows
  }

  /**
   * The members whose windows or cuts differ in `other`, or 'all' when the
   * owner's forks differ (the owner's entries are then judged anew). A
   * member not listed has the same roleAt at every position in both.
   */
  changedAuthors (other: Acl): Set<AuthorKey> | 'all' {
    const forks = (acl: Acl): string => JSON.stringify(acl.#ownerForks.map(f => [f.epoch, f.seq]).sort())
    if (other.owner !== this.owner || forks(this) !== forks(other)) return 'all'
    const changed = new Set<AuthorKey>()
    const authors = new Set([
      ...this.#windows.keys(), ...this.#cuts.keys(), ...other.#windows.keys(), ...other.#cuts.keys()
    ])
    for (const a of authors) if (this.#memberKey(a) !== other.#memberKey(a)) changed.add(a)
    return changed
  }

  /** A canonical text of one member's windows and cuts, to compare two ACLs by. */
  #memberKey (author: AuthorKey): string {
    const windows = (this.#windows.get(author) ?? []).map(w => `${w.role}@${w.from.epoch}/${w.from.seq}`).sort()
    const cuts = (this.#cuts.get(author) ?? []).map(c => {
      const keep = [...c.keep].sort((a, b) => a - b).join(',')
      return `${c.kind}:${c.scope}@${c.at.epoch}/${c.at.seq}:${keep}`
    }).sort()
    return `${windows.join(' ')}|${cuts.join(' ')}`
  }

  /**
   * roleAt with the fork at `pos` itself not proven: whether a revoke at a fork position was issued with authority
   * (decision 7: it stays effective on either branch). Other forks still retract what they retract: setting them
   * aside too let a counted fork revive an authority an earlier fork had retracted, and the revoke it enabled closed
   * the very window that made the fork count (computeAcl then had no fixpoint).
   */
  roleIgnoringForkAt (author: AuthorKey, pos: Position): Role | null {
    if (author === this.owner) return 'owner'
    let best: Role | null = null
    const cuts = (this.#cuts.get(author) ?? []).filter(c => c.kind !== 'fork' || comparePositions(c.at, pos) !== 0)
    for (const w of this.#windows.get(author) ?? []) {
      if (windowContains(w, cuts, pos)) best = higher(best, w.role)
    }
    return best
  }

  #ownerEffective (pos: Position): boolean {
    return !this.#ownerForks.some(f => f.epoch === pos.epoch && pos.seq >= f.seq)
  }
}

/**
 * The joins a revoke of `i` keeps: those its issuer redeemed (the ones that count, in its feed order, as uses are
 * taken), then the others held, each once, at most INVITE_KEEP_MAX: a longer list does not fit in an entry (and past
 * KEEP_MAX every node refuses it), so an invite of many uses was made unrevocable, its issuer blamed everywhere, by
 * redeeming (or merely presenting) more joins than that.
 */
function keptJoins (i: InviteState): Uint8Array[] {
  const redeemed = new Set(i.redeemed.map(entryIdOf))
  return [...i.redeemed, ...i.joins.filter(j => !redeemed.has(entryIdOf(j)))].slice(0, INVITE_KEEP_MAX)
}

export function cutApplies (c: Cut, w: Window): boolean {
  if (c.scope === 'members' && w.role === 'admin') return false
  // A cut closes the windows opened before it; a grant from the cut on (a demotion, a re-grant after a fork)
  // is a new window.

  return comparePositions(c.at, w.from) > 0
}

function windowContains (w: Window, cuts: readonly Cut[], pos: Position): boolean {
  if (comparePositions(pos, w.from) < 0) return false
  for (const c of cuts) {
    if (!cutApplies(c, w)) continue
    if (comparePositions(pos, c.at) >= 0) return false
    if (pos.epoch !== c.at.epoch && !kept(c, pos.epoch)) return false
  }
  return true
}

/**
 * Epochs other than the cut's that stay effective below it: a revoke's
 * `keep` list; for a fork, every earlier epoch (decision 7: retracted is what
 * lies from the fork position on). Computed from the cut alone, so it does not
 * depend on which entries a node happens to store.
 */
export function kept (c: Cut, epoch: number): boolean {
  return c.kind === 'fork' ? epoch < c.at.epoch : c.keep.has(epoch)
}

function windowLimit (w: Window, cuts: readonly Cut[], epoch: number): number {
  if (w.from.epoch > epoch) return 0
  let upper = Infinity
  for (const c of cuts) {
    if (!cutApplies(c, w)) continue
    if (epoch > c.at.epoch) return 0
    if (epoch === c.at.epoch) upper = Math.min(upper, c.at.seq)
    else if (!kept(c, epoch)) return 0
  }
  if (w.from.epoch === epoch && upper <= w.from.seq) return 0
  return upper
}

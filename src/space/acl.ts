import { comparePositions, compareBytes, fromHex, toHex } from '../codec/index.ts'
import type { Entry, GrantableRole, Position, Role } from '../codec/index.ts'
import type { AuthorHex } from '../store/index.ts'
import { atLeast, higher } from './roles.ts'

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

export interface ForkAt { readonly author: AuthorHex, readonly epoch: number, readonly seq: number }

export interface AclInput {
  readonly owner: AuthorHex
  /** Every stored acl entry of the space (grants, revokes, invites, invite revokes, joins). */
  readonly entries: readonly Entry[]
  readonly forks: readonly ForkAt[]
  /** Epochs of an author reachable from `epoch` by the seq-0 links (earlier epochs it held when it opened this one). */
  /** Both entries of every fork proof (stored or not): a revoke at a fork position counts on either branch (decision 7). */
  readonly forkEntries?: readonly Entry[]
}

export interface MemberRow {
  readonly member: AuthorHex
  /** The role of the windows still open (not closed by any cut), or null. */
  readonly role: Role | null
  readonly windows: readonly Window[]
  readonly cuts: readonly Cut[]
}

/** An effective invite as the ACL sees it (decision 9). */
export interface InviteState {
  readonly id: Uint8Array
  readonly issuer: AuthorHex
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
  readonly issuer: AuthorHex
  readonly expiresMs: number
  readonly keep: readonly Uint8Array[]
}

export class Acl {
  readonly owner: AuthorHex
  readonly #windows: Map<AuthorHex, Window[]>
  readonly #cuts: Map<AuthorHex, Cut[]>
  readonly #ownerForks: Position[]
  readonly #invites: readonly InviteState[]

  constructor (owner: AuthorHex, windows: Map<AuthorHex, Window[]>, cuts: Map<AuthorHex, Cut[]>, ownerForks: Position[], invites: readonly InviteState[] = []) {
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
   * Each comes with the joins to keep: every join at seq 0 held for it, so
   * that two revokes made from the same entries keep the same joins (the ACL
   * counts only the joins all revokes keep) and none held is dropped; the
   * use limit still applies to them.
   */
  openInvites (member: AuthorHex): RevocableInvite[] {
    const isOwner = member === this.owner
    if (!isOwner && this.currentRole(member) !== 'admin') return []
    return this.#invites
      .filter(i => !i.revoked && (isOwner || i.issuer !== this.owner))
      .map(i => ({ invite: i.id, issuer: i.issuer, expiresMs: i.expiresMs, keep: i.joins }))
  }

  /** openInvites that have expired at `nowMs` (expired means `expiresMs < nowMs`, as the handshake refuses joins). */
  expiredInvites (member: AuthorHex, nowMs: number): RevocableInvite[] {
    return this.openInvites(member).filter(i => i.expiresMs < nowMs)
  }

  /** The effective invite with this id (hex), or undefined (unknown, or issued without authority). */
  inviteState (id: string): InviteState | undefined {
    return this.#invites.find(i => toHex(i.id) === id)
  }

  /** The revokes (not forks) that cut `member`'s windows: a member revoked once comes back only by a grant (decision 18). */
  revokesOf (member: AuthorHex): readonly Cut[] {
    return (this.#cuts.get(member) ?? []).filter(c => c.kind === 'revoke')
  }

  /** The highest role that makes `pos` of `author` effective, or null. */
  roleAt (author: AuthorHex, pos: Position): Role | null {
    if (author === this.owner) return this.#ownerEffective(pos) ? 'owner' : null
    let best: Role | null = null
    const cuts = this.#cuts.get(author) ?? []
    for (const w of this.#windows.get(author) ?? []) {
      if (windowContains(w, cuts, pos)) best = higher(best, w.role)
    }
    return best
  }

  /** The role a member holds from now on (its open windows), or null: who is served a space. */
  currentRole (author: AuthorHex): Role | null {
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
  feedLimit (author: AuthorHex, epoch: number): number {
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
      rows.push({ member, role: this.currentRole(member), windows: this.#windows.get(member) ?? [], cuts: this.#cuts.get(member) ?? [] })
    }
    return rows
  }

  /**
   * The members whose windows or cuts differ in `other`, or 'all' when the
   * owner's forks differ (the owner's entries are then judged anew). A
   * member not listed has the same roleAt at every position in both.
   */
  changedAuthors (other: Acl): Set<AuthorHex> | 'all' {
    const forks = (acl: Acl): string => JSON.stringify(acl.#ownerForks.map(f => [f.epoch, f.seq]).sort())
    if (other.owner !== this.owner || forks(this) !== forks(other)) return 'all'
    const changed = new Set<AuthorHex>()
    const authors = new Set([...this.#windows.keys(), ...this.#cuts.keys(), ...other.#windows.keys(), ...other.#cuts.keys()])
    for (const a of authors) if (this.#memberKey(a) !== other.#memberKey(a)) changed.add(a)
    return changed
  }

  /** A canonical text of one member's windows and cuts, to compare two ACLs by. */
  #memberKey (author: AuthorHex): string {
    const windows = (this.#windows.get(author) ?? []).map(w => `${w.role}@${w.from.epoch}/${w.from.seq}`).sort()
    const cuts = (this.#cuts.get(author) ?? []).map(c => `${c.kind}:${c.scope}@${c.at.epoch}/${c.at.seq}:${[...c.keep].sort((a, b) => a - b).join(',')}`).sort()
    return `${windows.join(' ')}|${cuts.join(' ')}`
  }

  /** roleAt as if no fork had been proven: whether a revoke at a fork position was issued with authority. */
  roleIgnoringForks (author: AuthorHex, pos: Position): Role | null {
    if (author === this.owner) return 'owner'
    let best: Role | null = null
    const cuts = (this.#cuts.get(author) ?? []).filter(c => c.kind !== 'fork')
    for (const w of this.#windows.get(author) ?? []) {
      if (windowContains(w, cuts, pos)) best = higher(best, w.role)
    }
    return best
  }

  #ownerEffective (pos: Position): boolean {
    return !this.#ownerForks.some(f => f.epoch === pos.epoch && pos.seq >= f.seq)
  }
}

function cutApplies (c: Cut, w: Window): boolean {
  if (c.scope === 'members' && w.role === 'admin') return false
  // A cut closes the windows opened before it; a grant from the cut on (a demotion, a re-grant after a fork) is a new window.
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
function kept (c: Cut, epoch: number): boolean {
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

/** Builds the ACL from the set of acl entries and fork proofs (see the class comment for the rules). */
export function computeAcl (input: AclInput): Acl {
  const { owner } = input
  const windows = new Map<AuthorHex, Window[]>()
  const cuts = new Map<AuthorHex, Cut[]>()
  const ownerForks: Position[] = []
  const push = <T>(m: Map<AuthorHex, T[]>, k: AuthorHex, v: T): void => { const a = m.get(k); if (a === undefined) m.set(k, [v]); else a.push(v) }

  const forks = lowestForks(input.forks)
  for (const f of forks) {
    if (f.author === owner) ownerForks.push({ epoch: f.epoch, seq: f.seq })
    else push(cuts, f.author, { at: { epoch: f.epoch, seq: f.seq }, keep: new Set<number>(), scope: 'all', kind: 'fork' })
  }
  const ownerAcl = (invites?: readonly InviteState[]): Acl => new Acl(owner, windows, cuts, ownerForks, invites)
  const byAuthor = (e: Entry): AuthorHex => toHex(e.author)
  const pos = (e: Entry): Position => ({ epoch: e.epoch, seq: e.seq })
  const byId = new Map<string, Entry>()
  for (const e of [...input.entries, ...(input.forkEntries ?? [])]) byId.set(toHex(e.id), e)
  const sorted = [...byId.values()].sort((a, b) => compareBytes(a.id, b.id))
  // Revokes only take rights away: one at a feed's (lowest) fork position counts on either branch (decision 7).
  const joinsByInvite = new Map<string, Entry[]>()
  for (const e of sorted) {
    // Only a join at seq 0 counts: every node stores a feed's seq 0, while a later join past a revoke cut
    // is stored only by nodes that got it before the revoke (decision 4: same set, same view).
    if (e.body.t === 'join' && e.seq === 0) push(joinsByInvite, toHex(e.body.invite), e)
  }
  const revokeAtFork = (e: Entry): boolean => (e.body.t === 'acl.revoke' || e.body.t === 'invite.revoke') &&
    forks.some(f => f.author === byAuthor(e) && f.epoch === e.epoch && f.seq === e.seq)

  // Stage 1: what the owner's own entries say (admin windows, all revokes by the owner).
  const ownerSays = sorted.filter(e => byAuthor(e) === owner && (ownerAcl().roleAt(owner, pos(e)) === 'owner' || revokeAtFork(e)))
  applyIssued(ownerSays, 'owner')
  const invitesByOwner = collectInvites(ownerSays, 'owner')
  const redeemedByOwner = redemptions(invitesByOwner, ownerSays)
  applyJoins(invitesByOwner, redeemedByOwner, ['admin'])

  // Stage 2: admins' entries, effective iff inside the issuer's admin window (which only stage 1 can open or close).
  const stage1 = ownerAcl()
  const adminSays = sorted.filter(e => byAuthor(e) !== owner && (stage1.roleAt(byAuthor(e), pos(e)) === 'admin' ||
    (revokeAtFork(e) && stage1.roleIgnoringForks(byAuthor(e), pos(e)) === 'admin')))
  applyIssued(adminSays, 'admin')
  const invitesByAdmins = collectInvites(adminSays, 'admin')
  const allInvites = new Map([...invitesByOwner, ...invitesByAdmins])
  const redeemed = new Map([...redeemedByOwner, ...redemptions(invitesByAdmins, adminSays)])
  applyJoins(allInvites, redeemed, ['writer', 'reader'])
  const inviteStates: InviteState[] = []
  for (const [key, { invite, keep }] of allInvites) {
    if (invite.body.t !== 'invite') continue
    inviteStates.push({
      id: invite.id,
      issuer: byAuthor(invite),
      expiresMs: invite.body.expiresMs,
      revoked: keep !== null,
      joins: (joinsByInvite.get(key) ?? []).map(j => j.id),
      role: invite.body.role,
      uses: invite.body.uses,
      redeemed: (redeemed.get(key) ?? []).map(fromHex)
    })
  }
  return ownerAcl(inviteStates)

  function applyIssued (issued: readonly Entry[], issuer: 'owner' | 'admin'): void {
    for (const e of issued) {
      const b = e.body
      if (b.t === 'acl.grant') {
        const member = toHex(b.member)
        if (member === owner || (issuer === 'admin' && b.role === 'admin')) continue
        push(windows, member, { role: b.role, from: b.from })
      } else if (b.t === 'acl.revoke') {
        const member = toHex(b.member)
        if (member === owner) continue
        push(cuts, member, { at: b.at, keep: new Set(b.keep), scope: issuer === 'owner' ? 'all' : 'members', kind: 'revoke' })
      }
    }
  }

  function collectInvites (issued: readonly Entry[], issuer: 'owner' | 'admin'): Map<string, { invite: Entry, keep: Set<string> | null }> {
    const invites = new Map<string, { invite: Entry, keep: Set<string> | null }>()
    for (const e of issued) {
      if (e.body.t === 'invite' && (issuer === 'owner' || e.body.role !== 'admin')) invites.set(toHex(e.id), { invite: e, keep: null })
    }
    // An invite revoke by an authority over the invite's role keeps only the joins it names (several revokes: the joins all of them keep).
    for (const e of [...ownerSays, ...(issuer === 'admin' ? issued : [])]) {
      if (e.body.t !== 'invite.revoke') continue
      const target = invites.get(toHex(e.body.invite))
      if (target === undefined) continue
      const keep = new Set(e.body.keep.map(toHex))
      target.keep = target.keep === null ? keep : new Set([...target.keep].filter(k => keep.has(k)))
    }
    return invites
  }

  /**
   * Per invite, the joins its issuer redeemed that take a use (decision 18): the issuer's own invite.redeem entries
   * among `issued` (inside its authority), in its feed order, each join once, the first `uses`. A redemption takes its
   * use whether or not the join is held here, so a node lacking a join never lets a later redemption count instead.
   */
  function redemptions (invites: Map<string, { invite: Entry, keep: Set<string> | null }>, issued: readonly Entry[]): Map<string, string[]> {
    const out = new Map<string, string[]>()
    const inOrder = issued.filter(e => e.body.t === 'invite.redeem').sort((a, b) => comparePositions(pos(a), pos(b)))
    for (const e of inOrder) {
      if (e.body.t !== 'invite.redeem') continue
      const key = toHex(e.body.invite)
      const target = invites.get(key)
      if (target === undefined || target.invite.body.t !== 'invite' || byAuthor(target.invite) !== byAuthor(e)) continue
      let list = out.get(key)
      if (list === undefined) out.set(key, list = [])
      const join = toHex(e.body.join)
      if (list.length < target.invite.body.uses && !list.includes(join)) list.push(join)
    }
    return out
  }

  function applyJoins (invites: Map<string, { invite: Entry, keep: Set<string> | null }>, redeemed: Map<string, string[]>, roles: readonly GrantableRole[]): void {
    for (const [key, joins] of joinsByInvite) {
      const entry = invites.get(key)
      if (entry === undefined) continue
      const { invite, keep } = entry
      if (invite.body.t !== 'invite' || !roles.includes(invite.body.role)) continue
      const taken = new Set(redeemed.get(key) ?? [])
      for (const j of joins) {
        const id = toHex(j.id)
        // Redeemed by the issuer within its uses; named by every revoke of the invite; not past its author's fork (decision 7).
        if (!taken.has(id) || (keep !== null && !keep.has(id)) || !forkAllows(cuts.get(byAuthor(j)) ?? [], pos(j))) continue
        // No comeback (decision 18): a join at or after a revoke of its member opens nothing; only a grant readmits.
        if (revokedBefore(cuts.get(byAuthor(j)) ?? [], pos(j), invite.body.role)) continue
        push(windows, byAuthor(j), { role: invite.body.role, from: pos(j) })
      }
    }
  }
}

/** Whether a revoke cut that would close a `role` window lies at or before `at`. */
function revokedBefore (cuts: readonly Cut[], at: Position, role: GrantableRole): boolean {
  return cuts.some(c => c.kind === 'revoke' && !(c.scope === 'members' && role === 'admin') && comparePositions(c.at, at) <= 0)
}

function forkAllows (cuts: readonly Cut[], pos: Position): boolean {
  return cuts.every(c => c.kind !== 'fork' || (comparePositions(pos, c.at) < 0 && (pos.epoch === c.at.epoch || kept(c, pos.epoch))))
}

/** One fork per feed, the lowest, in (author, epoch) order: the same whatever proofs a node saw first. */
function lowestForks (forks: readonly ForkAt[]): ForkAt[] {
  const low = new Map<string, ForkAt>()
  for (const f of forks) {
    const k = `${f.author}/${f.epoch}`
    const old = low.get(k)
    if (old === undefined || f.seq < old.seq) low.set(k, f)
  }
  return [...low.values()].sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : a.epoch - b.epoch))
}

export function mayWrite (acl: Acl, author: AuthorHex, pos: Position): boolean {
  return atLeast(acl.roleAt(author, pos), 'writer')
}

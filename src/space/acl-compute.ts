import { comparePositions, compareBytes, fromHex } from '../codec/index.ts'
import type { Entry, GrantableRole, Position } from '../codec/index.ts'
import { authorKeyOf, entryIdOf } from '../ids/index.ts'
import type { AuthorKey, EntryId } from '../ids/index.ts'
import { Acl, cutApplies, kept } from './acl.ts'
import type { Cut, InviteState, Window } from './acl.ts'

/**
 * Building the ACL (acl.ts) from the SET of acl entries and fork proofs, in
 * two stages: what the owner's own entries say (admin windows, the owner's
 * revokes and invites), then what admins' entries say inside the admin
 * windows stage 1 opened. The rules are on the Acl class; this module only
 * applies them. Never reads the store: the replica passes the entries in.
 */
export interface ForkAt { readonly author: AuthorKey, readonly epoch: number, readonly seq: number }

/** An invite as collected from its issuer's entries; `keep`: the joins every revoke of it names (null: not revoked). */
interface IssuedInvite { readonly invite: Entry, keep: Set<EntryId> | null }

interface AclInput {

  readonly owner: AuthorKey
  /** Every stored acl entry of the space (grants, revokes, invites, invite revokes, joins). */
  readonly entries: readonly Entry[]
  readonly forks: readonly ForkAt[]
  /** Both entries of every fork proof (stored or not): a revoke at a fork position counts on either branch
   * (decision 7). */
  readonly forkEntries?: readonly Entry[]
}

/** Builds the ACL from the set of acl entries and fork proofs (see the class comment for the rules). */
export function computeAcl (input: AclInput): Acl {
  // A member's fork counts iff its position is granted in the ACL it yields (its own cut aside): then whether a node
  // kept a proof it found ungranted changes nothing. From none counted, until the counted set repeats; each step from
  // scratch, so a fork whose window a counted fork retracts drops again (bounded by the number of forks).
  let counted = new Set<string>()
  const seen = new Set<string>()
  for (let i = 0; i <= input.forks.length + 1; i++) {
    const { acl, covered } = aclCounting(input, counted)
    const key = [...covered].sort().join(' ')
    if (key === [...counted].sort().join(' ') || seen.has(key)) return acl
    seen.add([...counted].sort().join(' '))
    counted = covered
  }
  return aclCounting(input, counted).acl
}

function aclCounting (input: AclInput, counted: ReadonlySet<string>): { acl: Acl, covered: Set<string> } {
  const { owner } = input
  const windows = new Map<AuthorKey, Window[]>()
  const cuts = new Map<AuthorKey, Cut[]>()
  const ownerForks: Position[] = []
  const push = <K, T>(m: Map<K, T[]>, k: K, v: T): void => {
    const a = m.get(k)
    if (a === undefined) m.set(k, [v])
    else a.push(v)
  }

  const forks = lowestForks(input.forks, owner, counted)
  for (const f of forks) {
    if (f.author === owner) ownerForks.push({ epoch: f.epoch, seq: f.seq })
    else push<AuthorKey, Cut>(cuts, f.author, { at: { epoch: f.epoch, seq: f.seq }, keep: new Set(), scope: 'all',
      kind: 'fork' })

  }
  const ownerAcl = (invites?: readonly InviteState[]): Acl => new Acl(owner, windows, cuts, ownerForks, invites)
  const byAuthor = (e: Entry): AuthorKey => authorKeyOf(e.author)
  const pos = (e: Entry): Position => ({ epoch: e.epoch, seq: e.seq })
  const byId = new Map<string, Entry>()
  for (const e of [...input.entries, ...(input.forkEntries ?? [])]) byId.set(entryIdOf(e.id), e)
  const sorted = [...byId.values()].sort((a, b) => compareBytes(a.id, b.id))
  // Revokes only take rights away: one at a feed's (lowest) fork position counts on either branch (decision 7).
  const joinsByInvite = new Map<EntryId, Entry[]>()
  for (const e of sorted) {
    // Only a join at seq 0 counts: every node stores a feed's seq 0, while a later join past a revoke cut
    // is stored only by nodes that got it before the revoke (decision 4: same set, same view).
    if (e.body.t === 'join' && e.seq === 0) push(joinsByInvite, entryIdOf(e.body.invite), e)
  }
  const revokeAtFork = (e: Entry): boolean => (e.body.t === 'acl.revoke' || e.body.t === 'invite.revoke') &&
    forks.some(f => f.author === byAuthor(e) && f.epoch === e.epoch && f.seq === e.seq)

  // Stage 1: what the owner's own entries say (admin windows, all revokes by the owner).
  const ownerSays = sorted.filter(e =>
    byAuthor(e) === owner && (ownerAcl().roleAt(owner, pos(e)) === 'owner' || revokeAtFork(e)))
  applyIssued(ownerSays, 'owner')
  const invitesByOwner = collectInvites(ownerSays, 'owner')
  const redeemedByOwner = redemptions(invitesByOwner, ownerSays)
  applyJoins(invitesByOwner, redeemedByOwner, ['admin'])

  // Stage 2: admins' entries, effective iff inside the issuer's admin window (which only stage 1 can open or close).
  const stage1 = ownerAcl()
  const adminSays = sorted.filter(e => byAuthor(e) !== owner && (stage1.roleAt(byAuthor(e), pos(e)) === 'admin' ||
    (revokeAtFork(e) && stage1.roleIgnoringForkAt(byAuthor(e), pos(e)) === 'admin')))
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
  const covered = new Set<string>()
  const coverage = new Map<AuthorKey, (f: ForkAt) => boolean>()
  for (const f of lowestForks(input.forks, owner, null)) {
    if (f.author === owner) continue
    let covers = coverage.get(f.author)
    if (covers === undefined) {
      covers = coverageOf(windows.get(f.author) ?? [], cuts.get(f.author) ?? [])
      coverage.set(f.author, covers)
    }
    if (covers(f)) covered.add(`${f.author}/${f.epoch}`)
  }
  return { acl: ownerAcl(inviteStates), covered }

  function applyIssued (issued: readonly Entry[], issuer: 'owner' | 'admin'): void {
    for (const e of issued) {
      const b = e.body
      if (b.t === 'acl.grant') {
        const member = authorKeyOf(b.member)
        if (member === owner || (issuer === 'admin' && b.role === 'admin')) continue
        push(windows, member, { role: b.role, from: b.from })
      } else if (b.t === 'acl.revoke') {
        const member = authorKeyOf(b.member)
        if (member === owner) continue
        const scope = issuer === 'owner' ? 'all' : 'members'
        push(cuts, member, { at: b.at, keep: new Set(b.keep), scope, kind: 'revoke' })
      }
    }
  }

  function collectInvites (issued: readonly Entry[], issuer: 'owner' | 'admin'): Map<EntryId, IssuedInvite> {
    const invites = new Map<EntryId, IssuedInvite>()
    for (const e of issued) {
      if (e.body.t !== 'invite' || (issuer === 'admin' && e.body.role === 'admin')) continue
      invites.set(entryIdOf(e.id), { invite: e, keep: null })
    }
    // An invite revoke by an authority over the invite's role keeps only the joins it names
    // (several revokes: the joins all of them keep).
    for (const e of [...ownerSays, ...(issuer === 'admin' ? issued : [])]) {
      if (e.body.t !== 'invite.revoke') continue
      const target = invites.get(entryIdOf(e.body.invite))
      if (target === undefined) continue
      const keep = new Set(e.body.keep.map(k => entryIdOf(k)))
      target.keep = target.keep === null ? keep : new Set([...target.keep].filter(k => keep.has(k)))
    }
    return invites
  }

  /**
   * Per invite, the joins its issuer redeemed that take a use (decision 18): the issuer's own invite.redeem entries
   * among `issued` (inside its authority), in its feed order, each join once, the first `uses`. A redemption takes its
   * use whether or not the join is held here, so a node lacking a join never lets a later redemption count instead.
   */
  function redemptions (invites: Map<EntryId, IssuedInvite>, issued: readonly Entry[]): Map<EntryId, EntryId[]> {
    const out = new Map<EntryId, EntryId[]>()
    const inOrder = issued.filter(e => e.body.t === 'invite.redeem').sort((a, b) => comparePositions(pos(a), pos(b)))
    for (const e of inOrder) {
      if (e.body.t !== 'invite.redeem') continue
      const key = entryIdOf(e.body.invite)
      const target = invites.get(key)
      if (target === undefined || target.invite.body.t !== 'invite' || byAuthor(target.invite) !== byAuthor(e)) continue
      let list = out.get(key)
      if (list === undefined) out.set(key, list = [])
      const join = entryIdOf(e.body.join)
      if (list.length < target.invite.body.uses && !list.includes(join)) list.push(join)
    }
    return out
  }

  function applyJoins (
    invites: Map<EntryId, IssuedInvite>, redeemed: Map<EntryId, EntryId[]>, roles: readonly GrantableRole[]
  ): void {
    for (const [key, joins] of joinsByInvite) {
      const entry = invites.get(key)
      if (entry === undefined) continue
      const { invite, keep } = entry
      if (invite.body.t !== 'invite' || !roles.includes(invite.body.role)) continue
      const taken = new Set(redeemed.get(key) ?? [])
      for (const j of joins) {
        const id = entryIdOf(j.id)
        // Redeemed by the issuer within its uses; named by every revoke of the invite; not past its author's fork
        // (decision 7).
        if (!taken.has(id) || (keep !== null && !keep.has(id))) continue
        if (!forkAllows(cuts.get(byAuthor(j)) ?? [], pos(j))) continue
        // No comeback (decision 18): a join at or after a revoke of its member opens nothing; only a grant readmits.
        if (revokedBefore(cuts.get(byAuthor(j)) ?? [], pos(j), invite.body.role)) continue
        push(windows, byAuthor(j), { role: invite.body.role, from: pos(j) })
      }
    }
  }
}

/** Whether a revoke cut that would close a `role` window lies at or before `at`. */
function revokedBefore (cuts: readonly Cut[], at: Position, role: GrantableRole): boolean {
  return cuts.some(c =>
    c.kind === 'revoke' && !(c.scope === 'members' && role === 'admin') && comparePositions(c.at, at) <= 0)
}

function forkAllows (cuts: readonly Cut[], pos: Position): boolean {
  return cuts.every(c =>
    c.kind !== 'fork' || (comparePositions(pos, c.at) < 0 && (pos.epoch === c.at.epoch || kept(c, pos.epoch))))
}

/**
 * Whether a fork's position lies in one of an author's windows under its cuts, the fork's own cut aside (Acl.roleAt
 * with that cut left out), for every fork of the author at the cost of one: a fork cut retracts what lies at or past
 * it (decision 7), so of the fork cuts that close a window only the lowest matters, and another fork's cut is never
 * at the fork's own position (one fork per feed).
 */
function coverageOf (windows: readonly Window[], cuts: readonly Cut[]): (f: ForkAt) => boolean {
  const others = cuts.filter(c => c.kind !== 'fork')
  const forkAts = cuts.filter(c => c.kind === 'fork').map(c => c.at)
  const lowestClosing = windows.map(w => {
    let low: Position | undefined
    for (const at of forkAts) {
      if (comparePositions(at, w.from) > 0 && (low === undefined || comparePositions(at, low) < 0)) low = at
    }
    return low
  })
  const retracts = (c: Cut, w: Window, f: ForkAt): boolean =>
    cutApplies(c, w) && (comparePositions(f, c.at) >= 0 || (f.epoch !== c.at.epoch && !kept(c, f.epoch)))
  return f => windows.some((w, i) => {
    if (comparePositions(f, w.from) < 0) return false
    const low = lowestClosing[i]
    return (low === undefined || comparePositions(low, f) >= 0) && !others.some(c => retracts(c, w, f))
  })
}

/**
 * One fork per feed, the lowest, in (author, epoch) order; of a member, only those `counted` (null: all). A member's
 * fork counts only where a grant covers its position (computeAcl): a node refuses a proof it finds ungranted
 * (ingestFork), so whether it holds one depends on the order proofs and grants reached it (a held batch stores
 * proofs a node outside the hold refuses, after an earlier epoch's cut retracted their epoch or a revoke closed
 * their window). Counted, such a proof's cut, or its revoke at the fork position (revokeAtFork), differed between
 * nodes. The owner's forks each count (its window never closes).
 */
function lowestForks (forks: readonly ForkAt[], owner: AuthorKey, counted: ReadonlySet<string> | null): ForkAt[] {
  const low = new Map<string, ForkAt>()
  for (const f of forks) {
    const k = `${f.author}/${f.epoch}`
    const old = low.get(k)
    if (old === undefined || f.seq < old.seq) low.set(k, f)
  }
  return [...low.values()]
    .filter(f => counted === null || f.author === owner || counted.has(`${f.author}/${f.epoch}`))
    .sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : a.epoch - b.epoch))
}

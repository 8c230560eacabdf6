import { toHex } from '../codec/index.ts'
import type { Entry, GrantableRole, Role } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { authorKeyOf, entryIdOf } from '../ids/index.ts'
import type { Acl, InviteState } from './acl.ts'
import { atLeast, roleRank } from './roles.ts'

/**
 * Membership decided once (decision 18), as pure functions of the ACL: what
 * an invite's issuer answers a join, and whether a membership command would
 * take effect. A command that would change nothing is refused before
 * anything is written, with a stable code and a reason, never "ok".
 */
export interface Refusal { readonly code: 'NOT_ALLOWED' | 'NOT_A_MEMBER' | 'NO_CHANGE', readonly message: string }

/** Why an issuer does not redeem a join; the joiner's `space join` reports it. */
type RedeemRefusal =
  'issuer-not-admin' | 'invite-revoked' | 'expired' | 'uses-exhausted' | 'revoked-member' | 'already-member'

type Refused = { readonly ok: false, readonly reason: RedeemRefusal, readonly detail: string }
type RedeemDecision = { readonly ok: true, readonly recorded: boolean } | Refused

/**
 * What `me`, the issuer of the join's invite, does with a stored join: redeem
 * it (ok, `recorded` when a redemption already counts), or refuse it with a
 * reason. Undefined when the join is not for an effective invite of `me`
 * (only the issuer redeems; everyone else just holds the join).
 */
export function redeemDecision (acl: Acl, me: AuthorKey, join: Entry, nowMs: number): RedeemDecision | undefined {
  if (join.body.t !== 'join' || join.seq !== 0) return undefined
  const invite = acl.inviteState(entryIdOf(join.body.invite))
  if (invite === undefined || invite.issuer !== me) return undefined
  if (invite.redeemed.some(r => toHex(r) === entryIdOf(join.id))) return { ok: true, recorded: true }
  return admitRefusal(acl, invite, join, nowMs) ?? { ok: true, recorded: false }
}

/**
 * Whether `join` (at seq 0) could still be admitted by its invite's issuer, as `acl` stands at `nowMs`: the invite
 * held, none of the issuer's refusals applies. A member that did not issue the invite keeps the joiner's link while
 * this holds (a joiner under way), and only then: a dead token (used up, expired, revoked) waits for nothing.
 */
export function joinMayWait (acl: Acl, join: Entry, nowMs: number): boolean {
  if (join.body.t !== 'join' || join.seq !== 0) return false
  const invite = acl.inviteState(entryIdOf(join.body.invite))
  return invite !== undefined && admitRefusal(acl, invite, join, nowMs) === undefined
}

/**
 * The issuer's refusals that say the invite can admit nobody any more, for good: an invite revoke, its expiry and a
 * redemption are never taken back. A member that did not issue the invite gives one of these (deadTokenRefusal);
 * the joiner's node gives it as the reason if its wait runs out (node/join-wait.ts: any peer could claim it).
 */
export const DEAD_TOKEN_REFUSALS: readonly string[] = ['invite-revoked', 'expired', 'uses-exhausted']

/**
 * What a member that did not issue `join`'s invite answers instead of 'waiting': the issuer's own refusal, when it is
 * one of DEAD_TOKEN_REFUSALS, as `acl` stands here at `nowMs` (expiry by this node's clock, as the issuer's check is
 * by its own; the uses taken are the issuer's redemptions held here, in its feed order, the first of what the issuer
 * holds). Undefined, so the joiner is told to wait, whenever this node cannot tell: the invite not held here, this
 * very join redeemed already (its redemption held here), or the issuer would refuse for another reason first (no
 * longer admin: a grant may give its authority back).
 */
export function deadTokenRefusal (acl: Acl, join: Entry, nowMs: number): Refused | undefined {
  if (join.body.t !== 'join' || join.seq !== 0) return undefined
  const invite = acl.inviteState(entryIdOf(join.body.invite))
  if (invite === undefined || invite.redeemed.some(r => toHex(r) === entryIdOf(join.id))) return undefined
  const refusal = admitRefusal(acl, invite, join, nowMs)
  return refusal !== undefined && !refusal.ok && DEAD_TOKEN_REFUSALS.includes(refusal.reason) ? refusal : undefined
}

/** Why the issuer of `invite` would not redeem `join` now, or undefined if it would. */
function admitRefusal (acl: Acl, invite: InviteState, join: Entry, nowMs: number): RedeemDecision | undefined {
  const joiner = authorKeyOf(join.author)
  const refuse = (reason: RedeemRefusal, detail: string): RedeemDecision => ({ ok: false, reason, detail })
  const issuerRole = acl.currentRole(invite.issuer)
  if (!atLeast(issuerRole, invite.role === 'admin' ? 'owner' : 'admin')) {
    const inviter = issuerRole ?? 'no longer a member'
    return refuse('issuer-not-admin', `the inviter is ${inviter} in this space and cannot admit anyone any more`)
  }
  if (invite.revoked) return refuse('invite-revoked', 'this invite was revoked')
  if (invite.expiresMs < nowMs) return refuse('expired', `this invite expired at ${isoTime(invite.expiresMs)}`)
  if (acl.revokesOf(joiner).length > 0) {
    return refuse('revoked-member',
      'you were revoked from this space; an invite does not readmit a revoked member, only an admin\'s grant does')
  }
  if (acl.currentRole(joiner) !== null) {
    return refuse('already-member', `you are already ${acl.currentRole(joiner) ?? ''} in this space`)
  }
  if (invite.redeemed.length >= invite.uses) {
    return refuse('uses-exhausted', `all ${invite.uses} use${invite.uses === 1 ? '' : 's'} of this invite are taken`)
  }
  return undefined
}

/** Whether `me` (its role as this node sees it: `myRole`) may issue an invite of `role`. */
export function inviteRefusal (myRole: Role | null, role: GrantableRole, space: string): Refusal | undefined {
  if (!atLeast(myRole, 'admin')) {
    return notAllowed(`your role in space ${space} is ${myRole ?? 'none'}; ` +
      'only an admin or the owner can invite (ask one of them for the invite)')
  }
  if (role === 'admin' && myRole !== 'owner') {
    return notAllowed(`only the owner of space ${space} can invite admins; invite as writer or reader`)
  }
  return undefined
}

/** Whether a grant of `role` to `member` by `me` would take effect. */
export function grantRefusal (
  acl: Acl, myRole: Role | null, member: AuthorKey, role: GrantableRole, space: string
): Refusal | undefined {
  if (!atLeast(myRole, 'admin')) {
    return notAllowed(`your role in space ${space} is ${myRole ?? 'none'}; only an admin or the owner can grant roles`)
  }
  if (role === 'admin' && myRole !== 'owner') return notAllowed(`only the owner of space ${space} can grant admin`)
  if (member === acl.owner) return notAllowed(`that peer owns space ${space}; the owner's role never changes`)
  const theirs = acl.currentRole(member)
  if (theirs === 'admin' && myRole !== 'owner') {
    return notAllowed(`that peer is an admin of space ${space}; only the owner manages admins`)
  }
  if (roleRank(theirs) >= roleRank(role)) {
    const message = `that peer is already ${theirs ?? ''} in space ${space}; ` +
      'nothing to grant (to demote, revoke it, then grant the lower role)'
    return { code: 'NO_CHANGE', message }
  }
  return undefined
}

/** Whether a revoke of `member` by `me` would take effect. */
export function revokeRefusal (acl: Acl, myRole: Role | null, member: AuthorKey, space: string): Refusal | undefined {
  if (!atLeast(myRole, 'admin')) {
    return notAllowed(`your role in space ${space} is ${myRole ?? 'none'}; only an admin or the owner can revoke`)
  }
  if (member === acl.owner) return notAllowed(`that peer owns space ${space}; the owner cannot be revoked`)
  const theirs = acl.currentRole(member)
  if (theirs === null) {
    const message = `that peer is not a member of space ${space} (see samepage acl list ${space})`
    return { code: 'NOT_A_MEMBER', message }

  }
  if (theirs === 'admin' && myRole !== 'owner') {
    return notAllowed(`that peer is an admin of space ${space}; only the owner can revoke admins`)
  }
  return undefined
}

function notAllowed (message: string): Refusal {
  return { code: 'NOT_ALLOWED', message }
}

function isoTime (ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? `${ms} ms` : d.toISOString()
}

import { fromHex, KEEP_MAX } from '../codec/index.ts'
import type { Body, GrantableRole } from '../codec/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import { DEAD_TOKEN_REFUSALS, grantRefusal, inviteRefusal, revokeRefusal } from '../space/index.ts'
import type { Refusal, SpaceReplica } from '../space/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'
import type { JoinOutcome } from './join-wait.ts'

/**
 * The node's side of decision 18: a membership command either takes effect
 * or is refused before anything is written, with a code and a reason; a
 * join's outcome becomes the user's error; and the deployment's status space
 * admits every node invited by any of its members.
 */
export function checkInvite (replica: SpaceReplica, me: AuthorKey, role: GrantableRole): void {
  refuse(inviteRefusal(replica.localRole(me), role, replica.genesis.name))
}

export function grantBody (replica: SpaceReplica, me: AuthorKey, member: Uint8Array, role: GrantableRole): Body {
  refuse(grantRefusal(replica.acl, replica.localRole(me), authorKeyOf(member), role, replica.genesis.name))
  return { t: 'acl.grant', member, role, from: { epoch: 0, seq: 0 } }
}

/**
 * Closes the member's windows after everything of it we hold (its cut is a position in its own feed, its newest
 * epoch), keeping its KEEP_MAX newest earlier epochs and cutting older ones: every node refuses a longer `keep`, and
 * a member may open any number of epochs (a hostile one thousands), so an unbounded list made it unrevocable
 * everywhere but here. Decided from the held feeds alone: the same held data gives the same revoke.
 */
export function revokeBody (replica: SpaceReplica, me: AuthorKey, member: Uint8Array, nowMs: number): Body {
  refuse(revokeRefusal(replica.acl, replica.localRole(me), authorKeyOf(member), replica.genesis.name))
  const key = authorKeyOf(member)
  const feeds = replica.vector().filter(r => authorKeyOf(r.author) === key).sort((a, b) => b.epoch - a.epoch)
  const latest = feeds[0]
  const at = latest === undefined ? { epoch: nowMs, seq: 0 } : { epoch: latest.epoch, seq: latest.count }
  return { t: 'acl.revoke', member, at, keep: feeds.slice(1, 1 + KEEP_MAX).map(f => f.epoch) }
}

/** `space join` did not take effect: why, as the user's error. */
export function joinError (outcome: Exclude<JoinOutcome, { ok: true }>, space: string): NodeError {
  if (outcome.reason === 'left') {
    return new NodeError('UNKNOWN_SPACE', `not joined to space ${space}: ${outcome.detail}`)
  }
  if (outcome.reason === 'expired') return new NodeError('EXPIRED_TOKEN', `${outcome.detail}; ask for a new invite`)
  if (DEAD_TOKEN_REFUSALS.includes(outcome.reason)) {
    return new NodeError('JOIN_REFUSED', `not joined to space ${space}: this invite can admit nobody any more ` +
      `(${outcome.reason}): ${outcome.detail}; ask for a new invite`)
  }
  if (outcome.reason === 'inviter-unreachable' || outcome.reason === 'not-synced' || outcome.reason === 'stopped') {
    return new NodeError('INVITER_UNREACHABLE', `not joined to space ${space} yet: ${outcome.detail}`)
  }
  const why = `(${outcome.reason}): ${outcome.detail}`
  return new NodeError('JOIN_REFUSED', `the inviter refused to admit this node to space ${space} ${why}`)
}

/**
 * The role of the deployment invite this node can put in its tokens, or
 * undefined when it has no authority there: the owner gives admin (so the
 * joiner can invite on at once), an admin gives writer, the most it may
 * grant; a member can always publish status whatever its role. The owner's
 * node then promotes every member to admin (see deploymentPromotions).
 */
export function deploymentInviteRole (replica: SpaceReplica, me: AuthorKey): GrantableRole | undefined {
  const role = replica.localRole(me)
  return role === 'owner' ? 'admin' : role === 'admin' ? 'writer' : undefined
}

/**
 * Members of a deployment status space that its owner's node grants admin:
 * those below admin that were never revoked (a revoke there was meant).
 */
export function deploymentPromotions (replica: SpaceReplica, me: AuthorKey): Uint8Array[] {
  if (replica.owner !== me) return []
  return replica.acl.members()
    .filter(m => (m.role === 'writer' || m.role === 'reader') && replica.acl.revokesOf(m.member).length === 0)
    .map(m => fromHex(m.member))
}

function refuse (r: Refusal | undefined): void {
  if (r !== undefined) throw new NodeError(r.code, r.message)
}

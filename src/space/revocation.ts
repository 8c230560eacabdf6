import { bytesEqual, compareBytes } from '../codec/index.ts'
import type { Entry, Role } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { authorKeyOf, entryIdOf } from '../ids/index.ts'
import { SpaceError } from './outcome.ts'
import { atLeast } from './roles.ts'
import { entrySignatureValid } from './signing.ts'
import type { ReplicaState } from './state.ts'

/**
 * A revoked node is told (decision 18): a revoke of a local author that a
 * peer shows before this node can store it is judged by the same rules as a
 * stored one, and then local writes are refused until it is stored (or for
 * this run of the daemon).
 */

/** Notices judged at most; past it the set is cleared (each is judged again, at the cost of an ACL). */
const JUDGED_NOTICES_MAX = 256

/**
 * A revoke of `member` (a local author) shown by a peer: it counts iff adding
 * it to the ACL entries held here leaves the member no role. True if it is
 * noted now.
 */
export function noteRevoke (s: ReplicaState, entry: Entry, member: AuthorKey): boolean {
  if (entry.body.t !== 'acl.revoke' || authorKeyOf(entry.body.member) !== member) return false
  if (!bytesEqual(entry.space, s.id)) return false

  if (s.revokedNotices.has(member) || s.acl.currentRole(member) === null) return false
  // Each revoke is judged once (a peer repeating one that does not count costs a lookup, not an ACL).
  const id = `${entryIdOf(entry.id)}|${s.aclEntries.length}` // judged again once more acl entries are held
  if (s.judgedNotices.has(id)) return false
  if (s.judgedNotices.size >= JUDGED_NOTICES_MAX) s.judgedNotices.clear()
  s.judgedNotices.add(id)
  if (!entrySignatureValid(entry) || s.computeAcl([...s.aclEntries, entry]).currentRole(member) !== null) return false
  s.revokedNotices.set(member, entry)
  return true
}

/** The revoke that took `member`'s role (stored, or noted from a peer); undefined while it has one. */
export function revokeOf (s: ReplicaState, member: AuthorKey): Entry | undefined {
  const noted = s.revokedNotices.get(member)
  if (noted !== undefined) return noted
  if (s.acl.currentRole(member) !== null) return undefined
  const byAuthority = (e: Entry): boolean => e.body.t === 'acl.revoke' && authorKeyOf(e.body.member) === member &&
    atLeast(s.acl.roleAt(authorKeyOf(e.author), e), 'admin')
  return s.aclEntries.filter(byAuthority).sort((a, b) => compareBytes(a.id, b.id))[0]
}

/** The role `author` holds from now on as this node knows it: null after a revoke it was shown (see noteRevoke). */
export function localRole (s: ReplicaState, author: AuthorKey): Role | null {
  return s.revokedNotices.has(author) ? null : s.acl.currentRole(author)
}

export function refuseIfRevoked (s: ReplicaState, author: AuthorKey): void {
  if (s.acl.currentRole(author) !== null && !s.revokedNotices.has(author)) return
  const revoke = revokeOf(s, author)
  if (revoke === undefined) return
  const by = `${authorKeyOf(revoke.author).slice(0, 16)}… (revoke entry ${entryIdOf(revoke.id).slice(0, 16)}…)`
  throw new SpaceError('NOT_ALLOWED', `you were revoked from space ${s.genesis.name} by ${by}; nothing was written; ` +
    'ask an admin of the space to grant you a role again')
}

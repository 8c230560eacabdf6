import type { SignedStatus } from '../codec/index.ts'

/**
 * A member's word that its node left a space, or came back: a status record
 * of its own in that space (status records are signed, and each node keeps
 * only the newest per author, by clock then id), so it reaches members that
 * were away through the usual status gossip, and nobody can say it for
 * someone else.
 *
 * Why a status record and not an entry: a leave changes no right (decision
 * 5: the ACL is grants and revokes, and nobody revokes itself), and the node
 * that leaves deletes its rows at once, so there is nothing of it to pull
 * later. Only the refusal to let the last manager leave reads it
 * (node/leave.ts): a manager whose newest record is a leave notice is no
 * longer counted as one who can still invite or grant.
 *
 * A node that comes back (a new join) writes entries again: a member whose
 * entries include one of a later clock than its notice is back, whatever
 * became of the notice (SpaceReplica.saidItLeft). A node handed back its
 * own notice in a space it holds again does not pass it on, and publishes
 * a newer record that is no notice (BACK_NOTICE). Honest nodes publish no
 * other status records in a data space (telemetry publishes into the
 * deployment's status space only); whatever a member publishes there, only
 * `left: 1` counts as a notice.
 */
export const LEAVE_NOTICE: Readonly<Record<string, unknown>> = Object.freeze({ left: 1 })

/** Published by a node handed back its own leave notice in a space it holds again (it came back): newer. */
export const BACK_NOTICE: Readonly<Record<string, unknown>> = Object.freeze({ left: 0 })

/** Whether `status` (an author's newest record in a space) says its node left the space. */
export function isLeaveNotice (status: SignedStatus | undefined): boolean {
  return status !== undefined && status.body.left === 1
}

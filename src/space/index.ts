/**
 * space/: a replicated dataset. Feeds of signed entries, the ACL as windows
 * of positions, the three outcomes of incoming data (invalid, pending,
 * stored), and the views computed from what is stored.
 *
 * Pure logic over store/, codec/ and identity/: no sockets, no timers, no
 * clock of its own (every call that needs the time takes `nowMs`). Never
 * imports sync/, net/ or anything above.
 */
export { SpaceReplica, CLOCK_SKEW_MAX_MS } from './replica.ts'
export type { ReplicaOptions } from './replica.ts'
export type { LocalBodies } from './local-writes.ts'
export type { NewFileVersion } from './file-versions.ts'

export { EPOCH_SALT_RANGE, nextEpoch } from './epochs.ts'
export { SpaceError } from './outcome.ts'
export type { IngestResult, Reject, RejectReason } from './outcome.ts'
export { Acl } from './acl.ts'
export { computeAcl } from './acl-compute.ts'
export { redeemDecision, inviteRefusal, grantRefusal, revokeRefusal } from './membership.ts'
export type { Refusal, RedeemDecision, RedeemRefusal } from './membership.ts'
export type { FileState, FileVersion } from './views.ts'
export type { Window, Cut, InviteState, RevocableInvite } from './acl.ts'
export { signEntry, signJoinProof, signGenesis, signStatus, entrySignatureValid } from './signing.ts'
export { atLeast, roleRank } from './roles.ts'
export {
  PENDING_BYTES_MAX, PENDING_BYTES_PER_PEER_MAX, PENDING_PER_PEER_FEED_MAX, PENDING_PER_PEER_MAX
} from './pending.ts'


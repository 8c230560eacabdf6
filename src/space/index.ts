/**
 * space/: a replicated dataset. Feeds of signed entries, the ACL as windows
 * of positions, the three outcomes of incoming data (invalid, pending,
 * stored), and the views computed from what is stored.
 *
 * Pure logic over store/, codec/ and identity/: no sockets, no timers, no
 * clock of its own (every call that needs the time takes `nowMs`). Never
 * imports sync/, net/ or anything above.
 */
export { SpaceReplica } from './replica.ts'
export type { ReplicaOptions } from './replica.ts'
export type { LocalBodies, LocalOutcome } from './local-writes.ts'
export type { AppendLocal, NewFileVersion } from './file-versions.ts'

export { EPOCH_SALT_RANGE, nextEpoch } from './epochs.ts'
export { SpaceError } from './outcome.ts'
export { emptyResult } from './outcome.ts'
export type { FeedPosition, IngestResult, ReleasedFault } from './outcome.ts'
export {
  DEAD_TOKEN_REFUSALS, deadTokenRefusal, joinMayWait, redeemDecision, inviteRefusal, grantRefusal, revokeRefusal
} from './membership.ts'
export type { Refusal } from './membership.ts'
export { BACK_NOTICE, LEAVE_NOTICE, isLeaveNotice } from './leave-notice.ts'
export type { FileState, FileVersion } from './views.ts'
export type { Page } from './view-pages.ts'
export { DecodedVersions } from './view-reads.ts'
export type { RevocableInvite } from './acl.ts'
export { signEntry, signJoinProof, signGenesis, signStatus, entrySignatureValid } from './signing.ts'
export { PENDING_BYTES_MAX, PENDING_BYTES_PER_PEER_MAX } from './pending.ts'
export { FORK_HOLD_MS, FORK_HOLD_MAX_MS, FORK_HOLD_QUIET_MS, HELD_PER_AUTHOR_MAX } from './fork-holds.ts'


import { SamepageError } from '../ids/index.ts'

/**
 * A user's or the environment's error, with a stable code and a message
 * that names the problem and what to do (design decision 13). The API and
 * the CLI show exactly this.
 */
export type NodeErrorCode =
  | 'DIR_LOCKED' | 'UNKNOWN_SPACE' | 'AMBIGUOUS_SPACE' | 'BAD_TOKEN' | 'EXPIRED_TOKEN'
  | 'BAD_INPUT' | 'NOT_ALLOWED' | 'BAD_PEER' | 'NOT_RUNNING' | 'UNAUTHORIZED' | 'BAD_CONFIG'
  | 'BAD_FOLDER' | 'NO_FOLDER'
  | 'BACKUP_EXISTS' | 'BACKUP_REFUSED' | 'DATA_DIR_FOLDER' | 'STORAGE_FULL' | 'STORAGE_FAILED'
  | 'NOT_A_MEMBER' | 'NO_CHANGE' | 'JOIN_REFUSED' | 'INVITER_UNREACHABLE' | 'NAME_TAKEN'
  | 'NO_CONFLICT' | 'NOT_ON_DISK' | 'CANNOT_KEEP' | 'RECEIVE_ONLY' | 'NOT_WRITTEN' | 'LAST_ADMIN'
  | 'UNSENT_WRITES' | 'PEER_UNREACHABLE'

export class NodeError extends SamepageError<NodeErrorCode> {}

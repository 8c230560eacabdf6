/**
 * node/: a samepage node, composed (identity, store, spaces, sync, net) in
 * compose.ts; start() and stop(); typed events; the library entry point.
 *
 * Imports net/ and below; never api/ or cli/.
 */
export { Node } from './node.ts'
export type { NodeOptions, NodeEvents, MisbehaviourRecord } from './node.ts'
export { NodeError } from './errors.ts'
export { PAGE_ROWS_MAX } from './list-pages.ts'
export { createLogger, LogLimiter } from '../log/index.ts'
export type { Logger, LogLevel, LogFormat } from '../log/index.ts'
export { readConfig, CONFIG_FILE, isMultiaddr } from './config.ts'
export { API_PORT, PEER_PORT, rememberPort, stablePort } from './ports.ts'
export type { NodeConfig } from './config.ts'
export type { NodeErrorCode } from './errors.ts'
export { decodeInviteToken, encodeInviteToken } from './invite-token.ts'
export type { InviteToken } from './invite-token.ts'
export type { FolderInfo, FolderBinding } from './folders.ts'
export type { ConflictInfo, FolderStatus, FolderMode } from '../files/index.ts'
export { FOLDER_MODES } from '../files/index.ts'
export type { NetworkMap, MapNode, MapLink, NodeReport, AlertReport, AlertThresholds } from '../telemetry/index.ts'
export { ALERT_KINDS, noteOutOfFiles, openFileLimit } from '../telemetry/index.ts'

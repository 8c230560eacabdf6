/**
 * api/: the local HTTP + WebSocket API of a running node (127.0.0.1 and a
 * token by default). Imports node/ and below; never cli/.
 */
export { ApiServer, API_FILE } from './server.ts'
export type { ApiAddress, ApiErrorCode } from './server.ts'
/** Formatting shared with the dashboard (the browser runs the same file). */
export { bytes, duration, fixed, isoTime, rate, shortPeerId } from './dashboard/format.js'

/**
 * api/: the local HTTP + WebSocket API of a running node (127.0.0.1 and a
 * token by default). Imports node/ and below; never cli/.
 *
 * This index is light on purpose: every CLI command imports it, and only
 * `samepage start` runs the server, so the server (and through it the node,
 * libp2p and SQLite) is loaded on demand by loadApiServer().
 */
export { API_FILE, RUN_HEADER } from './address.ts'
export type { ApiAddress } from './address.ts'
export type { ApiErrorCode } from './server.ts'
export { VERSION } from './version.ts'
/** Formatting shared with the dashboard (the browser runs the same file). */
export { bytes, duration, fixed, isoTime, rate, shortPeerId } from './dashboard/format.js'

/** The server class, its module loaded on first call (a dynamic import: see above). */
export async function loadApiServer (): Promise<typeof import('./server.ts').ApiServer> {
  return (await import('./server.ts')).ApiServer
}

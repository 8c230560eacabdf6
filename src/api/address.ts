/**
 * Where a running daemon announces its API: `api.json` in its data directory
 * (mode 0600), read by the CLI to find the URL and the token. Apart from
 * server.ts on purpose: the CLI's client commands import it through
 * api/index.ts and must not load the server, the node or libp2p to do so.
 */
export const API_FILE = 'api.json'

/**
 * `run` is new at every start of the daemon. The client sends it back in this header, and the daemon refuses a
 * request that names another run: an api.json a crash left behind, copied with its directory (the token is kept
 * across restarts), would otherwise send a copy's commands (`stop` included) to the original's daemon once it
 * runs again on its stable port. A request without the header (the dashboard, curl) is taken as before.
 */
export const RUN_HEADER = 'x-samepage-run'

export interface ApiAddress {
  readonly url: string
  readonly token: string
  readonly pid: number
  /** Absent in an api.json written before runs were numbered. */
  readonly run?: string
}

/**
 * Where a running daemon announces its API: `api.json` in its data directory
 * (mode 0600), read by the CLI to find the URL and the token. Apart from
 * server.ts on purpose: the CLI's client commands import it through
 * api/index.ts and must not load the server, the node or libp2p to do so.
 */
export const API_FILE = 'api.json'

export interface ApiAddress { readonly url: string, readonly token: string, readonly pid: number }

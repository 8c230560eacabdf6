import type http from 'node:http'
import type { Socket } from 'node:net'
import { LogLimiter, noteOutOfFiles, openFileLimit } from '../node/index.ts'
import type { Logger } from '../node/index.ts'

/**
 * What connections to the API may hold of the daemon's descriptors. Anyone on the machine can open TCP
 * connections to the API port (no token is needed to connect): 80 idle ones took every descriptor of a node
 * limited to 64, and the node died (review L3). So:
 *   - a connection must send its first request within 10 s (a client sends it at once), each request's headers
 *     within 10 s of its first byte and the whole request within 60 s (API_TIMEOUTS, given to the server as it
 *     is made; Node checks every second);
 *   - at most `connectionCap` at once, a quarter of the open-file limit: past it, the oldest connection that
 *     holds no request made with the token (idle, keep-alive between requests, or a tokenless or still
 *     incomplete request) is closed to make room, so a CLI command or a dashboard tab gets in even while
 *     strangers hold connections: a request's headers alone (no token needed) held a connection for 60 s, and
 *     20 such locked the CLI out of a node capped at 16 (review N2); with none such (every one is the token
 *     holder's), the newcomer is closed instead;
 *   - a failed accept (EMFILE: no descriptor left) is the API's trouble of the moment, logged and raised as the
 *     node's open-file alert; before, it was an 'error' event with no listener, which ends the process.
 * What a local user needs is far less than the cap: a CLI command holds one connection, a dashboard tab a few
 * and its event stream one.
 */
/** A connection's first request must begin within this; with API_TIMEOUTS.headersTimeout, have its headers. */
const FIRST_REQUEST_MS = 10_000
export const API_TIMEOUTS: http.ServerOptions = {
  headersTimeout: FIRST_REQUEST_MS,
  requestTimeout: 60_000,
  connectionsCheckingInterval: 1_000
}
const CAP_MIN = 16
const CAP_MAX = 1024

/** Connections the API holds at once, for a process limited to `limit` open files (null: unknown). */
function connectionCap (limit: number | null): number {
  if (limit === null) return CAP_MAX / 4
  return Math.min(CAP_MAX, Math.max(CAP_MIN, Math.floor(limit / 4)))
}

/** What the server tells the cap: which requests came with the token (their connections are kept). */
interface ConnectionCap {
  /** The request carries the token: its connection is not closed to make room until `until` closes (the
   * answer ends) or, without it, for good (a WebSocket). */
  trust: (socket: Socket, until?: { once: (event: 'close', listener: () => void) => unknown }) => void
  /** Whether the connection has a request made with the token in flight (a refusal's answer closes it). */
  trusts: (socket: Socket) => boolean
}

/** Caps the server's connections and keeps its failed accepts; once it listens (a failed listen is start's). */
export function boundConnections (server: http.Server, logger: Logger | undefined): ConnectionCap {
  const cap = connectionCap(openFileLimit())
  const limiter = new LogLimiter()
  const warn = (key: string, fields: object, msg: string): void => {
    const ok = limiter.allow(key, Date.now())
    if (ok === undefined) return
    const held = ok.held > 0 ? { repeated: ok.held } : {}
    if (logger === undefined) console.error(`samepage api: ${msg}`)
    else logger.warn({ ...fields, ...held }, msg)
  }
  /** Every connection, oldest first: the first one not trusted is closed to make room. */
  const open = new Set<Socket>()
  /** Connected and no request yet, each with its time to send one. */
  const waiting = new Map<Socket, NodeJS.Timeout>()
  /** Connections with requests made with the token in flight, and how many (pipelined ones). */
  const trusted = new Map<Socket, number>()
  const requested = (socket: Socket): void => {
    clearTimeout(waiting.get(socket))
    waiting.delete(socket)
  }
  const close = (socket: Socket): void => {
    open.delete(socket)
    requested(socket)
    socket.destroy()
  }
  server.on('connection', (socket: Socket) => {
    open.add(socket)
    // Node's headersTimeout counts from a request's first byte: a connection that never sends one it keeps.
    waiting.set(socket, setTimeout(() => { close(socket) }, FIRST_REQUEST_MS).unref())
    socket.once('close', () => { open.delete(socket); requested(socket); trusted.delete(socket) })
    if (open.size <= cap) return
    let evicted = socket
    for (const held of open) {
      if (held !== socket && !trusted.has(held)) { evicted = held; break }
    }
    close(evicted)
    warn('cap', { cap }, `the API holds ${cap} connections, its most (a quarter of the open-file limit): ` +
      'the oldest with no request made with the token was closed (or, with none such, the new one)')
  })
  server.on('request', (req: http.IncomingMessage) => { requested(req.socket) })
  server.on('upgrade', (req: http.IncomingMessage) => { requested(req.socket) })
  server.on('error', (err: Error & { code?: string }) => {
    noteOutOfFiles(err)
    warn(`error ${err.code}`, { error: err.message }, `the API could not accept a connection: ${err.message}`)
  })
  return {
    trust: (socket, until) => {
      if (socket.destroyed) return
      trusted.set(socket, (trusted.get(socket) ?? 0) + 1)
      until?.once('close', () => {
        const left = (trusted.get(socket) ?? 0) - 1
        if (left > 0) trusted.set(socket, left)
        else trusted.delete(socket)
      })
    },
    trusts: socket => trusted.has(socket)
  }
}

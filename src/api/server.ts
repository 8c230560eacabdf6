import crypto from 'node:crypto'
import fs from 'node:fs'
import type http from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import type { WebSocketServer } from 'ws'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'
import { Node, NodeError } from '../node/index.ts'
import type { Logger, NodeErrorCode } from '../node/index.ts'
import { API_FILE, RUN_HEADER } from './address.ts'
import type { ApiAddress } from './address.ts'
import { OK_ANSWER, toJson } from './json.ts'
import { JsonList, writeJsonList } from './json-list.ts'
import { ApiError, parseUrl, plainPath, readJson, targetPath } from './request.ts'
import type { ApiOwnCode } from './request.ts'
import { VERSION } from './version.ts'
import { findOwnRoute, pathSegments } from './own-routes.ts'
import type { Access, OwnRouteKey } from './own-routes.ts'
import type { Metrics } from './metrics.ts'
import { DASHBOARD_HEADERS, dashboardModule, dashboardPage } from './dashboard.ts'
import { EventLog, EventQueryError, eventQuery, streamSse, streamWebSocket } from './events.ts'
import { OwnHost } from './own-host.ts'
import { API_TIMEOUTS, boundConnections } from './connection-cap.ts'

// Required, not imported: an ESM import of node:http builds its namespace, which reads its lazy WebSocket,
// CloseEvent and MessageEvent exports and so loads undici (fetch's client) and http2, kept for nothing (an idle
// daemon's live heap 1.3 MB larger after a full collection, its script source 1 MB, its RSS ~3 MB).
const nodeHttp = createRequire(import.meta.url)('node:http') as typeof http

// Loaded at the first request that needs them, not at start (docs/architecture.md, "Memory"): routes.ts's calls
// with their body schemas and the OpenAPI document (zod: ~3 MB of heap built), and ws for a WebSocket upgrade (with
// the zlib, tls and https it requires: ~4 MB of RSS). An idle daemon that no client has asked for them holds none.
// A module that fails to load fails its request (logged, INTERNAL), every time.
let callsModule: Promise<typeof import('./route-table.ts')> | undefined
/** The module once loaded: a call then finds its route without awaiting the import again. */
let callsLoaded: typeof import('./route-table.ts') | undefined
const calls = async (): Promise<typeof import('./route-table.ts')> =>
  await (callsModule ??= import('./route-table.ts').then(m => (callsLoaded = m)))
let openApiModule: Promise<typeof import('./openapi.ts')> | undefined
const openApi = async (): Promise<typeof import('./openapi.ts')> => await (openApiModule ??= import('./openapi.ts'))

/**
 * The local API: JSON over HTTP and an event stream (Server-Sent Events, or
 * a WebSocket: events.ts, with ids, a replay buffer and type filters), bound
 * to 127.0.0.1 by default and protected by a token. Its address and token are
 * written to `api.json` in the data directory (mode 0600), where the CLI
 * finds them. Every CLI command goes through here. The token is kept in
 * `api-token` (0600) across restarts, so that a dashboard bookmark or a
 * Prometheus scrape config keeps working. `POST /v1/stop` (with the token)
 * stops the daemon as SIGTERM does; `GET /v1/health` needs no token and
 * answers only {status, version} (ok, degraded or failing: 503). Besides /v1/: /metrics (Prometheus text;
 * the API token or the read-only one in `metrics-token`, which opens
 * nothing else) and /dashboard (the web page), with the token, and
 * /dashboard/*.js, the page's code, without (see dashboard.ts). The token
 * comes in `Authorization: Bearer`; as `?token=` only for the dashboard page
 * and the event stream. Errors are JSON with a stable code: 405 with `Allow`
 * for a known path and a wrong method, 400 BAD_URL for a malformed one, 401
 * with `WWW-Authenticate: Bearer`, 421 BAD_HOST for a request naming a host
 * that is not this API's (own-host.ts: DNS rebinding), before anything else.
 */
const TOKEN_FILE = 'api-token'
/** The read-only token for GET /metrics: a scrape config holding it can read the metrics and do nothing else. */
const METRICS_TOKEN_FILE = 'metrics-token'
/** How long a stopping server lets requests in flight finish before it cuts their connections. */
const STOP_GRACE_MS = 2_000

interface ApiInit {
  readonly node: Node
  readonly host: string
  readonly port: number
  /** Called once the answer to `POST /v1/stop` is sent: the daemon then stops as on SIGTERM. */
  readonly onStopRequest?: () => void
  /** More names the API answers to (config.json "apiHosts"): a proxy's, say. */
  readonly apiHosts?: readonly string[] | undefined
  /** Where the server says what it refused (connections past its cap, failed accepts); absent: stderr. */
  readonly logger?: Logger | undefined
}

/** Every `error.code` the API answers with: the node's, the API's own, and INTERNAL for anything else. */
export type ApiErrorCode = NodeErrorCode | ApiOwnCode | 'INTERNAL'

/** The HTTP status of each code; a new code does not compile until it is given one here. */
const STATUS: Record<ApiErrorCode, number> = {
  BAD_INPUT: 400, BAD_PEER: 400, BAD_CONFIG: 400, BAD_FOLDER: 400, BAD_TOKEN: 400, EXPIRED_TOKEN: 400,
  AMBIGUOUS_SPACE: 400, DIR_LOCKED: 400, NOT_RUNNING: 400, NO_FOLDER: 404, DATA_DIR_FOLDER: 400,
  BACKUP_EXISTS: 400, BACKUP_REFUSED: 400, BAD_JSON: 400, BAD_URL: 400,
  UNAUTHORIZED: 401,
  NOT_ALLOWED: 403,
  BAD_HOST: 421,
  UNKNOWN_SPACE: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
  INTERNAL: 500,
  STORAGE_FULL: 507,
  STORAGE_FAILED: 500,
  NOT_A_MEMBER: 404, NO_CHANGE: 409, NAME_TAKEN: 409, JOIN_REFUSED: 403, INVITER_UNREACHABLE: 504,
  NO_CONFLICT: 409, NOT_ON_DISK: 409, CANNOT_KEEP: 409, RECEIVE_ONLY: 409, NOT_WRITTEN: 500, LAST_ADMIN: 409,
  UNSENT_WRITES: 409, PEER_UNREACHABLE: 504
}

export class ApiServer {
  readonly #node: Node
  readonly #init: ApiInit
  readonly #token: string
  /** The tokens' bytes, made once: each request compares its own with them. */
  readonly #tokenBytes: Buffer
  readonly #metricsTokenBytes: Buffer
  /** Made at the first scrape: prom-client and the process's collectors load then, not with every daemon. */
  #metrics: Promise<Metrics> | undefined
  readonly #server: http.Server
  /** Made at the first WebSocket upgrade (ws loads then: see above). */
  #wss: WebSocketServer | undefined
  readonly #events: EventLog
  /** Open Server-Sent Events streams: ended at stop, as they would hold the server open. */
  readonly #sse = new Set<http.ServerResponse>()
  #address: ApiAddress | undefined
  /** This start's number, in api.json: a request naming another run read an api.json not written by this daemon. */
  readonly #run = crypto.randomBytes(8).toString('hex')
  readonly #ownHost: OwnHost
  /** Set at start: told which connections carry the token (kept at the cap; any other may be closed). */
  #cap: ReturnType<typeof boundConnections> | undefined

  constructor (init: ApiInit) {
    this.#init = init
    this.#node = init.node
    this.#token = loadOrCreateToken(path.join(init.node.dir, TOKEN_FILE))
    this.#tokenBytes = Buffer.from(this.#token)
    this.#metricsTokenBytes = Buffer.from(loadOrCreateToken(path.join(init.node.dir, METRICS_TOKEN_FILE)))
    this.#events = new EventLog(init.node)
    this.#ownHost = new OwnHost(init.host, init.apiHosts)
    this.#server = nodeHttp.createServer(API_TIMEOUTS, (req, res) => { void this.#handle(req, res) })
    this.#server.on('upgrade', (req, socket, head) => {
      const foreign = this.#ownHost.refusalOf(req.headers, true)
      if (foreign !== undefined) { refuseUpgrade(socket, '421 Misdirected Request', foreign); return }
      let url: URL
      try { url = parseUrl(req.url) } catch { url = new URL('http://localhost/') }
      if (url.pathname !== '/v1/events' || !this.#authorized(req, () => url, 'query')) {
        socket.end(`HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${BEARER_CHALLENGE}\r\nConnection: close\r\n\r\n`)
        return
      }
      this.#cap?.trust(req.socket)
      const query = eventQuery(url, req.headers)
      try {
        this.#events.check(query)
      } catch (err) {
        refuseUpgrade(socket, '400 Bad Request', badQuery(err))
        return
      }
      void this.#upgrade(req, socket, head, query)
    })
  }

  async start (): Promise<ApiAddress> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#init.port, this.#init.host, () => resolve())
    })
    this.#cap = boundConnections(this.#server, this.#init.logger)
    const addr = this.#server.address()
    if (addr === null || typeof addr === 'string') throw new Error('the API server has no TCP address')
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    this.#address = { url: `http://${host}:${addr.port}`, token: this.#token, pid: process.pid, run: this.#run }
    this.#ownHost.listening(this.#address.url, addr.port)
    writeFileAtomic(path.join(this.#node.dir, API_FILE), JSON.stringify(this.#address))
    return this.#address
  }

  async stop (): Promise<void> {
    try { fs.unlinkSync(path.join(this.#node.dir, API_FILE)) } catch {}
    this.#events.close()
    for (const ws of this.#wss?.clients ?? []) ws.terminate()
    for (const res of this.#sse) res.destroy()
    // close() waits for every open connection: a browser's keep-alive ones and requests in flight would hold
    // the daemon's stop for as long as they last. Idle ones close now, the rest after a short grace.
    const closed = new Promise<void>(resolve => this.#server.close(() => resolve()))
    this.#server.closeIdleConnections()
    const grace = setTimeout(() => { this.#server.closeAllConnections() }, STOP_GRACE_MS)
    await closed
    clearTimeout(grace)
  }

  /** The server's own routes (route-table.ts lists them, and who may call each): the compiler wants every one here. */
  readonly #own: Record<OwnRouteKey, OwnHandler> = {
    // For a load balancer's or a supervisor's probe, without the token: ok, degraded or failing (node/health.ts;
    // 503 when the node takes no writes), and its version; nothing else of the node (why needs the token).
    'GET /v1/health': (_req, res) => {
      const status = this.#node.health()
      send(res, status === 'failing' ? 503 : 200, { status, version: VERSION })
    },
    'GET /v1/openapi.json': async (_req, res) => {
      sendText(res, 200, 'application/json; charset=utf-8', (await openApi()).openApiDocument(STATUS))
    },
    'POST /v1/stop': (_req, res) => {
      const onStop = this.#init.onStopRequest
      if (onStop === undefined) throw new ApiError('NOT_FOUND', 'this server takes no stop request')
      // Answered first: the caller learns which process to wait for, then the daemon stops.
      res.once('finish', onStop)
      send(res, 200, { stopping: true, pid: process.pid })
    },
    'GET /v1/events': (req, res, url) => {
      const query = eventQuery(url, req.headers)
      try { this.#events.check(query) } catch (err) { throw badQuery(err) }
      this.#sse.add(res)
      res.once('close', () => this.#sse.delete(res))
      streamSse(res, this.#events, query, this.#hello(), { 'x-accel-buffering': 'no' })
    },
    'GET /metrics': async (_req, res) => {
      // A failed load is not kept: the next scrape tries again.
      this.#metrics ??= import('./metrics.ts').then(m => new m.Metrics(this.#node))
        .catch((err: unknown) => { this.#metrics = undefined; throw err })
      const metrics = await this.#metrics
      sendText(res, 200, metrics.contentType, await metrics.text())
    },
    'GET /dashboard': (_req, res) => {
      sendText(res, 200, 'text/html; charset=utf-8', dashboardPage(), DASHBOARD_HEADERS)
    },
    'GET /dashboard/:module': (_req, res, url, params) => {
      const code = dashboardModule(params.module as string)
      if (code === undefined) throw new ApiError('NOT_FOUND', `the dashboard has no ${url.pathname}`)
      sendText(res, 200, 'text/javascript; charset=utf-8', code, DASHBOARD_HEADERS)
    }
  }

  async #handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const foreign = this.#ownHost.refusalOf(req.headers, false)
      if (foreign !== undefined) throw foreign
      const method = req.method ?? 'GET'
      // A plain path is its own pathname with no query: no URL is parsed for it unless something reads one.
      const plain = plainPath(req.url)
      let parsed = plain === undefined ? parseUrl(req.url) : undefined
      const url = (): URL => (parsed ??= parseUrl(req.url))
      const pathname = plain ?? targetPath(req.url)
      const segments = pathSegments(pathname)
      if (segments === undefined) throw new ApiError('BAD_URL', `the path has a malformed % escape: ${pathname}`)
      const own = findOwnRoute(method, segments)
      if (own !== undefined) {
        if (own.access !== 'none') this.#admit(req, res, url, own.access)
        await this.#own[own.key](req, res, url(), own.params)
        return
      }
      this.#admit(req, res, url, 'header')
      const { findRoute, allowedMethods } = callsLoaded ?? await calls()
      const match = findRoute(method, segments)
      if (match === undefined) {
        const allow = allowedMethods(segments)
        if (allow.length === 0) throw new ApiError('NOT_FOUND', `no such API call: ${method} ${pathname}`)
        res.setHeader('allow', allow.join(', '))
        throw new ApiError('METHOD_NOT_ALLOWED', `${pathname} takes ${allow.join(', ')}, not ${method}`)
      }
      const body = match.route.body === undefined ? {} : await readJson(req)
      const result = await match.route.run(this.#node, match.params, body, () => url().searchParams)
      if (result instanceof JsonList) {
        res.writeHead(200, { 'content-type': JSON_TYPE })
        await writeJsonList(res, result)
        return
      }
      send(res, 200, result ?? OK_ANSWER)
    } catch (err) {
      const { code, message } = describe(err)
      if (res.headersSent) { res.destroy(); return } // a stream already begun cannot turn into an error
      if (code === 'UNAUTHORIZED') res.setHeader('www-authenticate', BEARER_CHALLENGE)
      if (this.#cap?.trusts(req.socket) !== true) res.setHeader('connection', 'close') // no token: not kept
      send(res, STATUS[code], { error: { code, message } })
    }
  }

  /**
   * Whether the request carries the token: in the Authorization header, or,
   * where access is `query` (the dashboard page and the event stream, which
   * a browser opens without a header), as `?token=`. Anywhere else a query
   * token is refused: it would land in shell history, proxy logs and the
   * Referer of whatever the caller opens next. Where access is `metrics`,
   * the read-only metrics token is taken too; nowhere else.
   */
  #authorized (req: http.IncomingMessage, url: () => URL, access: Exclude<Access, 'none'>): boolean {
    const header = req.headers.authorization ?? ''
    let given: string
    if (header.startsWith('Bearer ')) given = header.slice(7)
    else if (access === 'query') given = url().searchParams.get('token') ?? ''
    else return false
    const fits = tokenFits(given, this.#tokenBytes)
    return access === 'metrics' ? tokenFits(given, this.#metricsTokenBytes) || fits : fits
  }

  /** Lets in a request with the token (its connection then kept at the cap), else refuses it (401). */
  #admit (req: http.IncomingMessage, res: http.ServerResponse, url: () => URL, access: Exclude<Access, 'none'>): void {
    if (!this.#authorized(req, url, access)) throw unauthorized(req, url())
    this.#sameRun(req)
    this.#cap?.trust(req.socket, res)
  }

  /** Refuses a request whose client read an api.json of another run (address.ts): it means another directory. */
  #sameRun (req: http.IncomingMessage): void {
    const run = req.headers[RUN_HEADER]
    if (run === undefined || run === this.#run) return
    throw new NodeError('NOT_RUNNING', `this daemon (pid ${process.pid}, ${this.#node.dir}) did not write the ` +
      'api.json the request was made from: that file is stale (left by a daemon that stopped, or copied)')
  }

  /** A WebSocket upgrade the server accepted: ws is loaded for the first one (the socket waits meanwhile). */
  async #upgrade (req: http.IncomingMessage, socket: Duplex, head: Buffer, query: EventQuery): Promise<void> {
    // The HTTP server let go of the socket's error listener when it handed it over; ws adds its own.
    const onError = (): void => { socket.destroy() }
    socket.on('error', onError)
    try {
      this.#wss ??= new (await import('ws')).WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
    } catch (err) {
      console.error('samepage api: the WebSocket server did not load', err)
      socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n')
      return
    }
    socket.off('error', onError)
    if (!socket.destroyed) {
      this.#wss.handleUpgrade(req, socket, head, ws => { streamWebSocket(ws, this.#events, query, this.#hello()) })
    }
  }

  /** The first message of every event stream: which node this is. */
  #hello (): object {
    return { peerId: this.#node.peerId }
  }
}

type EventQuery = ReturnType<typeof eventQuery>
type OwnHandler = (
  req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: Record<string, string>
) => void | Promise<void>

/** An event stream's query the log refused, as the caller's error (400); anything else stays ours. */
function badQuery (err: unknown): NodeError {
  if (err instanceof EventQueryError) return new NodeError('BAD_INPUT', err.message)
  throw err
}

/** An upgrade refused with a JSON error, as any other request is answered. */
function refuseUpgrade (socket: Duplex, status: string, err: NodeError | ApiError): void {
  const body = toJson({ error: { code: err.code, message: err.message } })
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/** The challenge a 401 carries (RFC 6750): the token goes in `Authorization: Bearer`. */
const BEARER_CHALLENGE = 'Bearer realm="samepage"'

/** The refusal of a request without the token, saying why when it came in the query string where it may not. */
function unauthorized (req: http.IncomingMessage, url: URL): ApiError {
  const hint = 'send it as "Authorization: Bearer TOKEN"; the CLI reads it from api.json in the data directory'
  if (req.headers.authorization === undefined && url.searchParams.has('token')) {
    const where = 'the token is taken from the query string only by GET /dashboard and GET /v1/events'
    return new ApiError('UNAUTHORIZED', `${where}; ${hint}`)
  }
  return new ApiError('UNAUTHORIZED', `missing or wrong API token; ${hint}`)
}

/**
 * An error as the API answers it. The caller's errors are the node's
 * (NodeError: the facade turns every refusal of a lower layer into one) and
 * the API's own (ApiError); their codes and messages go out as they are.
 * Anything else is ours, whatever `code` it carries (a lower layer's error
 * the facade did not translate, a system error such as ENOENT, a bug): it is
 * logged here and answered as INTERNAL.
 */
function describe (err: unknown): { code: ApiErrorCode, message: string } {
  if (err instanceof NodeError || err instanceof ApiError) return { code: err.code, message: err.message }
  console.error('samepage api: unexpected error', err)
  return { code: 'INTERNAL', message: 'the daemon hit an unexpected error; see its log' }
}

function sendText (
  res: http.ServerResponse, status: number, type: string, text: string, headers: Readonly<Record<string, string>> = {}
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** A comparison in constant time: how much of a guess was right must not show in how long the answer took. */
function tokenFits (given: string, token: Buffer): boolean {
  const a = Buffer.from(given)
  return a.length === token.length && crypto.timingSafeEqual(a, token)
}

function loadOrCreateToken (file: string): string {
  const saved = readTextOr(file, '').trim()
  if (/^[0-9a-f]{64}$/.test(saved)) return saved // a token, not an id: 32 random bytes in hex
  const token = crypto.randomBytes(32).toString('hex')
  writeFileAtomic(file, token + '\n')
  return token
}

function send (res: http.ServerResponse, status: number, body: unknown): void {
  const text = body === OK_ANSWER ? OK_JSON : toJson(body)
  sendText(res, status, JSON_TYPE, text)
}

const JSON_TYPE = 'application/json; charset=utf-8'
/** The answer of most writes, as JSON once. */
const OK_JSON = toJson(OK_ANSWER)

import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { WebSocketServer } from 'ws'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'
import { SamepageError } from '../ids/index.ts'
import type { WebSocket } from 'ws'
import { Node, NodeError } from '../node/index.ts'
import type { NodeErrorCode } from '../node/index.ts'
import { API_FILE } from './address.ts'
import type { ApiAddress } from './address.ts'
import { toJson } from './json.ts'
import { VERSION } from './version.ts'
import { routes } from './routes.ts'
import type { Route } from './routes.ts'
import { Metrics } from './metrics.ts'
import { DASHBOARD_HEADERS, dashboardModule, dashboardPage } from './dashboard.ts'

/**
 * The local API: JSON over HTTP and an event stream over a WebSocket, bound
 * to 127.0.0.1 by default and protected by a token. Its address and token are
 * written to `api.json` in the data directory (mode 0600), where the CLI
 * finds them. Every CLI command goes through here. The token is kept in
 * `api-token` (0600) across restarts, so that a dashboard bookmark or a
 * Prometheus scrape config keeps working. `POST /v1/stop` (with the token)
 * stops the daemon as SIGTERM does; `GET /v1/health` needs no token and
 * answers only {status, version}. Besides /v1/: /metrics
 * (Prometheus text) and /dashboard (the web page), with the same token, and
 * /dashboard/*.js, the page's code, without (see dashboard.ts). /metrics also
 * takes the scrape token (`metrics-token`, 0600, kept across restarts too),
 * which opens nothing else: a monitoring server holds a credential that reads
 * counters, not one that runs the node. It is taken from the Authorization
 * header only, never the query string, so it stays out of logs.
 */
const TOKEN_FILE = 'api-token'
const SCRAPE_TOKEN_FILE = 'metrics-token'
const BODY_BYTES_MAX = 1024 * 1024
/** The node's events the WebSocket forwards. */
const EVENT_TYPES = ['stored', 'fork', 'misbehaviour', 'disconnect', 'folder', 'network', 'notice'] as const

interface ApiInit {
  readonly node: Node
  readonly host: string
  readonly port: number
  /** Called once the answer to `POST /v1/stop` is sent: the daemon then stops as on SIGTERM. */
  readonly onStopRequest?: () => void
}

type ApiOwnCode = 'UNAUTHORIZED' | 'NOT_FOUND' | 'TOO_LARGE' | 'BAD_JSON'
/** Every `error.code` the API answers with: the node's, the API's own, and INTERNAL for anything else. */
export type ApiErrorCode = NodeErrorCode | ApiOwnCode | 'INTERNAL'

/** The HTTP status of each code; a new code does not compile until it is given one here. */
const STATUS: Record<ApiErrorCode, number> = {
  BAD_INPUT: 400, BAD_PEER: 400, BAD_CONFIG: 400, BAD_FOLDER: 400, BAD_TOKEN: 400, EXPIRED_TOKEN: 400,
  AMBIGUOUS_SPACE: 400, DIR_LOCKED: 400, NOT_RUNNING: 400, NO_FOLDER: 404, DATA_DIR_FOLDER: 400,
  BACKUP_EXISTS: 400, BACKUP_REFUSED: 400, BAD_JSON: 400,
  UNAUTHORIZED: 401,
  NOT_ALLOWED: 403,
  UNKNOWN_SPACE: 404,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  INTERNAL: 500,
  STORAGE_FULL: 507,
  STORAGE_FAILED: 500,
  NOT_A_MEMBER: 404, NO_CHANGE: 409, NAME_TAKEN: 409, JOIN_REFUSED: 403, INVITER_UNREACHABLE: 504
}

export class ApiServer {
  readonly #node: Node
  readonly #init: ApiInit
  readonly #token: string
  readonly #scrapeToken: string
  readonly #metrics: Metrics
  readonly #server: http.Server
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  #address: ApiAddress | undefined

  constructor (init: ApiInit) {
    this.#init = init
    this.#node = init.node
    this.#token = loadOrCreateToken(path.join(init.node.dir, TOKEN_FILE))
    this.#scrapeToken = loadOrCreateToken(path.join(init.node.dir, SCRAPE_TOKEN_FILE))
    this.#metrics = new Metrics(init.node)
    this.#server = http.createServer((req, res) => { void this.#handle(req, res) })
    this.#server.on('upgrade', (req, socket, head) => {
      if (!this.#authorized(req) || new URL(req.url ?? '/', 'http://x').pathname !== '/v1/events') {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n')
        return
      }
      this.#wss.handleUpgrade(req, socket, head, ws => this.#stream(ws))
    })
  }

  async start (): Promise<ApiAddress> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#init.port, this.#init.host, () => resolve())
    })
    const addr = this.#server.address()
    if (addr === null || typeof addr === 'string') throw new Error('the API server has no TCP address')
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    this.#address = { url: `http://${host}:${addr.port}`, token: this.#token, pid: process.pid }
    writeFileAtomic(path.join(this.#node.dir, API_FILE), JSON.stringify(this.#address))
    return this.#address
  }

  async stop (): Promise<void> {
    try { fs.unlinkSync(path.join(this.#node.dir, API_FILE)) } catch {}
    for (const ws of this.#wss.clients) ws.terminate()
    await new Promise<void>(resolve => this.#server.close(() => resolve()))
  }

  async #handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (req.method === 'GET' && url.pathname.startsWith('/dashboard/')) {
        const code = dashboardModule(url.pathname.slice('/dashboard/'.length))
        if (code === undefined) throw new ApiError('NOT_FOUND', `the dashboard has no ${url.pathname}`)
        sendText(res, 200, 'text/javascript; charset=utf-8', code, DASHBOARD_HEADERS)
        return
      }
      if (req.method === 'GET' && url.pathname === '/v1/health') {
        // For a load balancer's or a supervisor's probe, without the token: that the daemon answers, and its
        // version; nothing of the node (its id, peers, spaces or alerts need the token).
        send(res, 200, { status: 'ok', version: VERSION })
        return
      }
      const scrape = req.method === 'GET' && url.pathname === '/metrics' && sameToken(bearer(req), this.#scrapeToken)
      if (!scrape && !this.#authorized(req)) {
        const hint = 'the CLI reads it from api.json in the data directory'
        throw new ApiError('UNAUTHORIZED', `missing or wrong API token; ${hint}`)
      }
      if (req.method === 'POST' && url.pathname === '/v1/stop' && this.#init.onStopRequest !== undefined) {
        // Answered first: the caller learns which process to wait for, then the daemon stops.
        res.once('finish', this.#init.onStopRequest)
        send(res, 200, { stopping: true, pid: process.pid })
        return
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        sendText(res, 200, this.#metrics.contentType, await this.#metrics.text())
        return
      }
      if (req.method === 'GET' && url.pathname === '/dashboard') {
        sendText(res, 200, 'text/html; charset=utf-8', dashboardPage(), DASHBOARD_HEADERS)
        return
      }
      const match = findRoute(req.method ?? 'GET', url.pathname)
      if (match === undefined) throw new ApiError('NOT_FOUND', `no such API call: ${req.method} ${url.pathname}`)
      const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req)
      const result = await match.route.run(this.#node, match.params, body)
      send(res, 200, result ?? { ok: true })
    } catch (err) {
      const { code, message } = describe(err)
      send(res, STATUS[code], { error: { code, message } })
    }
  }

  #authorized (req: http.IncomingMessage): boolean {
    const given = bearer(req) ?? new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? ''
    return sameToken(given, this.#token)
  }

  #stream (ws: WebSocket): void {
    const forward = (type: string) => (payload: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(toJson({ type, ...(payload as object) }))
    }
    const handlers = EVENT_TYPES.map(type => [type, forward(type)] as const)
    for (const [type, h] of handlers) this.#node.on(type, h)
    ws.on('close', () => { for (const [type, h] of handlers) this.#node.off(type, h) })
    ws.send(toJson({ type: 'hello', peerId: this.#node.peerId }))
  }
}

class ApiError extends SamepageError<ApiOwnCode> {}

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

function findRoute (method: string, pathname: string): { route: Route, params: Record<string, string> } | undefined {
  const parts = pathname.split('/').filter(p => p !== '').map(decodeURIComponent)
  for (const route of routes) {
    if (route.method !== method || route.parts.length !== parts.length) continue
    const params: Record<string, string> = {}
    const fits = route.parts.every((p, i) => {
      if (!p.startsWith(':')) return p === parts[i]
      params[p.slice(1)] = parts[i] as string
      return true
    })
    if (fits) return { route, params }
  }
  return undefined
}

async function readJson (req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > BODY_BYTES_MAX) throw new ApiError('TOO_LARGE', `request body over ${BODY_BYTES_MAX} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw new ApiError('BAD_JSON', 'the request body is not a JSON object')
  }
}

function sendText (
  res: http.ServerResponse, status: number, type: string, text: string, headers: Readonly<Record<string, string>> = {}
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function bearer (req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization ?? ''
  return header.startsWith('Bearer ') ? header.slice(7) : undefined
}

function sameToken (given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '')
  const b = Buffer.from(token)
  return a.length === b.length && crypto.timingSafeEqual(a, b)
}

function loadOrCreateToken (file: string): string {
  const saved = readTextOr(file, '').trim()
  if (/^[0-9a-f]{64}$/.test(saved)) return saved // a token, not an id: 32 random bytes in hex
  const token = crypto.randomBytes(32).toString('hex')
  writeFileAtomic(file, token + '\n')
  return token
}

function send (res: http.ServerResponse, status: number, body: unknown): void {
  const text = toJson(body)
  sendText(res, status, 'application/json; charset=utf-8', text)
}

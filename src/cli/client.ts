import fs from 'node:fs'
import type { OutgoingHttpHeaders } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { API_FILE, RUN_HEADER } from '../api/index.ts'
import type { ApiAddress, ApiErrorCode } from '../api/index.ts'
import { SamepageError } from '../ids/index.ts'

// Required, not imported: an ESM import of node:http loads undici and http2 (api/server.ts says why).
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** The daemon's error code when the error came from it; ERROR or USAGE for the command line's own. */
type CliErrorCode = ApiErrorCode | 'ERROR' | 'USAGE'

/**
 * The daemon's codes for a request that cannot work as typed, whatever the
 * state: a malformed value, peer id or invite token. The command line exits
 * 2 on them, as on its own usage errors; on every other code (an unknown
 * space, a refusal, a full disk), 1.
 */
const USAGE_CODES: ReadonlySet<CliErrorCode> = new Set(['BAD_INPUT', 'BAD_PEER', 'BAD_TOKEN', 'BAD_JSON'])

/** An error the command line prints and exits with (2 for a usage error). */
export class CliError extends SamepageError<CliErrorCode> {
  readonly exitCode: number
  constructor (message: string, exitCode = 1, code: CliErrorCode = 'ERROR', options?: ErrorOptions) {
    super(code, message, options)
    this.exitCode = exitCode
  }
}

/** Talks to the running daemon of a data directory through its API. */
export class ApiClient {
  readonly #dir: string

  constructor (dir: string) {
    this.#dir = dir
  }

  async call (method: string, pathname: string, body?: unknown, timeoutMs = 30_000): Promise<unknown> {
    const api = this.#address()
    // Outside the try: a value it cannot serialize is not a daemon that is down.
    const json = body === undefined ? undefined : JSON.stringify(body)
    let res: Answer
    try {
      res = await send(api.url, pathname, method, {
        authorization: `Bearer ${api.token}`,
        ...(typeof api.run === 'string' ? { [RUN_HEADER]: api.run } : {}),
        ...(json === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
      }, json, timeoutMs)
    } catch (err) {
      throw closedByDaemon(err) ?? this.#notRunning()
    }
    let payload: { error?: { code: ApiErrorCode, message: string } }
    try {
      payload = JSON.parse(res.text) as typeof payload
    } catch {
      payload = {}
    }
    if (res.status < 200 || res.status > 299) {
      // The daemon that answered is not this directory's: its api.json was left by one that is gone (address.ts).
      if (payload.error?.code === 'NOT_RUNNING') throw this.#notRunning()
      const message = payload.error?.message ?? `the daemon answered ${res.status}`
      const code = payload.error?.code ?? 'ERROR'
      throw new CliError(message, USAGE_CODES.has(code) ? 2 : 1, code)
    }
    return payload
  }

  /**
   * Asks the daemon to stop (POST /v1/stop) and returns its pid once that
   * process has exited: its store closed and its lock released. Polled, as
   * no call waits for another process's exit; bounded by `timeoutMs`.
   */
  async stop (timeoutMs = 120_000): Promise<number> {
    const { pid } = await this.call('POST', '/v1/stop') as { pid: number }
    const until = Date.now() + timeoutMs
    while (alive(pid)) {
      if (Date.now() > until) {
        const waited = `${Math.round(timeoutMs / 1000)} s`
        throw new CliError(`the daemon (pid ${pid}) was asked to stop but still runs after ${waited}; see its log`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    return pid
  }

  /** The dashboard's address, token included (whoever has it can read the whole network). */
  dashboardUrl (): string {
    const api = this.#address()
    return `${api.url}/dashboard?token=${api.token}`
  }

  #address (): ApiAddress {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.#dir, API_FILE), 'utf8')) as ApiAddress
    } catch {
      throw this.#notRunning()
    }
  }

  #notRunning (): CliError {
    const dir = this.#dir
    const message = `no samepage daemon is running for ${dir}; start one with: samepage start --dir ${dir}`
    return new CliError(message, 1, 'NOT_RUNNING')
  }
}

/**
 * The error for a connection the daemon took and then closed before answering: it runs (nothing listening is
 * ECONNREFUSED), most likely at its cap of API connections (api/connection-cap.ts), so "no daemon" would be wrong.
 */
function closedByDaemon (err: unknown): CliError | undefined {
  const code = (err as NodeJS.ErrnoException).code
  if (code !== 'ECONNRESET' && code !== 'EPIPE') return undefined
  return new CliError('the daemon closed the connection (it may be at its connection limit); try again', 1, 'ERROR',
    { cause: err })
}

/**
 * Whether a process runs. An exited one whose parent has not collected it yet
 * (a zombie: its parent busy, or a test waiting on this very command) is done:
 * on Linux its state in /proc says so, where kill(pid, 0) would still succeed.
 */
function alive (pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self/stat')) return false
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // it runs, as another user
  }
}

interface Answer { readonly status: number, readonly text: string }

/**
 * One request over node:http rather than fetch(): fetch's client (undici),
 * loaded on first use, cost `samepage id` about 10 ms of its 0.1-0.2 s of CPU.
 * Rejects when no answer came (nothing listening, or the time ran out); once
 * the daemon answered, a body cut short reads as empty text, as fetch's
 * `res.json()` failing did. A fresh connection (`agent: false`): nothing kept
 * open to hold the process.
 */
async function send (
  base: string, pathname: string, method: string, headers: OutgoingHttpHeaders, body: string | undefined,
  timeoutMs: number
): Promise<Answer> {
  // The path as it is, not through a URL: a URL's parser removes `.` and `..` segments (a key named `.`).
  const { hostname, port } = new URL(base)
  const to = { host: hostname.replace(/^\[|\]$/g, ''), port, path: pathname }
  return await new Promise((resolve, reject) => {
    const req = http.request({ ...to, method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, res => {
      const chunks: Buffer[] = []
      const status = res.statusCode ?? 0
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.once('end', () => { resolve({ status, text: Buffer.concat(chunks).toString('utf8') }) })
      // Cut short (the daemon stopped, the time ran out): after 'end', these change nothing.
      res.once('error', () => { resolve({ status, text: '' }) })
      res.once('close', () => { resolve({ status, text: '' }) })
    })
    req.once('error', reject)
    req.end(body)
  })
}

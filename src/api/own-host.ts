import net from 'node:net'
import { ApiError } from './request.ts'

/**
 * The names this API answers to, against DNS rebinding: a web page of another site whose name its owner
 * re-points to 127.0.0.1 reaches the API as a page of that site, its requests naming that site in `Host`
 * (and its WebSocket in `Origin`). Such a name is not one of the daemon's: an IP address (a page cannot rebind
 * a number), `localhost`, the host the API was told to bind (`--api HOST:PORT`), or one the user lists in
 * config.json's "apiHosts" (a name a proxy forwards); with the API's own port, but for the names the user listed,
 * whose port a proxy decides. Everything else is refused before any route (server.ts), the token routes included.
 */
export class OwnHost {
  readonly #names: ReadonlySet<string>
  readonly #listed: ReadonlySet<string>
  #port = 0
  #url = ''

  constructor (boundHost: string, listed: readonly string[] = []) {
    this.#listed = new Set(listed.map(n => n.toLowerCase()))
    this.#names = new Set(['localhost', boundHost.toLowerCase().replace(/^\[(.*)\]$/, '$1')])
  }

  /** The API is listening: its port, and the URL a refusal points to. */
  listening (url: string, port: number): void {
    this.#url = url
    this.#port = port
  }

  /** Whether a `Host` header names this API; a request without one (HTTP/1.0: no browser sends it) passes. */
  hostOk (host: string | undefined): boolean {
    if (host === undefined || host === '') return true
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host)
    if (m === null) return false
    const name = (m[1] as string).toLowerCase().replace(/^\[(.*)\]$/, '$1')
    if (this.#listed.has(name)) return true
    const port = m[2] === undefined ? 80 : Number(m[2])
    return port === this.#port && (net.isIP(name) !== 0 || this.#names.has(name))
  }

  /**
   * Whether an `Origin` header (sent by browsers) is this API's own page: the very host the request names (already
   * found this API's), or a name the user listed; none (a program) passes. Not any IP address as for `Host`: a page
   * served from another machine's address is another site (a review's probe), only a rebound name cannot be one.
   */
  originOk (origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true
    let url: URL
    try { url = new URL(origin) } catch { return false }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
    const name = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
    return this.#listed.has(name) || (host !== undefined && url.host === host.toLowerCase())
  }

  /**
   * The refusal of a request naming a host that is not this API's, or undefined; a WebSocket's `Origin` too (a
   * browser's cross-site request is refused by its own rules, a WebSocket is not).
   */
  refusalOf (headers: { host?: string | undefined, origin?: string | undefined }, upgrade: boolean):
  ApiError | undefined {
    if (!this.hostOk(headers.host)) return new ApiError('BAD_HOST', this.#refusal(`Host ${quoted(headers.host)}`))
    if (upgrade && !this.originOk(headers.origin, headers.host)) {
      return new ApiError('BAD_HOST', this.#refusal(`Origin ${quoted(headers.origin)}`))
    }
    return undefined
  }

  /** What a refused request is told. */
  #refusal (what: string): string {
    return `this API answers only to its own names (${this.#url}, localhost, or a name in config.json's ` +
      `"apiHosts"), not ${what}: a page of another site tried to reach it (DNS rebinding)`
  }
}

/** A header's value as a refusal quotes it: short, as JSON. */
const quoted = (v: string | undefined): string => JSON.stringify((v ?? '').slice(0, 100))

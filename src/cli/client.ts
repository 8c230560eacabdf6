import fs from 'node:fs'
import path from 'node:path'
import { API_FILE } from '../api/index.ts'
import type { ApiAddress, ApiErrorCode } from '../api/index.ts'
import { SamepageError } from '../ids/index.ts'

/** The daemon's error code when the error came from it; ERROR for the command line's own. */
type CliErrorCode = ApiErrorCode | 'ERROR'

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
    let res: Response
    try {
      res = await fetch(api.url + pathname, {
        method,
        headers: {
          authorization: `Bearer ${api.token}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' })
        },
        ...(json === undefined ? {} : { body: json }),
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch {
      throw this.#notRunning()
    }
    const payload = await res.json().catch(() => ({})) as { error?: { code: ApiErrorCode, message: string } }
    if (!res.ok) {
      const message = payload.error?.message ?? `the daemon answered ${res.status}`
      throw new CliError(message, 1, payload.error?.code ?? 'ERROR')
    }
    return payload
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
    return new CliError(`no samepage daemon is running for ${dir}; start one with: samepage start --dir ${dir}`)
  }
}

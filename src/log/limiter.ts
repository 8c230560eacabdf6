/**
 * Keeps what peers can trigger again and again (misbehaviour, bans,
 * connections) from flooding the log: per key (a peer and a reason, say), at
 * most `perKey` lines a window, and at most `total` lines a window for all
 * keys together (fresh peer identities cost nothing). A line let through
 * carries how many of its key were held back since its last line.
 */
export class LogLimiter {
  readonly #windowMs: number
  readonly #perKey: number
  readonly #total: number
  readonly #maxKeys: number
  /** Per key: when its window began, lines let through in it, lines held back since the last let through. */
  readonly #keys = new Map<string, { startMs: number, lines: number, held: number }>()
  #windowStartMs = -Infinity
  #linesInWindow = 0

  constructor (opts: { windowMs?: number, perKey?: number, total?: number, maxKeys?: number } = {}) {
    this.#windowMs = opts.windowMs ?? 60_000
    this.#perKey = opts.perKey ?? 1
    this.#total = opts.total ?? 100
    this.#maxKeys = opts.maxKeys ?? 1024
  }

  /** undefined: hold this line back; otherwise log it, saying `held` lines of its key were held back before it. */
  allow (key: string, nowMs: number): { held: number } | undefined {
    if (nowMs - this.#windowStartMs >= this.#windowMs) {
      this.#windowStartMs = nowMs
      this.#linesInWindow = 0
    }
    let k = this.#keys.get(key)
    if (k !== undefined && nowMs - k.startMs >= this.#windowMs) {
      k.startMs = nowMs
      k.lines = 0
    }
    if (k === undefined) {
      this.#makeRoom(nowMs)
      k = { startMs: nowMs, lines: 0, held: 0 }
      this.#keys.set(key, k)
    }
    if (k.lines >= this.#perKey || this.#linesInWindow >= this.#total) {
      k.held++
      return undefined
    }
    k.lines++
    this.#linesInWindow++
    const held = k.held
    k.held = 0
    return { held }
  }

  /** Forgets keys whose window is over, then the oldest, so the table stays bounded. */
  #makeRoom (nowMs: number): void {
    if (this.#keys.size < this.#maxKeys) return
    for (const [key, k] of this.#keys) if (nowMs - k.startMs >= this.#windowMs) this.#keys.delete(key)
    for (const key of this.#keys.keys()) {
      if (this.#keys.size < this.#maxKeys) break
      this.#keys.delete(key)
    }
  }
}

/**
 * A byte rate limit shared by every stream it is given to (--max-up,
 * --max-down): a token bucket that may go into debt by one message, so a
 * chunk bigger than the bucket still passes, and the time it borrowed is
 * waited out before the next. Unlimited when the rate is 0 or absent.
 */
export class RateLimit {
  readonly bytesPerSecond: number
  readonly #burst: number
  readonly #now: () => number
  #tokens: number
  #at: number
  #queue: Promise<void> = Promise.resolve()

  constructor (bytesPerSecond: number | undefined, now: () => number = () => performance.now()) {
    this.bytesPerSecond = bytesPerSecond ?? 0
    // A tenth of a second's worth: smooth at the scale of a transfer, without a long start-up burst.
    this.#burst = Math.max(64 * 1024, this.bytesPerSecond / 10)
    this.#now = now
    this.#tokens = this.#burst
    this.#at = now()
  }

  get limited (): boolean {
    return this.bytesPerSecond > 0
  }

  /** Resolves when `bytes` may go; callers are served in order. */
  take (bytes: number): Promise<void> {
    if (!this.limited) return Promise.resolve()
    const turn = this.#queue.then(async () => {
      this.#refill()
      if (this.#tokens < 0) await sleep(-this.#tokens / this.bytesPerSecond * 1000)
      this.#refill()
      this.#tokens -= bytes
    })
    this.#queue = turn
    return turn
  }

  #refill (): void {
    const now = this.#now()
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) / 1000 * this.bytesPerSecond)
    this.#at = now
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.ceil(ms)))
}

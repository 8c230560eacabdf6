/**
 * When a folder's next pass runs. Calls in a burst (a peer's records arriving 256 a commit, a file still being
 * written) push the pass back, so that one pass sees the whole burst; but never further than MAX_SETTLE_MS after
 * the burst's first call. Without that bound, a steady trickle (a member recording every 150 ms, a log file
 * written every 100 ms) held a folder's passes off for as long as it lasted, its local changes unrecorded and
 * everyone else's records unwritten. A call asking for a pass sooner than the one due brings it forward: a
 * pass asked for now (start, the periodic rescan) is not put off by a settle that follows it.
 */
export const MAX_SETTLE_MS = 1_000

export class PassTimer {
  readonly #run: () => void
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  /** The latest the pass due may start (ms on #now's clock); undefined when none is due. */
  #latestAt: number | undefined

  /** `now`: a monotonic clock in ms (tests give a mocked one). */
  constructor (run: () => void, now: () => number = () => performance.now()) {
    this.#run = run
    this.#now = now
  }

  /** A pass in `delayMs`, or by the bound of the burst this call belongs to, whichever comes first. */
  schedule (delayMs: number): void {
    const now = this.#now()
    const latest = now + (delayMs <= 0 ? 0 : Math.max(delayMs, MAX_SETTLE_MS))
    this.#latestAt = Math.min(this.#latestAt ?? latest, latest)
    const at = Math.min(now + Math.max(0, delayMs), this.#latestAt)
    clearTimeout(this.#timer)
    // A pass already overdue (the event loop was held past its time) runs at once, without Node's warning of a
    // negative delay.
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#latestAt = undefined
      this.#run()
    }, Math.max(0, at - now))
    this.#timer.unref?.()
  }

  /** No pass is due any more (one is starting by other means, or the folder stops). */
  cancel (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#latestAt = undefined
  }
}

import type { AuthorHex } from '../store/index.ts'
import { SERVE_QUEUE_BYTES_MAX, SERVE_QUEUE_BYTES_PER_PEER_MAX } from './claims.ts'

/**
 * What a node has queued to send each peer and not yet written (decision
 * 17): bytes the engine queued since its last drain(), plus what the
 * transport reports as handed over but unwritten (`backlog`). A want is
 * served only while this leaves room, so no sequence of wants makes a node
 * queue more than SERVE_QUEUE_BYTES_PER_PEER_MAX for one peer, or
 * SERVE_QUEUE_BYTES_MAX for all.
 */
export class ServeBudget {
  readonly #undrained = new Map<AuthorHex, number>()
  readonly #backlog: (peer: AuthorHex) => number

  constructor (backlog: (peer: AuthorHex) => number = () => 0) {
    this.#backlog = backlog
  }

  queued (peer: AuthorHex, bytes: number): void {
    this.#undrained.set(peer, (this.#undrained.get(peer) ?? 0) + bytes)
  }

  /** Whether `bytes` more fit for `peer` and for all of `peers` (plus `slack`, for small answers past the budgets). */
  room (peer: AuthorHex, peers: Iterable<AuthorHex>, bytes: number, slack = 0): boolean {
    const mine = (this.#undrained.get(peer) ?? 0) + this.#backlog(peer)
    if (mine + bytes > SERVE_QUEUE_BYTES_PER_PEER_MAX + slack) return false
    let all = this.undrained
    for (const p of peers) all += this.#backlog(p)
    return all + bytes <= SERVE_QUEUE_BYTES_MAX + slack
  }

  /** drain() handed everything to the transport (which reports it as backlog from now on). */
  drained (): void {
    this.#undrained.clear()
  }

  forget (peer: AuthorHex): void {
    this.#undrained.delete(peer)
  }

  get undrained (): number {
    let n = 0
    for (const b of this.#undrained.values()) n += b
    return n
  }
}

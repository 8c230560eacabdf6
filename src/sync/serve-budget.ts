import { MESSAGE_BYTES_MAX, RUN_BYTES_MAX, RUN_ENTRIES_MAX } from '../codec/index.ts'
import type { FeedRange } from '../codec/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { runBytes } from './asked.ts'
import { SERVE_QUEUE_BYTES_MAX, SERVE_QUEUE_BYTES_PER_PEER_MAX } from './claims.ts'
import { WANT_WINDOW_BYTES, WANT_WINDOW_ENTRIES } from './constants.ts'
import { feedKey } from './keys.ts'
import type { Session } from './session.ts'
import type { SyncStats } from './stats.ts'
import { isMember } from './types.ts'
import type { Send } from './types.ts'

/**
 * An `entries` message at most (a run of RUN_BYTES_MAX and the signatures and
 * framing of RUN_ENTRIES_MAX entries), and a `none`.
 */
const RUN_WIRE_BYTES_MAX = RUN_BYTES_MAX + RUN_ENTRIES_MAX * 80
const NONE_WIRE_BYTES = 128
/**
 * Signatures the serves of one want may check (space/serving.ts SignatureChecks): an honest want asks one range,
 * whose serve checks at most 16. Past it, the rest of the want is left unanswered (busy), never `none`.
 */
const WANT_SIGNATURE_CHECKS_MAX = 32

/**
 * What a node has queued to send each peer and not yet written (decision
 * 17): bytes the engine queued since its last drain(), plus what the
 * transport reports as handed over but unwritten (`backlog`). A want is
 * served only while this leaves room, so no sequence of wants makes a node
 * queue more than SERVE_QUEUE_BYTES_PER_PEER_MAX for one peer, or
 * SERVE_QUEUE_BYTES_MAX for all.
 */
export class ServeBudget {
  readonly #undrained = new Map<AuthorKey, number>()
  readonly #backlog: (peer: AuthorKey) => number

  constructor (backlog: (peer: AuthorKey) => number = () => 0) {
    this.#backlog = backlog
  }

  queued (peer: AuthorKey, bytes: number): void {
    this.#undrained.set(peer, (this.#undrained.get(peer) ?? 0) + bytes)
  }

  /** Whether `bytes` more fit for `peer` and for all of `peers` (plus `slack`, for small answers past the budgets). */
  room (peer: AuthorKey, peers: Iterable<AuthorKey>, bytes: number, slack = 0): boolean {
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

  forget (peer: AuthorKey): void {
    this.#undrained.delete(peer)
  }

  get undrained (): number {
    let n = 0
    for (const b of this.#undrained.values()) n += b
    return n
  }
}

/**
 * Answers a peer's `want` (ranges of feeds): runs in chain order, up to
 * WANT_WINDOW_ENTRIES and WANT_WINDOW_BYTES per range, a member only, while
 * the serve budget has room; `none` for what is not held or not served to
 * this peer, and nothing for what the budget has no room for now.
 */
export function serveWant (session: Session, replica: SpaceReplica | undefined, space: Uint8Array,
  ranges: readonly FeedRange[], budget: ServeBudget, peers: Iterable<AuthorKey>, stats: SyncStats): Send[] {
  const out: Send[] = []
  const none = (range: FeedRange): void => {
    out.push({ peer: session.peer, msg: { m: 'none', space, range } })
    budget.queued(session.peer, NONE_WIRE_BYTES)
  }
  const all = [...peers]
  // Signatures the serves of this want may check in all: ranges ending in botched stretches cost a check each.
  const checks = { left: WANT_SIGNATURE_CHECKS_MAX, spent: false }
  for (const range of ranges) {
    const author = authorKeyOf(range.author)
    // Even `none` answers stop at a hard bound: a peer that asks and never reads gets no more queued.
    if (!budget.room(session.peer, all, NONE_WIRE_BYTES, MESSAGE_BYTES_MAX)) { stats.wantsRefused++; break }
    if (replica === undefined || !isMember(replica, session.peer)) {
      // Served nothing: a non-member learns no more than that we will not serve it.
      none(range)
      continue
    }
    const to = Math.min(range.to, range.from + WANT_WINDOW_ENTRIES)
    let from = range.from
    let bytes = 0
    let full = false
    while (from < to && bytes < WANT_WINDOW_BYTES) {
      // What we queue for one peer (and for all) stays bounded whatever it asks: past the budget, `none` for the rest.
      if (!budget.room(session.peer, all, RUN_WIRE_BYTES_MAX)) { full = true; break }
      const run = replica.serve(author, range.epoch, from, to, checks)
      // Out of checks is busy, not `none` (we may well hold it): unanswered, it is asked again.
      if (run.length === 0) {
        full ||= checks.spent
        break
      }
      out.push({ peer: session.peer, msg: { m: 'entries', space, run } })
      budget.queued(session.peer, runBytes(run) + run.length * 80)
      stats.entriesServed += run.length
      from += run.length
      bytes += runBytes(run)
    }
    if (from > range.from) session.shared(replica.key).holds(feedKey(author, range.epoch), from)
    // Busy is not `none`: a `none` tells the puller we do not hold the rest, and it would not ask us again until we
    // announce that feed anew (maybe never). Left unanswered, the want times out and is asked again, of us or another.
    if (full) stats.wantsRefused++
    else if (from === range.from) none(range)
    // Out of signature checks: the rest of the want goes unanswered too.
    if (checks.spent) break
  }
  return out
}

import type { Clock, FeedRow } from '../codec/index.ts'
import { toHex } from '../codec/index.ts'
import type { AuthorHex, SpaceKey } from '../store/index.ts'
import { PeerScore } from './score.ts'

/**
 * What we know of one neighbour: per shared space, how far it holds each
 * feed (from its hello, its announcements, what it asked for and what it
 * sent us). An entry at or below what a neighbour holds is never sent to it.
 */
export class SharedSpace {
  readonly known = new Map<string, number>()
  readonly heads = new Map<string, string | null>()
  readonly frozen = new Set<string>()
  readonly statusKnown = new Map<AuthorHex, Clock>()
  /** Our vector for this space went to this peer while it was a member (non-members get an empty hello). */
  memberHelloSent = false

  learn (row: FeedRow): string {
    const fk = feedKey(toHex(row.author), row.epoch)
    if (row.count >= (this.known.get(fk) ?? 0)) {
      this.known.set(fk, row.count)
      this.heads.set(fk, row.head === null ? null : toHex(row.head))
    }
    if (row.frozen) this.frozen.add(fk)
    return fk
  }

  holds (fk: string, count: number): void {
    if (count > (this.known.get(fk) ?? 0)) {
      this.known.set(fk, count)
      this.heads.delete(fk)
    }
  }
}

export class Session {
  readonly peer: AuthorHex
  readonly order: number
  readonly score: PeerScore
  readonly spaces = new Map<SpaceKey, SharedSpace>()

  constructor (peer: AuthorHex, order: number, nowMs: number) {
    this.peer = peer
    this.order = order
    this.score = new PeerScore(nowMs)
  }

  shared (space: SpaceKey): SharedSpace {
    let s = this.spaces.get(space)
    if (s === undefined) this.spaces.set(space, s = new SharedSpace())
    return s
  }
}

export function feedKey (author: AuthorHex, epoch: number): string {
  return `${author}/${epoch}`
}

export function parseFeedKey (fk: string): { author: AuthorHex, epoch: number } {
  const [author, epoch] = fk.split('/') as [string, string]
  return { author, epoch: Number(epoch) }
}

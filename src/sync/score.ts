import type { AuthorKey } from '../ids/index.ts'
import {
  BAN_MS, BANNED_MAX, MESSAGES_BURST, MESSAGES_PER_SECOND, SCORE_HALF_LIFE_MS, SCORE_LIMIT
} from './constants.ts'

/**
 * A peer's misbehaviour score, decaying with time, and its message budget.
 * Pure: the time comes in.
 */
export class PeerScore {
  #score = 0
  #at: number
  #tokens = MESSAGES_BURST
  #tokensAt: number
  readonly log: { atMs: number, reason: string, points: number }[] = []

  constructor (nowMs: number) {
    this.#at = nowMs
    this.#tokensAt = nowMs
  }

  add (points: number, reason: string, nowMs: number): void {
    this.#decay(nowMs)
    this.#score += points
    if (this.log.length < 100) this.log.push({ atMs: nowMs, reason, points })
  }

  value (nowMs: number): number {
    this.#decay(nowMs)
    return this.#score
  }

  exceeded (nowMs: number): boolean {
    return this.value(nowMs) >= SCORE_LIMIT
  }

  /** Takes one message from the budget; false when the peer is flooding. */
  takeMessage (nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.#tokensAt)
    this.#tokens = Math.min(MESSAGES_BURST, this.#tokens + elapsed * MESSAGES_PER_SECOND / 1000)
    this.#tokensAt = nowMs
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  #decay (nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.#at)
    this.#score *= 0.5 ** (elapsed / SCORE_HALF_LIFE_MS)
    this.#at = nowMs
  }
}

/**
 * Peers refused for misbehaviour, each until BAN_MS after its score passed
 * SCORE_LIMIT. Identities are free, so the list is kept to BANNED_MAX
 * (expired bans first, then the oldest).
 */
export class BanList {
  readonly #until = new Map<AuthorKey, number>()

  ban (peer: AuthorKey, nowMs: number): void {
    this.#until.set(peer, nowMs + BAN_MS)
    if (this.#until.size > BANNED_MAX) for (const [p, until] of this.#until) if (until <= nowMs) this.#until.delete(p)
    // Then the oldest bans (a Map iterates in insertion order; deleting the key being visited is safe).
    for (const p of this.#until.keys()) {
      if (this.#until.size <= BANNED_MAX) break
      this.#until.delete(p)
    }
  }

  /** Whether `peer` may connect now (an expired ban is forgotten). */
  admits (peer: AuthorKey, nowMs: number): boolean {
    const until = this.#until.get(peer)
    if (until !== undefined && until > nowMs) return false
    this.#until.delete(peer)
    return true
  }

  until (peer: AuthorKey): number | undefined {
    return this.#until.get(peer)
  }
}

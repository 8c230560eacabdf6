/**
 * The scheduler's rarest-first index: wanted blocks asked of no peer yet,
 * grouped by how many peers hold each (every group roughly in wanted
 * order), so a pick looks at the rarest group first and at a bounded number
 * of candidates in each. Group 0 (held by nobody left) are the orphans.
 * Pure bookkeeping; the scheduler (scheduler.ts) decides when a block is
 * wanted, asked or received.
 */
export class Unassigned {
  /** Per tracked (wanted) block: how many peers hold it. */
  readonly #holders = new Map<string, number>()
  /** Blocks to hand out, by their holder count. */
  readonly #groups = new Map<number, Set<string>>()
  #count = 0

  /** A block newly wanted, held by `holders` peers: to hand out. */
  track (hash: string, holders: number): void {
    this.#holders.set(hash, holders)
    this.assignable(hash, true)
  }

  /** No longer wanted (received, or given up): out of every group. */
  forget (hash: string): void {
    this.assignable(hash, false)
    this.#holders.delete(hash)
  }

  /** Whether a wanted block is among those to hand out (not asked of anyone). */
  assignable (hash: string, yes: boolean): void {
    const n = this.#holders.get(hash) ?? 0
    const group = this.#groups.get(n)
    if (yes) {
      if (group?.has(hash) === true) return
      if (group === undefined) this.#groups.set(n, new Set([hash]))
      else group.add(hash)
      this.#count++
    } else if (group?.delete(hash) === true) {
      this.#count--
      if (group.size === 0) this.#groups.delete(n)
    }
  }

  /** One more (or one fewer) peer holds the block: it moves to its new group, if it waits in one. */
  countHolder (hash: string, delta: number): void {
    const n = this.#holders.get(hash)
    if (n === undefined) return
    const waiting = this.#groups.get(n)?.has(hash) === true
    if (waiting) this.assignable(hash, false)
    this.#holders.set(hash, n + delta)
    if (waiting) this.assignable(hash, true)
  }

  /**
   * Rarest first: the first block `holds` says yes to in the rarest group it has any of (at most scanMax looked at per
   * group).
   */
  pick (holds: (hash: string) => boolean, scanMax: number): string | undefined {
    for (const n of [...this.#groups.keys()].sort((a, b) => a - b)) {
      if (n === 0) continue // nobody holds it: not this peer either
      let looked = 0
      for (const hash of this.#groups.get(n) as Set<string>) {
        if (holds(hash)) return hash
        if (++looked >= scanMax) break
      }
    }
    return undefined
  }

  /** Blocks to hand out that no peer holds. */
  orphans (): string[] {
    return [...this.#groups.get(0) ?? []]
  }

  get size (): number {
    return this.#count
  }
}

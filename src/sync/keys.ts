import { feedKeyOf, parseFeedKey as parseFeedKeyText } from '../ids/index.ts'
import type { AuthorKey, FeedKey } from '../ids/index.ts'

/**
 * Typed keys for the engine's state. A feed is named by the one constructor
 * of ids/ (feedKey) and read back by its one parser (parseFeedKey); state
 * indexed by several parts (space and feed, peer and space) is a TupleMap,
 * never a string glued from its parts and split again.
 */
export type { FeedKey }

export function feedKey (author: AuthorKey, epoch: number): FeedKey {
  return feedKeyOf(author, epoch)
}

/**
 * A feed key space/ made (its pending queue names feeds `author/epoch` too):
 * read back through the parser, so a key of another form throws, never plans.
 */
export function asFeedKey (key: string): FeedKey {
  const { author, epoch } = parseFeedKeyText(key)
  return feedKeyOf(author, epoch)
}

/** A feed key taken apart, by the ids/ parser: the author comes back typed only from there. */
export function parseFeedKey (fk: FeedKey): { readonly author: AuthorKey, readonly epoch: number } {
  return parseFeedKeyText(fk)
}

interface Slot<K, V> { readonly key: K, value: V }

/**
 * A map keyed by a tuple: nested maps for lookup, one set of slots for the
 * order of insertion over all keys (as a Map keeps it: iteration, first()).
 */
export class TupleMap<K extends readonly unknown[], V> {
  readonly #root = new Map<unknown, unknown>()
  readonly #order = new Set<Slot<K, V>>()

  get size (): number {
    return this.#order.size
  }

  get (key: K): V | undefined {
    return this.#find(key)?.value
  }

  has (key: K): boolean {
    return this.#find(key) !== undefined
  }

  set (key: K, value: V): this {
    let level = this.#root
    for (let i = 0; i < key.length - 1; i++) {
      let next = level.get(key[i]) as Map<unknown, unknown> | undefined
      if (next === undefined) level.set(key[i], next = new Map())
      level = next
    }
    const slot = level.get(key[key.length - 1]) as Slot<K, V> | undefined
    if (slot !== undefined) { slot.value = value; return this }
    const fresh: Slot<K, V> = { key, value }
    level.set(key[key.length - 1], fresh)
    this.#order.add(fresh)
    return this
  }

  delete (key: K): boolean {
    const path: Map<unknown, unknown>[] = [this.#root]
    for (let i = 0; i < key.length - 1; i++) {
      const next = path[i]?.get(key[i]) as Map<unknown, unknown> | undefined
      if (next === undefined) return false
      path.push(next)
    }
    const last = path[key.length - 1] as Map<unknown, unknown>
    const slot = last.get(key[key.length - 1]) as Slot<K, V> | undefined
    if (slot === undefined) return false
    this.#order.delete(slot)
    last.delete(key[key.length - 1])
    // Levels left empty are removed, so a map of many short-lived keys does not keep their prefixes.
    for (let i = key.length - 1; i > 0 && (path[i] as Map<unknown, unknown>).size === 0; i--) {
      path[i - 1]?.delete(key[i - 1])
    }
    return true
  }

  /** Every key whose first part is `head` (e.g. all a peer's). */
  deleteUnder (head: K[0]): void {
    for (const slot of [...this.#order]) if (slot.key[0] === head) this.#order.delete(slot)
    this.#root.delete(head)
  }

  /** The oldest key still held. */
  first (): K | undefined {
    return this.#order.values().next().value?.key
  }

  * entries (): IterableIterator<[K, V]> {
    for (const slot of this.#order) yield [slot.key, slot.value]
  }

  * values (): IterableIterator<V> {
    for (const slot of this.#order) yield slot.value
  }

  #find (key: K): Slot<K, V> | undefined {
    let level: unknown = this.#root
    for (const part of key) {
      if (!(level instanceof Map)) return undefined
      level = level.get(part)
    }
    // A key of the wrong length names a level or nothing, never a slot.
    return level instanceof Map ? undefined : level as Slot<K, V> | undefined
  }
}

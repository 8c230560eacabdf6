import assert from 'node:assert/strict'
import { compareBytes, toHex } from '../codec/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { Batch, FeedState, ForkProof, SignedRecord, Store, StoredEntry, ViewName } from './types.ts'

interface SpaceData {
  genesis?: SignedRecord
  feeds: Map<string, StoredEntry[]> // `${author}/${epoch}` -> entries by seq
  frozen: Map<string, number>
  byId: Map<EntryId, StoredEntry>
  forks: ForkProof[]
  views: Map<ViewName, Map<string, readonly [Uint8Array, Uint8Array]>>
}

/**
 * The store in memory: for unit tests and the simulator, where a "restart"
 * keeps the object. It passes the same contract suite as the SQLite store.
 * A commit is applied only after every check passed, so it is all or nothing.
 */
export class MemoryStore implements Store {
  readonly #spaces = new Map<SpaceKey, SpaceData>()

  commit (batch: Batch): void {
    const s = this.#space(batch.space, true)
    // Check every entry before changing anything, so a rejected batch leaves no trace.
    const lengths = new Map<string, number>()
    for (const e of batch.entries ?? []) {
      const key = feedKey(e.author, e.epoch)
      const length = lengths.get(key) ?? s.feeds.get(key)?.length ?? 0
      if (e.seq !== length) {
        assert.fail(`store: entry ${e.author}/${e.epoch}/${e.seq} does not extend its feed of ${length}`)
      }
      lengths.set(key, length + 1)
    }
    if (batch.genesis !== undefined) s.genesis = batch.genesis
    for (const e of batch.entries ?? []) {
      const key = feedKey(e.author, e.epoch)
      let chain = s.feeds.get(key)
      if (chain === undefined) s.feeds.set(key, chain = [])
      chain.push(e)
      s.byId.set(e.id, e)
    }
    for (const ref of batch.verified ?? []) {
      const e = typeof ref === 'string' ? s.byId.get(ref) : s.feeds.get(feedKey(ref.author, ref.epoch))?.[ref.seq]
      if (e === undefined || (typeof ref !== 'string' && e.id !== ref.id)) continue
      const v = { ...e, verified: true, sig: typeof ref === 'string' ? e.sig : ref.sig ?? e.sig }
      s.byId.set(e.id, v)
      const chain = s.feeds.get(feedKey(e.author, e.epoch))
      if (chain !== undefined) chain[e.seq] = v
    }
    for (const f of batch.forks ?? []) {
      const key = feedKey(f.author, f.epoch)
      const old = s.frozen.get(key)
      if (old === undefined || f.seq < old) s.frozen.set(key, f.seq)
      if (!s.feeds.has(key)) s.feeds.set(key, [])
      // One proof per feed, the lowest (decision 17): a lower one replaces the one held, a later one is not kept.
      const held = s.forks.find(k => k.author === f.author && k.epoch === f.epoch)
      if (held === undefined || f.seq < held.seq) {
        s.forks = s.forks.filter(k => k !== held)
        s.forks.push(f)
      }
    }
    if (batch.replaceViews === true) s.views.clear()
    for (const w of batch.viewWrites ?? []) {
      let rows = s.views.get(w.view)
      if (rows === undefined) s.views.set(w.view, rows = new Map())
      const k = toHex(w.key)
      if (w.value === null) rows.delete(k)
      else rows.set(k, [w.key, w.value])
    }
  }

  removeSpace (space: SpaceKey): void {
    this.#spaces.delete(space)
  }

  spaces (): SpaceKey[] {
    return [...this.#spaces.keys()].filter(k => this.#spaces.get(k)?.genesis !== undefined).sort()
  }

  genesis (space: SpaceKey): SignedRecord | undefined {
    return this.#space(space)?.genesis
  }

  feeds (space: SpaceKey): FeedState[] {
    const s = this.#space(space)
    if (s === undefined) return []
    return [...s.feeds.keys()].sort().map(k => this.#feedState(s, k))
  }

  feed (space: SpaceKey, author: AuthorKey, epoch: number): FeedState | undefined {
    const s = this.#space(space)
    const key = feedKey(author, epoch)
    return s?.feeds.has(key) === true ? this.#feedState(s, key) : undefined
  }

  entryAt (space: SpaceKey, author: AuthorKey, epoch: number, seq: number): StoredEntry | undefined {
    return this.#space(space)?.feeds.get(feedKey(author, epoch))?.[seq]
  }

  entryById (space: SpaceKey, id: EntryId): StoredEntry | undefined {
    return this.#space(space)?.byId.get(id)
  }

  holdsFindable (space: SpaceKey, id: EntryId): boolean {
    return this.#space(space)?.byId.has(id) === true
  }

  run (space: SpaceKey, author: AuthorKey, epoch: number, from: number, to: number, maxCount: number): StoredEntry[] {
    const chain = this.#space(space)?.feeds.get(feedKey(author, epoch)) ?? []
    return chain.slice(from, Math.min(to, from + maxCount))
  }

  lastVerified (space: SpaceKey, author: AuthorKey, epoch: number, before: number): number | undefined {
    const chain = this.#space(space)?.feeds.get(feedKey(author, epoch)) ?? []
    for (let seq = Math.min(before, chain.length) - 1; seq >= 0; seq--) if (chain[seq]?.verified === true) return seq
    return undefined
  }

  * entries (space: SpaceKey, kind?: 'acl' | 'data'): Iterable<StoredEntry> {
    const s = this.#space(space)
    if (s === undefined) return
    for (const key of [...s.feeds.keys()].sort()) {
      for (const e of s.feeds.get(key) ?? []) if (kind === undefined || e.kind === kind) yield e
    }
  }

  * dataPositions (space: SpaceKey, author: AuthorKey): Iterable<{ readonly epoch: number, readonly seq: number }> {
    for (const e of this.entries(space, 'data')) if (e.author === author) yield { epoch: e.epoch, seq: e.seq }
  }

  forks (space: SpaceKey): ForkProof[] {
    return [...(this.#space(space)?.forks ?? [])]
  }

  viewGet (space: SpaceKey, view: ViewName, key: Uint8Array): Uint8Array | undefined {
    return this.#space(space)?.views.get(view)?.get(toHex(key))?.[1]
  }

  viewRows (space: SpaceKey, view: ViewName): Iterable<readonly [Uint8Array, Uint8Array]> {
    const rows = [...(this.#space(space)?.views.get(view)?.values() ?? [])]
    return rows.sort((a, b) => compareBytes(a[0], b[0]))
  }

  viewRowsAfter (
    space: SpaceKey, view: ViewName, after: Uint8Array, limit: number
  ): Array<readonly [Uint8Array, Uint8Array]> {
    return [...this.viewRows(space, view)].filter(([key]) => compareBytes(key, after) > 0).slice(0, limit)
  }

  close (): void {}

  /** A copy that shares the immutable entries: many simulated nodes can start from one state. */
  clone (): MemoryStore {
    const copy = new MemoryStore()
    for (const [key, s] of this.#spaces) {
      copy.#spaces.set(key, {
        ...(s.genesis !== undefined ? { genesis: s.genesis } : {}),
        feeds: new Map([...s.feeds].map(([k, chain]) => [k, [...chain]])),
        frozen: new Map(s.frozen),
        byId: new Map(s.byId),
        forks: [...s.forks],
        views: new Map([...s.views].map(([k, rows]) => [k, new Map(rows)]))
      })
    }
    return copy
  }

  #space (space: SpaceKey, create: true): SpaceData
  #space (space: SpaceKey): SpaceData | undefined
  #space (space: SpaceKey, create = false): SpaceData | undefined {
    let s = this.#spaces.get(space)
    if (s === undefined && create) {
      s = { feeds: new Map(), frozen: new Map(), byId: new Map(), forks: [], views: new Map() }
      this.#spaces.set(space, s)
    }
    return s
  }

  #feedState (s: SpaceData, key: string): FeedState {
    const chain = s.feeds.get(key) ?? []
    // The one cast of this store: the key was made by feedKey() below from an AuthorKey, so its first part is one.
    const [author, epoch] = key.split('/') as [AuthorKey, string]
    const last = chain[chain.length - 1]
    const frozenAt = s.frozen.get(key) ?? null
    return { author, epoch: Number(epoch), count: chain.length, head: last?.id ?? null, frozenAt }

  }
}

function feedKey (author: AuthorKey, epoch: number): string {
  // Zero-padded so that string order is (author, epoch) order.
  return `${author}/${String(epoch).padStart(16, '0')}`
}

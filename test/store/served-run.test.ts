/**
 * SqliteStore.servedRun reads a run to serve as one row (its bytes and sigs
 * each as one blob, cut at the lengths it lists) and no further than
 * maxBytes. It must give the entries MemoryStore.run gives, as ServedEntry,
 * cut where serving cuts them (bytes totalling at most maxBytes): with
 * verified flags mixed and in stretches, bytes that are not text (NULs,
 * bytes over 0x7f), lengths from 0 up, ranges past a feed's end, an epoch
 * with no entries, and other feeds in the space.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import type { ServedEntry, Store, StoredEntry } from '../../src/store/index.ts'
import { authorKey, entryId, spaceKey } from '../helpers/ids.ts'

const SPACE = spaceKey('served-run')
const AA = authorKey(1)
const BB = authorKey(2)

/** A small deterministic generator (xorshift32): the same entries on every run. */
function rng (seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

function feedEntries (author: typeof AA, epoch: number, count: number, next: () => number): StoredEntry[] {
  const out: StoredEntry[] = []
  for (let seq = 0; seq < count; seq++) {
    // Lengths 0 to ~300 (now and then a big one), every byte value; sigs mostly 64 bytes, some shorter.
    const length = seq === 3 ? 0 : next() < 0.05 ? 2000 + Math.floor(next() * 3000) : Math.floor(next() * 300)
    const bytes = Uint8Array.from({ length }, (_, i) => i % 7 === 0 ? 0 : Math.floor(next() * 256))
    const sig = Uint8Array.from({ length: next() < 0.1 ? Math.floor(next() * 64) : 64 }, () => Math.floor(next() * 256))
    // Verified in stretches: long runs of unverified entries between verified ones.
    const verified = seq % 17 === 16 || (seq > 40 && seq < 48) || next() < 0.05
    const id = entryId((author === AA ? 1e7 : 2e7) + epoch * 1e5 + seq)
    out.push({ author, epoch, seq, id, bytes, sig, verified, kind: seq === 0 ? 'acl' : 'data' })
  }
  return out
}

/** What serving sends of run(): ServedEntry values, cut before the first entry that would pass maxBytes. */
function expected (store: Store, author: typeof AA, epoch: number, from: number, to: number, maxCount: number, maxBytes: number): ServedEntry[] {
  const out: ServedEntry[] = []
  let total = 0
  for (const e of store.run(SPACE, author, epoch, from, to, maxCount)) {
    if (total + e.bytes.length > maxBytes) break
    total += e.bytes.length
    out.push({ seq: e.seq, bytes: e.bytes, sig: e.sig, verified: e.verified })
  }
  return out
}

function withBoth (fn: (memory: MemoryStore, sqlite: SqliteStore) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'served-run-store-'))
  const sqlite = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    const memory = new MemoryStore()
    const next = rng(29)
    const entries = [...feedEntries(AA, 0, 300, next), ...feedEntries(AA, 2, 40, next), ...feedEntries(BB, 0, 120, next)]
    for (const store of [memory, sqlite] as Store[]) {
      // In several commits, and some flags set by a later batch (by position, as serving does).
      store.commit({ space: SPACE, entries: entries.slice(0, 200) })
      store.commit({ space: SPACE, entries: entries.slice(200) })
      store.commit({ space: SPACE, verified: [{ author: AA, epoch: 0, seq: 5, id: entries[5]!.id }] })
    }
    fn(memory, sqlite)
  } finally {
    sqlite.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test('servedRun gives the entries run() gives, as ServedEntry, cut at maxBytes, for any range and bound', () => withBoth((memory, sqlite) => {
  const next = rng(1234)
  const feeds: Array<[typeof AA, number, number]> = [[AA, 0, 300], [AA, 1, 0], [AA, 2, 40], [BB, 0, 120], [BB, 9, 0]]
  let cut = 0
  let checked = 0
  for (let i = 0; i < 400; i++) {
    const [author, epoch, count] = feeds[i % feeds.length]!
    const from = Math.floor(next() * (count + 5))
    const to = from + Math.floor(next() * (count + 10))
    const maxCount = next() < 0.3 ? 1024 : Math.floor(next() * 60)
    const maxBytes = next() < 0.3 ? 2 * 1024 * 1024 : Math.floor(next() * 8000)
    const want = expected(memory, author, epoch, from, to, maxCount, maxBytes)
    const got = sqlite.servedRun(SPACE, author, epoch, from, to, maxCount, maxBytes)
    assert.deepEqual(got, want, `${author.slice(0, 4)}/${epoch} [${from}, ${to}) max ${maxCount} entries, ${maxBytes} B`)
    if (want.length < memory.run(SPACE, author, epoch, from, to, maxCount).length) cut++
    checked += want.length
  }
  // The cases reached what they are for: bounds that cut, and many entries compared.
  assert.ok(cut > 50, `${cut} runs cut by maxBytes`)
  assert.ok(checked > 2000, `${checked} entries compared`)
}))

test('servedRun reads no more than maxBytes: exactly at the bound, one byte under it, and none when the first entry passes it', () => withBoth((memory, sqlite) => {
  const all = memory.run(SPACE, AA, 0, 10, 30, 100)
  const fivePlus = all.slice(0, 5).reduce((n, e) => n + e.bytes.length, 0)
  assert.deepEqual(sqlite.servedRun(SPACE, AA, 0, 10, 30, 100, fivePlus).map(e => e.seq), [10, 11, 12, 13, 14])
  const under = sqlite.servedRun(SPACE, AA, 0, 10, 30, 100, fivePlus - 1).map(e => e.seq)
  assert.deepEqual(under, all[4]!.bytes.length === 0 ? [10, 11, 12, 13, 14] : [10, 11, 12, 13])
  const first = all[0]!.bytes.length
  assert.ok(first > 0)
  assert.deepEqual(sqlite.servedRun(SPACE, AA, 0, 10, 30, 100, first - 1), [])
  assert.deepEqual(sqlite.servedRun(SPACE, AA, 0, 10, 30, 100, 0), [])
  assert.deepEqual(sqlite.servedRun(SPACE, AA, 0, 10, 30, 100, -1), [])
}))

import assert from 'node:assert/strict'
import type { SQLInputValue } from 'node:sqlite'
import type { EntryId, SpaceKey } from '../ids/index.ts'
import type { Batch, EntryRef, StoredEntry } from './types.ts'
import { idValue, num, toEntry } from './sqlite-rows.ts'
import { entryRowById } from './sqlite-statements.ts'
import type { Statements } from './sqlite-statements.ts'

/**
 * The writes of one Batch, inside the transaction SqliteStore.commit opened
 * (it commits or rolls back; this module never does). Entries must extend
 * their feed: a seq that is not the feed's count throws, and the whole batch
 * is rolled back with it.
 */

/** What a commit knows of one feed it extends: checked and updated in JS, written once per batch. */
interface FeedTip { fid: number, count: number, head: EntryId | null, changed: boolean }

/** Writes `batch` of `space` (number `sid`, undefined if it has none yet); returns the number it created, if any. */
export function writeBatch (s: Statements, space: SpaceKey, sid: number | undefined, batch: Batch): number | undefined {
  let created: number | undefined
  const needSid = (): number => {
    if (sid === undefined) sid = created = num(s.putSpace.run(space).lastInsertRowid)
    return sid
  }
  if (batch.genesis !== undefined) s.putGenesis.run(needSid(), batch.genesis.bytes, batch.genesis.sig)
  const entries = batch.entries ?? []
  if (entries.length > 0) writeEntries(s, needSid(), entries, new Set(batch.findById), batch.entryIdBytes)
  if (sid !== undefined) for (const ref of batch.verified ?? []) markVerified(s, sid, ref)
  for (const f of batch.forks ?? []) {
    const at = needSid()
    s.freezeFeed.run(at, f.author, f.epoch, f.seq)
    // One proof per feed, the lowest (decision 17): a lower one replaces the one held, a later one is not kept.
    s.dropLaterForks.run(at, f.author, f.epoch, f.seq)
    s.putFork.run(at, f.author, f.epoch, f.seq, f.a[0], f.a[1], f.b[0], f.b[1])
  }
  if (batch.replaceViews === true && sid !== undefined) s.clearViews.run(sid)
  const writes = batch.viewWrites ?? []
  if (writes.length > 0) {
    const at = needSid()
    // Puts several per statement; a delete runs after the puts before it, so the writes land in their order.
    let puts: SQLInputValue[] = []
    for (const w of writes) {
      if (w.value !== null) {
        puts.push(at, w.view, w.key, w.value)
        continue
      }
      s.putViews.run(puts)
      puts = []
      s.deleteView.run(at, w.view, w.key)
    }
    s.putViews.run(puts)
  }
  return created
}

/** Marks one entry verified; an unknown one (or a position holding another id) is ignored. */
function markVerified (s: Statements, sid: number, ref: EntryRef): void {
  if (typeof ref !== 'string') {
    s.markVerifiedAt.run(sid, ref.author, ref.epoch, ref.seq, idValue(ref.id), ref.sig ?? null)
    return
  }
  const r = entryRowById(s, sid, idValue(ref))
  if (r !== undefined) markVerified(s, sid, toEntry(r))
}

function writeEntries (
  s: Statements, sid: number, entries: readonly StoredEntry[], byId: ReadonlySet<EntryId>,
  idBytes: readonly Uint8Array[] | undefined
): void {
  const tips = new Map<string, FeedTip>()
  let tip: FeedTip | undefined
  let tipAuthor = ''
  let tipEpoch = -1
  const rows: SQLInputValue[] = []
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as StoredEntry
    if (tip === undefined || e.author !== tipAuthor || e.epoch !== tipEpoch) {
      const key = `${e.author}/${e.epoch}`
      tip = tips.get(key)
      if (tip === undefined) {
        tip = feedTip(s, sid, e.author, e.epoch)
        tips.set(key, tip)
      }
      tipAuthor = e.author
      tipEpoch = e.epoch
    }
    // space/ hands over only runs that extend their feeds: anything else is our bug, never a peer's doing.
    if (e.seq !== tip.count) {
      assert.fail(`store: entry ${e.author}/${e.epoch}/${e.seq} does not extend its feed of ${tip.count}`)
    }
    rows.push(tip.fid, e.seq, idBytes?.[i] ?? idValue(e.id), e.bytes, e.sig, e.verified ? 1 : 0, e.kind)
    if (byId.size > 0 && byId.has(e.id)) s.putEntryId.run(idValue(e.id), tip.fid, e.seq)
    tip.count++
    tip.head = e.id
    tip.changed = true
  }
  s.putEntries.run(rows)
  for (const t of tips.values()) if (t.changed) s.extendFeed.run(t.count, t.head, t.fid)
}

/** The feed's row, created empty if the space has none for (author, epoch). */
function feedTip (s: Statements, sid: number, author: string, epoch: number): FeedTip {
  const r = s.feedTip.get(sid, author, epoch)
  if (r !== undefined) return { fid: num(r['fid']), count: num(r['count']), head: null, changed: false }
  const fid = num(s.putFeed.run(sid, author, epoch, 0, null, null).lastInsertRowid)
  return { fid, count: 0, head: null, changed: false }

}

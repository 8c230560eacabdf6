import { backup, DatabaseSync } from 'node:sqlite'
import type { SQLOutputValue, StatementSync } from 'node:sqlite'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { Batch, FeedState, ForkProof, ServedEntry, SignedRecord, Store, StoredEntry, ViewName } from './types.ts'
import { writeBatch } from './sqlite-batch.ts'
import {
  authorKeyText, bytes, idValue, num, spaceKeyText, toEntry, toFeed, toRunEntry, toServedRun
} from './sqlite-rows.ts'
import { removeSpaceRows } from './sqlite-remove.ts'
import { migrate } from './sqlite-schema.ts'
import { ownerOnly, unusableStore } from './sqlite-file.ts'
import { WalSync } from './wal-sync.ts'
import type { Fsync } from './wal-sync.ts'
import {
  ACL_ENTRIES_SQL, DATA_ENTRIES_SQL, DATA_POSITIONS_SQL, ENTRIES_SQL, entryRowById, prepare
} from './sqlite-statements.ts'
import type { Statements } from './sqlite-statements.ts'

/** The WAL's pages between two automatic checkpoints (SQLite's default is 1,000; why more: the constructor). */
const WAL_CHECKPOINT_PAGES = 4000

/**
 * The store on disk, in one SQLite file (node:sqlite). A commit is one
 * IMMEDIATE transaction with synchronous=FULL: once commit() returns, the
 * batch is durable; if it throws, nothing of it was applied. Commits made
 * inside unsynced() (the group commit of live writes) skip that fsync
 * (synchronous=NORMAL) and are durable once synced() resolves: one fsync
 * of the WAL on the thread pool for many commits (wal-sync.ts), while the
 * event loop goes on.
 *
 * Map: the schema and its migrations are sqlite-schema.ts, the statements
 * sqlite-statements.ts, a batch's writes sqlite-batch.ts, rows to types
 * sqlite-rows.ts; this class owns the connection, the transaction and the
 * cache of space numbers.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync
  readonly #s: Statements
  readonly #meta: { readonly get: StatementSync, readonly set: StatementSync }
  /** Space numbers known to be committed (removeSpace() forgets the one it removes: SQLite may reuse it). */
  readonly #sids = new Map<SpaceKey, number>()
  /** The shared entries() statements are being iterated: a nested call prepares its own. */
  #entriesBusy = false
  /** Syncs the WAL for synced(); null when SQLite could not use WAL mode: then every commit syncs itself. */
  readonly #wal: WalSync | null
  /** Inside unsynced(): commits return before their fsync. */
  #unsynced = false
  #unsyncedCommits = 0

  /** `fsync`: how the WAL is synced for synced() (tests inject a slow or failing one). */
  static open (file: string, opts: { readonly fsync?: Fsync | undefined } = {}): SqliteStore {
    ownerOnly(file)
    try {
      return new SqliteStore(new DatabaseSync(file), new WalSync(file, opts.fsync))
    } catch (err) {
      throw unusableStore(file, err)
    }
  }

  private constructor (db: DatabaseSync, wal: WalSync) {
    this.#db = db
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      // A file system without the shared memory WAL needs keeps the rollback journal, and FULL for every commit.
      this.#wal = db.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'] === 'wal' ? wal : null
      db.exec('PRAGMA synchronous = FULL')
      db.exec('PRAGMA foreign_keys = OFF')
      // A statement that writes several rows keeps the pages it changed in a statement journal, to undo itself
      // alone; past 64 KiB SQLite moved it to a temporary file, created and deleted per statement (a group commit
      // of kv writes did ~350 a second). In memory it is at most the pages one statement changes.
      db.exec('PRAGMA temp_store = MEMORY')
      // A checkpoint copies each page the WAL changed since the last one into the database file, on the committing
      // thread (the event loop). Every 4,000 pages (a WAL of ~16 MB) instead of SQLite's 1,000, a page written again
      // and again (a feed's last pages, the trees' inner pages) is copied a quarter as often: live writes from 64
      // API clients 11,692-12,255/s against 10,842-11,150 (3 alternated pairs). A late joiner is no faster.
      db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`)
      migrate(db)
      this.#s = prepare(db)
      this.#meta = {
        get: db.prepare('SELECT value FROM meta WHERE name = ?'),
        set: db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)')
      }
    } catch (err) {
      db.close()
      throw err
    }
  }

  commit (batch: Batch): void {
    // A failed sync of the WAL: what it held may be lost, and a later sync would not tell (wal-sync.ts).
    const failure = this.#wal?.failure()
    if (failure !== undefined) throw failure
    // NORMAL, never OFF: a commit skips its fsync, but a checkpoint it runs still syncs the WAL and the database file.
    const relaxed = batch.durable === false || (this.#unsynced && this.#wal !== null)
    let created: number | undefined
    if (relaxed) this.#db.exec('PRAGMA synchronous = NORMAL')
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      created = writeBatch(this.#s, batch.space, this.#sidOf(batch.space), batch)
      this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw err
    } finally {
      if (relaxed) this.#db.exec('PRAGMA synchronous = FULL')
    }
    if (created !== undefined) this.#sids.set(batch.space, created)
    // A batch that asked for no durability (status records) needs no sync: only the others are counted.
    if (this.#unsynced && batch.durable !== false) this.#unsyncedCommits++
  }

  /** Durable-meant commits made inside unsynced() so far: one made since a look needs a synced() to be durable. */
  get unsyncedCommits (): number {
    return this.#unsyncedCommits
  }

  /**
   * Runs `write` with its commits made without their fsync: each returns
   * once written (a SIGKILL keeps it), and is durable (power loss keeps it)
   * once a synced() called after it resolves.
   */
  unsynced<T> (write: () => T): T {
    const outer = this.#unsynced
    this.#unsynced = true
    try {
      return write()
    } finally {
      this.#unsynced = outer
    }
  }

  /** Resolves once every commit that returned before this call is durable; rejects if the disk failed to sync. */
  async synced (): Promise<void> {
    await this.#wal?.synced(this.#unsyncedCommits)
  }

  /** Whether the store refuses every commit until a restart: a sync of its WAL failed (wal-sync.ts). */
  get refusesCommits (): boolean {
    return this.#wal?.failure() !== undefined
  }

  /** The space's number if it has one (committed, or created by the open transaction). */
  #sidOf (space: SpaceKey): number | undefined {
    const known = this.#sids.get(space)
    if (known !== undefined) return known
    const r = this.#s.sid.get(space)
    if (r === undefined) return undefined
    const sid = num(r['sid'])
    if (!this.#db.isTransaction) this.#sids.set(space, sid)
    return sid
  }

  /** Every row of the space, in one transaction with synchronous=FULL: durable once it returns. */
  removeSpace (space: SpaceKey): void {
    // As commit(): after a failed sync of the WAL nothing is committed (and so nothing is promised durable).
    const failure = this.#wal?.failure()
    if (failure !== undefined) throw failure
    const sid = this.#sidOf(space)
    if (sid === undefined) return
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      removeSpaceRows(this.#db, sid)
      this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw err
    } finally {
      this.#sids.delete(space)
    }
  }

  /** The author key of the node this store belongs to, once recorded (a store of schema 3 or older has none). */
  nodeAuthor (): AuthorKey | undefined {
    const r = this.#meta.get.get('author')
    return r === undefined ? undefined : authorKeyText(r['value'])
  }

  /** Records the node's author key (synchronous=FULL, outside any batch: durable once it returns). */
  recordNodeAuthor (author: AuthorKey): void {
    this.#meta.set.run('author', author)
  }

  spaces (): SpaceKey[] {
    return this.#s.spaces.all().map(r => spaceKeyText(r['space'])).sort()
  }

  genesis (space: SpaceKey): SignedRecord | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.genesis.get(sid)
    return r === undefined ? undefined : { bytes: bytes(r['bytes']), sig: bytes(r['sig']) }
  }

  feeds (space: SpaceKey): FeedState[] {
    const sid = this.#sidOf(space)
    return sid === undefined ? [] : this.#s.feeds.all(sid).map(toFeed)
  }

  feed (space: SpaceKey, author: AuthorKey, epoch: number): FeedState | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.feed.get(sid, author, epoch)
    return r === undefined ? undefined : toFeed(r)
  }

  entryAt (space: SpaceKey, author: AuthorKey, epoch: number, seq: number): StoredEntry | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.entryAt.get(sid, author, epoch, seq)
    return r === undefined ? undefined : toEntry(r)
  }

  entryById (space: SpaceKey, id: EntryId): StoredEntry | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : entryRowById(this.#s, sid, idValue(id))
    return r === undefined ? undefined : toEntry(r)
  }

  holdsFindable (space: SpaceKey, id: EntryId): boolean {
    const sid = this.#sidOf(space)
    return sid !== undefined && this.#s.findable.get(idValue(id), sid) !== undefined
  }

  run (space: SpaceKey, author: AuthorKey, epoch: number, from: number, to: number, maxCount: number): StoredEntry[] {
    // Seqs are contiguous from 0, so a seq range is a count range; no LIMIT (a negative one means none).
    const end = Math.min(to, from + Math.max(0, maxCount))
    if (!(end > from)) return []
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    const rows = this.#s.run.all(sid, author, epoch, from, end) as unknown as readonly SQLOutputValue[][]
    return rows.map(r => toRunEntry(author, epoch, r))
  }

  servedRun (
    space: SpaceKey, author: AuthorKey, epoch: number, from: number, to: number, maxCount: number, maxBytes: number
  ): ServedEntry[] {
    const end = Math.min(to, from + Math.max(0, maxCount))
    if (!(end > from) || !(maxBytes >= 0)) return []
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    const row = this.#s.servedRun.get(sid, author, epoch, from, end, maxBytes) as unknown as readonly SQLOutputValue[]
    return toServedRun(row)
  }

  lastVerified (space: SpaceKey, author: AuthorKey, epoch: number, before: number): number | undefined {
    const sid = this.#sidOf(space)
    const v = sid === undefined ? undefined : this.#s.lastVerified.get(sid, author, epoch, before)?.['seq']
    return v === undefined || v === null ? undefined : num(v)
  }

  * entries (space: SpaceKey, kind?: 'acl' | 'data'): Iterable<StoredEntry> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return
    const sql = kind === undefined ? ENTRIES_SQL : kind === 'acl' ? ACL_ENTRIES_SQL : DATA_ENTRIES_SQL
    const shared = !this.#entriesBusy
    let stmt: StatementSync
    if (shared) {
      stmt = kind === undefined ? this.#s.entries : kind === 'acl' ? this.#s.aclEntries : this.#s.dataEntries
      this.#entriesBusy = true
    } else {
      stmt = this.#db.prepare(sql)
    }
    const it = stmt.iterate(sid)
    try {
      for (const r of it) yield toEntry(r)
    } finally {
      it.return?.()
      if (shared) this.#entriesBusy = false
    }
  }

  * dataPositions (space: SpaceKey, author: AuthorKey): Iterable<{ readonly epoch: number, readonly seq: number }> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return
    // Prepared per call: iterations may nest, and this is called only when an ACL entry arrives.
    for (const r of this.#db.prepare(DATA_POSITIONS_SQL).iterate(sid, author)) {
      yield { epoch: num(r['epoch']), seq: num(r['seq']) }
    }
  }

  forks (space: SpaceKey): ForkProof[] {
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    return this.#s.forks.all(sid).map(r => ({
      author: authorKeyText(r['author']),
      epoch: num(r['epoch']),
      seq: num(r['seq']),
      a: [bytes(r['a_bytes']), bytes(r['a_sig'])] as const,
      b: [bytes(r['b_bytes']), bytes(r['b_sig'])] as const
    }))
  }

  viewGet (space: SpaceKey, view: ViewName, key: Uint8Array): Uint8Array | undefined {
    const sid = this.#sidOf(space)
    const r = sid === undefined ? undefined : this.#s.viewGet.get(sid, view, key)
    return r === undefined ? undefined : bytes(r['value'])
  }

  viewGetMany (space: SpaceKey, view: ViewName, hexKeys: readonly string[]): Map<string, Uint8Array> {
    const rows = new Map<string, Uint8Array>()
    const sid = this.#sidOf(space)
    if (sid === undefined || hexKeys.length === 0) return rows
    for (const r of this.#s.viewGetMany.all(sid, view, JSON.stringify(hexKeys))) {
      const key = bytes(r['key'])
      rows.set(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex'), bytes(r['value']))
    }
    return rows
  }

  /** A snapshot (like MemoryStore's): SQLite orders BLOB keys by memcmp, then length, which is bytewise order. */
  viewRows (space: SpaceKey, view: ViewName): Iterable<readonly [Uint8Array, Uint8Array]> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    return this.#s.viewRows.all(sid, view).map(r => [bytes(r['key']), bytes(r['value'])] as const)
  }

  viewRowsAfter (
    space: SpaceKey, view: ViewName, after: Uint8Array, limit: number
  ): Array<readonly [Uint8Array, Uint8Array]> {
    const sid = this.#sidOf(space)
    if (sid === undefined) return []
    return this.#s.viewRowsAfter.all(sid, view, after, limit).map(r => [bytes(r['key']), bytes(r['value'])] as const)
  }

  /** Syncs the commits still waiting for synced(), then closes the database. */
  close (): void {
    if (!this.#db.isOpen) return
    this.#wal?.close()
    this.#db.close()
  }

  /**
   * SQLite's online backup of the open database into `file` (overwritten if
   * it exists: the caller decides where). A consistent snapshot even while
   * commits go on; never a file copy of a live database (decision 15).
   * Resolves with the number of pages copied.
   */
  async backup (file: string): Promise<number> {
    return await backup(this.#db, file, { rate: 1000 })
  }
}

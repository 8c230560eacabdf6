/**
 * The store's contract: what space/ needs persisted, and nothing about how.
 * One implementation is backed by node:sqlite (the real one), one by memory
 * (fast tests and the simulator); test/store/contract.ts runs the same suite
 * against both.
 *
 * Ids are the branded ids of ids/ (SpaceKey, AuthorKey, EntryId: map keys
 * in memory, TEXT or BLOB in SQLite). Entry bytes and signatures are kept
 * exactly as received: the id is the hash of those bytes.
 */
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'

/** An entry as stored: its position, its exact bytes and signature, and whether its own signature was verified. */
export interface StoredEntry {
  readonly author: AuthorKey
  readonly epoch: number
  readonly seq: number
  readonly id: EntryId
  readonly bytes: Uint8Array
  readonly sig: Uint8Array
  /** Its own signature was checked (decision 2): runs are served only up to such entries. */
  readonly verified: boolean
  /** 'acl' entries are read back on open to rebuild the ACL; 'data' entries only on a view rebuild. */
  readonly kind: 'acl' | 'data'
}

/** What a server sends of a stored entry (serving.ts): no id, no kind. */
export type ServedEntry = Pick<StoredEntry, 'seq' | 'bytes' | 'sig' | 'verified'>

/** An entry by id, or (found without an id lookup) by its position, checked against its id. */
/**
 * A stored entry, by id or position. As one verified (Batch.verified), a position may carry `sig`: the signature
 * verified, which replaces the one held (an author's entry relayed with its signature garbled, then with its own).
 */
export type EntryRef = EntryId | (Pick<StoredEntry, 'author' | 'epoch' | 'seq' | 'id'> & { readonly sig?: Uint8Array })

/** What a node holds of one feed (a row of its version vector). */
export interface FeedState {
  readonly author: AuthorKey
  readonly epoch: number
  /** Entries held: seqs 0..count-1 (always contiguous from 0). */
  readonly count: number
  /** Id of entry count-1, null when count is 0. */
  readonly head: EntryId | null
  /** Seq of a proven fork, or null. Nothing at or after it is served or pulled. */
  readonly frozenAt: number | null
}

/** Two authentic entries at one position: kept as evidence, forwarded to every neighbour. */
export interface ForkProof {
  readonly author: AuthorKey
  readonly epoch: number
  readonly seq: number
  readonly a: readonly [Uint8Array, Uint8Array]
  readonly b: readonly [Uint8Array, Uint8Array]
}

export interface SignedRecord { readonly bytes: Uint8Array, readonly sig: Uint8Array }

export type ViewName = 'kv' | 'counter' | 'ledger' | 'files' | 'acl' | 'status'

/** Set (value) or delete (null) one row of a view. Keys order rows bytewise. */
export interface ViewWrite {
  readonly view: ViewName
  readonly key: Uint8Array
  readonly value: Uint8Array | null
}

/**
 * Everything one ingest step changes in one space, committed together or not
 * at all: an entry never exists without the view updates it causes.
 */
export interface Batch {
  readonly space: SpaceKey
  readonly genesis?: SignedRecord
  readonly entries?: readonly StoredEntry[]
  /**
   * The ids of `entries` as their 32 bytes, in the same order, when the
   * writer holds them (a received run hashed them): the store then binds
   * these instead of parsing each hex id back to bytes.
   */
  readonly entryIdBytes?: readonly Uint8Array[]
  /** Stored entries whose own signature was verified since they were stored (an unknown one is ignored). */
  readonly verified?: readonly EntryRef[]
  /**
   * Ids of this batch's entries that readers look up by id (file versions,
   * named by the files view): SqliteStore keeps only these in its id table.
   * entryById finds every other entry too, by a scan of its space.
   */
  readonly findById?: readonly EntryId[]
  /** Fork proofs to keep (the lowest per feed), each freezing its feed at its seq. */
  readonly forks?: readonly ForkProof[]
  /** Clear every view row of the space before applying viewWrites (a rebuild after an ACL change or a fork). */
  readonly replaceViews?: boolean
  readonly viewWrites?: readonly ViewWrite[]
  /**
   * false: the batch may be lost in a power cut (no fsync at commit). For
   * status records only: telemetry that is replaced every few seconds and
   * sent again by its author, where an fsync each would cost more than it keeps.
   */
  readonly durable?: boolean
}

export interface Store {
  /** Durable once it returns (unless batch.durable is false, or inside SqliteStore.unsynced()); all or nothing. */
  commit (batch: Batch): void
  spaces (): SpaceKey[]
  genesis (space: SpaceKey): SignedRecord | undefined
  feeds (space: SpaceKey): FeedState[]
  feed (space: SpaceKey, author: AuthorKey, epoch: number): FeedState | undefined
  entryAt (space: SpaceKey, author: AuthorKey, epoch: number, seq: number): StoredEntry | undefined
  entryById (space: SpaceKey, id: EntryId): StoredEntry | undefined
  /**
   * Whether entry `id` is stored among those kept findable by id (Batch.findById: file versions), with no scan: a
   * folder asks it of every file it knows at start (a store restored from a backup lacks the versions recorded after).
   */
  holdsFindable (space: SpaceKey, id: EntryId): boolean
  /** Entries of one feed with from <= seq < to, in seq order, at most maxCount of them. */
  run (space: SpaceKey, author: AuthorKey, epoch: number, from: number, to: number, maxCount: number): StoredEntry[]
  /**
   * run() without the ids and kinds, which serving never reads, and only its first entries whose bytes total at
   * most maxBytes (what one answer may carry): a seeder reads up to 1,024 entries per answer, and each id (a blob,
   * then its hex) was about half of what a late joiner's seeder promoted to V8's old generation. The same entries
   * as run() would give, cut to maxBytes. Optional, as a store that holds entries in memory gives them at no cost.
   */
  servedRun? (
    space: SpaceKey, author: AuthorKey, epoch: number, from: number, to: number, maxCount: number, maxBytes: number
  ): ServedEntry[]
  /** The highest seq < before whose own signature was verified, or undefined. */
  lastVerified (space: SpaceKey, author: AuthorKey, epoch: number, before: number): number | undefined
  /** Every stored entry of a space (of one kind, if given), in (author, epoch, seq) order. */
  entries (space: SpaceKey, kind?: 'acl' | 'data'): Iterable<StoredEntry>
  /** Positions of one author's data entries, in (epoch, seq) order: what an ACL change could reach back over. */
  dataPositions (space: SpaceKey, author: AuthorKey): Iterable<{ readonly epoch: number, readonly seq: number }>
  forks (space: SpaceKey): ForkProof[]
  viewGet (space: SpaceKey, view: ViewName, key: Uint8Array): Uint8Array | undefined
  /**
   * The rows of several keys (each as hex) in one read, by hex key; a key without a row is absent from the map.
   * Optional: a store without it is read key by key.
   */
  viewGetMany? (space: SpaceKey, view: ViewName, hexKeys: readonly string[]): Map<string, Uint8Array>
  /** Rows of a view in key order. */
  viewRows (space: SpaceKey, view: ViewName): Iterable<readonly [Uint8Array, Uint8Array]>
  /** At most `limit` rows of a view whose keys sort after `after` (empty: from the first), in key order. */
  viewRowsAfter (
    space: SpaceKey, view: ViewName, after: Uint8Array, limit: number
  ): Array<readonly [Uint8Array, Uint8Array]>
  /**
   * Every row of the space (genesis, feeds, entries, fork proofs, views), in one durable commit: the node left it.
   * A later adopt of the same space starts from nothing.
   */
  removeSpace (space: SpaceKey): void
  close (): void
}

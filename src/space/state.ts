import { compareClocks, storedEntryClock } from '../codec/index.ts'
import type { Clock, Entry, Position, SignedGenesis } from '../codec/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { authorKeyOf, spaceKeyOf } from '../ids/index.ts'
import type { FeedState, ForkProof, Store, StoredEntry } from '../store/index.ts'
import type { Acl } from './acl.ts'
import { computeAcl } from './acl-compute.ts'
import { NOTHING_RELEASED } from './outcome.ts'
import type { ReleasedByLocal } from './outcome.ts'
import type { ForkAt } from './acl-compute.ts'
import { CopiesElsewhere } from './copies-elsewhere.ts'
import { ForkHolds } from './fork-holds.ts'
import { PendingQueue } from './pending.ts'
import { readOrSkip } from './reads.ts'
import { atLeast } from './roles.ts'
import { decodeStoredEntry } from './signing.ts'
import { isDataBody, KvOrderCache } from './views.ts'

/**
 * What one replica of a space holds in memory beside its store: the state
 * shared by the modules that make up SpaceReplica (their map is on that
 * class, replica.ts). Those modules are plain functions over this state and
 * keep none of their own. Only commits.ts assigns `acl` and extends
 * `aclEntries`, once the commit succeeded; only local writes and commits
 * move `clock`, forward.
 */
export class ReplicaState {
  readonly store: Store
  readonly key: SpaceKey
  readonly id: Uint8Array
  readonly genesis: SignedGenesis
  readonly owner: AuthorKey
  /** Every stored acl entry, decoded (extended by commits.ts only, after the commit). */
  readonly aclEntries: Entry[]
  /** The ACL of `aclEntries` and the fork proofs held (assigned by commits.ts only, after the commit). */
  acl: Acl
  /** The latest clock this replica signed or stored: local entries are signed after it. */
  clock: Clock
  readonly pending = new PendingQueue()
  /** Proofs of authors whose hold lasts, waiting for it to end (fork-holds.ts). */
  readonly forkHolds = new ForkHolds()
  /** Stored entries whose own signature a serve found botched, in the order found (serving.ts). */
  readonly botchedSigs = new Set<string>()
  /** A valid entry that differs from ours where ours is botched, per position (copies-elsewhere.ts). */
  readonly copiesElsewhere = new CopiesElsewhere()
  /** The epoch this replica opened for each local author (decision 15). */
  readonly epochs = new Map<AuthorKey, number>()
  readonly headClocks = new Map<string, Clock>()
  /** The order of committed kv rows (this replica is the only writer of its space's views, like headClocks assumes). */
  readonly kvOrders = new KvOrderCache(10_000)
  /** Added to the epochs opened for local authors (epochs.ts). */
  readonly epochSalt: number
  /** A revoke of a local author a peer showed us before we store it (decision 18: a revoked node is told). */
  readonly revokedNotices = new Map<AuthorKey, Entry>()
  readonly judgedNotices = new Set<string>()
  /** Chunk-list parts recorded here, by content (file-versions.ts): an edited big file names unchanged ones again. */
  readonly recordedParts = new Map<string, Position>()
  /** An epoch local authors open above, though the store no longer holds it (a space left and joined again). */
  epochFloor = 0
  /**
   * What the last local write let out of pending (stored with it: a grant admits entries a peer sent before it), and
   * what was wrong with what it let out, for the sync layer to announce, charge and probe
   * (SpaceReplica.takeReleasedByLocal). Only the last write's: held until the next one.
   */
  releasedByLocal: ReleasedByLocal = NOTHING_RELEASED

  constructor (store: Store, genesis: SignedGenesis, epochSalt: number) {
    this.store = store
    this.epochSalt = epochSalt
    this.genesis = genesis
    this.key = spaceKeyOf(genesis.cid)
    this.id = genesis.cid.bytes
    this.owner = authorKeyOf(genesis.owner)
    this.aclEntries = [...store.entries(this.key, 'acl')].map(e => decodeStoredEntry(e.bytes, e.sig))
    this.acl = this.computeAcl(this.aclEntries)
    this.clock = { wallMs: 0, counter: 0 }
    for (const f of store.feeds(this.key)) {
      const c = this.headClock(f)
      if (c !== undefined && compareClocks(c, this.clock) > 0) this.clock = c
    }
  }

  /** The ACL of `entries` and every fork proof held (plus `extraForks`, about to be committed). */
  computeAcl (entries: readonly Entry[], extraForks: readonly ForkProof[] = []): Acl {
    const proofs = [...this.store.forks(this.key), ...extraForks]
    const forks: ForkAt[] = proofs.map(f => ({ author: f.author, epoch: f.epoch, seq: f.seq }))
    const forkEntries = proofs.flatMap(f => [f.a, f.b])
      .flatMap(([bytes, sig]) => readOrSkip(() => decodeStoredEntry(bytes, sig)) ?? [])
    return computeAcl({ owner: this.owner, entries, forks, forkEntries })
  }

  /** Whether `e` is a data entry `acl` makes effective (its author a writer at its position). */
  effectiveData (acl: Acl, e: Entry, author: AuthorKey = authorKeyOf(e.author)): boolean {
    return isDataBody(e.body) && atLeast(acl.roleAt(author, e), 'writer')
  }

  /** The clock of a feed's last stored entry (cached), undefined for an empty feed. */
  headClock (feed: FeedState): Clock | undefined {
    const key = `${feed.author}/${feed.epoch}`
    const cached = this.headClocks.get(key)
    if (cached !== undefined) return cached
    if (feed.count === 0) return undefined
    const head = this.store.entryAt(this.key, feed.author, feed.epoch, feed.count - 1) as StoredEntry
    // An entry stored under an older version's weaker checks may no longer decode: its feed still goes on from
    // its clock.

    const clock = readOrSkip(() => decodeStoredEntry(head.bytes, head.sig).clock) ?? storedEntryClock(head.bytes)
    this.headClocks.set(key, clock)
    return clock
  }
}

import { CodecError, codecReason } from '../codec/index.ts'
import type { Body, Entry } from '../codec/index.ts'
import { SpaceError } from '../space/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import type { LocalBodies, LocalOutcome, SpaceReplica } from '../space/index.ts'
import type { SyncDriver } from '../net/index.ts'
import { NodeError } from './errors.ts'
import { storageUserError } from './storage-health.ts'
import type { StorageHealth } from './storage-health.ts'

/** What a failed write to the store was doing (StorageHealth: shown until the same kind of write succeeds). */
const LOCAL_WRITE_OPERATION = 'a local write'
/** Writes of one group commit at most (its signed bytes are bounded in space/'s appendEach); the rest wait. */
const GROUP_WRITES_MAX = 1000

/** What the group commits did since start (GET /v1/stats, and tests count commits here). */
export interface GroupCommitStats {
  /** Group commits made: one transaction each; one fsync of the WAL covers one or several of them. */
  commits: number
  /** Writes acknowledged by them. */
  written: number
  /** Writes refused alone (not allowed, too big, a bad value) or failed with their group's commit or its fsync. */
  refused: number
}

/** A write waiting for its group: settled once the group is committed and durable (decision 12), never before. */
interface Waiting {
  readonly body: Body
  readonly resolve: (entry: Entry) => void
  readonly reject: (err: unknown) => void
}

interface SpaceQueue { readonly replica: SpaceReplica, readonly waiting: Waiting[] }

/** The store's side of the group commit (SqliteStore): commits without their fsync, and one fsync for them. */
interface Durability {
  unsynced: <T>(write: () => T) => T
  synced: () => Promise<void>
}

/** Told of each group commit made, with the number of writes it took (the node's 'grouped' event). */
type GroupCommitted = (space: SpaceKey, writes: number) => void

interface LocalWritesInit {
  readonly driver: SyncDriver
  readonly storage: StorageHealth
  readonly store: Durability
  readonly grouped?: GroupCommitted
}

/**
 * Every local write of the node (kv, counters, ledger, ACL, invites, joins,
 * a folder's records) goes through here to the sync driver, which commits it
 * and sends what it made. A refusal comes back as the user's error
 * (decision 13); a full disk is also remembered as an alert until a local
 * write succeeds again.
 *
 * Live data writes from API clients take the group commit (writeGrouped):
 * queued, and committed together: one transaction and one announce for
 * the group, each write still judged alone. The group's commit skips its
 * own fsync (SqliteStore.unsynced), and its writes are settled only once an
 * fsync of the WAL started after it completes (synced(), on the thread
 * pool). While that fsync runs, the writes that arrive wait and form the
 * next group, committed as soon as it completes: they could not be settled
 * before the next fsync anyway, and one commit of many writes costs the
 * event loop much less per write than several small ones (each commit
 * writes the WAL frames of the pages it touched, and a feed's last pages
 * and the tree's inner pages are touched by every commit).
 * The other writes (library callers, ACL, joins, folder records) stay
 * synchronous and durable when they return, and commit every queued write
 * first, so each feed's seqs still follow the order the writes arrived in,
 * which is also the order the groups are acknowledged in.
 *
 * A group is announced to peers only after the fsync that settles it (its
 * `have` waits in the sync driver's durable gate for the same sync as the
 * acknowledgement): what a peer is told we hold is durable, as for a peer's
 * run. Announcing earlier would not fork the feed either (a restarted
 * process never continues an epoch, decision 15), but a peer could hold
 * entries a power cut took from us.
 */
export class LocalWrites {
  readonly #driver: SyncDriver
  readonly #storage: StorageHealth
  readonly #store: Durability
  readonly #grouped: GroupCommitted | undefined
  /** Writes waiting for their group, per space, in arrival order; a space with more goes to the back after a group. */
  readonly #queues = new Map<string, SpaceQueue>()
  #scheduled = false
  /** Groups committed whose fsync has not completed: while any has, the next group waits and grows. */
  #syncing = 0
  readonly stats: GroupCommitStats = { commits: 0, written: 0, refused: 0 }

  constructor (init: LocalWritesInit) {
    this.#driver = init.driver
    this.#storage = init.storage
    this.#store = init.store
    this.#grouped = init.grouped
  }

  write (replica: SpaceReplica, body: Body): Entry {
    this.flush()
    return this.#committed(() => this.#driver.append(replica.key, body))
  }

  /**
   * A data write (kv, counter, ledger) through the group commit: resolved
   * with its entry once its group is committed and durable, or rejected
   * with its own refusal (the user's error), or with its group's failed
   * commit (then none of the group was written), or with the failed fsync
   * of its group (STORAGE_FAILED: committed, but maybe not kept).
   */
  writeGrouped (replica: SpaceReplica, body: Body): Promise<Entry> {
    return new Promise<Entry>((resolve, reject) => {
      let queue = this.#queues.get(replica.key)
      if (queue === undefined) {
        queue = { replica, waiting: [] }
        this.#queues.set(replica.key, queue)
      }
      queue.waiting.push({ body, resolve, reject })
      this.#schedule()
    })
  }

  /**
   * Commits every queued write now (before a synchronous write, and when the
   * node stops: closing the store syncs them, and they are then acknowledged).
   */
  flush (): void {
    for (let queue = this.#next(); queue !== undefined; queue = this.#next()) this.#commitGroup(queue)
  }

  /** Several entries in one commit (a folder's records). */
  writeMany (replica: SpaceReplica, bodies: LocalBodies): Entry[] {
    this.flush()
    return this.#committed(() => this.#driver.appendBodies(replica.key, bodies))
  }

  /** Our join with an invite (decision 9): stored, or pending until the invite arrives from the inviter. */
  join (replica: SpaceReplica, invite: Uint8Array, inviteKey: KeyPair): Entry {
    this.flush()
    return this.#committed(() => this.#driver.join(replica.key, invite, inviteKey))
  }

  /**
   * One group per turn of the event loop (setImmediate: after the I/O of this
   * turn, so every request read in it joins), and none while a group's fsync
   * runs: its settling schedules the next. Between groups the
   * acknowledgements go out and newly arrived writes join the queue.
   */
  #schedule (): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#syncing > 0) return // the settling of that fsync schedules the next group
      const queue = this.#next()
      if (queue === undefined) return
      this.#commitGroup(queue)
      if (this.#queues.size > 0) this.#schedule()
    })
  }

  /** The space whose writes waited longest. */
  #next (): SpaceQueue | undefined {
    return this.#queues.values().next().value
  }

  /**
   * Up to GROUP_WRITES_MAX of `queue`'s writes in one commit (fewer if their
   * bytes reach space/'s bound: the rest go back to the front). Taken off
   * the queue before the commit, so that a write the commit's listeners make
   * (which flushes first) cannot commit them twice.
   */
  #commitGroup (queue: SpaceQueue): void {
    const key = queue.replica.key
    const group = queue.waiting.splice(0, GROUP_WRITES_MAX)
    this.#queues.delete(key)
    if (queue.waiting.length > 0) this.#queues.set(key, queue) // behind the other spaces' writes
    let outcomes: LocalOutcome[] | undefined
    let failure: unknown
    try {
      outcomes = this.#driver.appendEach(key, group.map(w => w.body), step => this.#store.unsynced(step))
    } catch (err) {
      this.#storage.failed(LOCAL_WRITE_OPERATION, err, Date.now())
      failure = userError(err)
    }
    const taken = outcomes?.length ?? group.length
    if (taken < group.length) this.#putBack(queue, group.slice(taken))
    const written: { readonly w: Waiting, readonly entry: Entry }[] = []
    for (const [i, w] of group.slice(0, taken).entries()) {
      const outcome = outcomes?.[i]
      if (outcome === undefined) {
        w.reject(failure) // the commit failed: nothing of the group was written
      } else if ('entry' in outcome) {
        written.push({ w, entry: outcome.entry })
      } else {
        w.reject(userError(outcome.refused))
      }
    }
    this.stats.refused += taken - written.length
    if (written.length === 0) return
    this.stats.commits++
    this.#grouped?.(key, written.length)
    this.#syncing++
    const settled = (): void => {
      this.#syncing--
      if (this.#syncing === 0 && this.#queues.size > 0) this.#schedule()
    }
    this.#store.synced().finally(settled).then(() => {
      this.#storage.ok(LOCAL_WRITE_OPERATION)
      this.stats.written += written.length
      for (const { w, entry } of written) w.resolve(entry)
    }, (err: unknown) => {
      this.#storage.failed(LOCAL_WRITE_OPERATION, err, Date.now())
      this.stats.refused += written.length
      const notKept = notDurable(err)
      for (const { w } of written) w.reject(notKept)
    })
  }

  /** Writes a group did not take: first in line again, in their space's queue (a new one if it was emptied). */
  #putBack (queue: SpaceQueue, rest: readonly Waiting[]): void {
    const current = this.#queues.get(queue.replica.key)
    if (current !== undefined) {
      current.waiting.unshift(...rest)
      return
    }
    queue.waiting.unshift(...rest)
    this.#queues.set(queue.replica.key, queue)
  }

  #committed<T> (write: () => T): T {
    let result: T
    try {
      result = write()
    } catch (err) {
      this.#storage.failed(LOCAL_WRITE_OPERATION, err, Date.now())
      throw userError(err)
    }
    this.#storage.ok(LOCAL_WRITE_OPERATION)
    return result
  }
}

/** A committed group whose fsync failed: its writes may or may not be kept, and the store takes no more writes. */
function notDurable (err: unknown): NodeError {
  const reason = err instanceof Error ? err.message : String(err)
  const detail = `this node's disk failed to save a write (${reason}); it may or may not be kept; ` +
    'the store takes no more writes until samepage restarts: check the disk, then restart it'
  return new NodeError('STORAGE_FAILED', detail, { cause: err })
}

/** A refused write as the user's error (decision 13); anything else is ours, and goes on up. */
function userError (err: unknown): unknown {
  const storage = storageUserError(err)
  if (storage !== null) return storage
  if (err instanceof SpaceError) {
    const code = err.code === 'NOT_ALLOWED' || err.code === 'UNKNOWN_SPACE' ? err.code : 'BAD_INPUT'
    return new NodeError(code, err.message, { cause: err })
  }
  if (err instanceof CodecError) return new NodeError('BAD_INPUT', codecReason(err), { cause: err })
  return err
}

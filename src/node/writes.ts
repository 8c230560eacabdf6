import { CodecError, codecReason } from '../codec/index.ts'
import type { Body, Entry } from '../codec/index.ts'
import { SpaceError } from '../space/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { LocalBodies, SpaceReplica } from '../space/index.ts'
import type { SyncDriver } from '../net/index.ts'
import { NodeError } from './errors.ts'
import { storageUserError } from './storage-health.ts'
import type { StorageHealth } from './storage-health.ts'

/** What a failed write to the store was doing (StorageHealth: shown until the same kind of write succeeds). */
const LOCAL_WRITE_OPERATION = 'a local write'

interface LocalWritesInit {
  readonly driver: SyncDriver
  readonly storage: StorageHealth
}

/**
 * Every local write of the node (kv, counters, ledger, ACL, invites, joins,
 * a folder's records) goes through here to the sync driver, which commits it
 * and sends what it made. A refusal comes back as the user's error
 * (decision 13); a full disk is also remembered as an alert until a local
 * write succeeds again.
 */
export class LocalWrites {
  readonly #driver: SyncDriver
  readonly #storage: StorageHealth

  constructor (init: LocalWritesInit) {
    this.#driver = init.driver
    this.#storage = init.storage
  }

  write (replica: SpaceReplica, body: Body): Entry {
    return this.#committed(() => this.#driver.append(replica.key, body))
  }

  /** Several entries in one commit (a folder's records). */
  writeMany (replica: SpaceReplica, bodies: LocalBodies): Entry[] {
    return this.#committed(() => this.#driver.appendBodies(replica.key, bodies))
  }

  /** Our join with an invite (decision 9): stored, or pending until the invite arrives from the inviter. */
  join (replica: SpaceReplica, invite: Uint8Array, inviteKey: KeyPair): Entry {
    return this.#committed(() => this.#driver.join(replica.key, invite, inviteKey))
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

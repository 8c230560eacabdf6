import crypto from 'node:crypto'
import { readTextOr } from '../atomic-file/index.ts'
import type { Role } from '../codec/index.ts'
import { publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { EPOCH_SALT_RANGE, SpaceReplica } from '../space/index.ts'
import type { ReplicaOptions } from '../space/index.ts'
import { authorKeyOf, parseSpaceKey } from '../ids/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import type { SqliteStore } from '../store/index.ts'
import type { SpaceDirectory } from '../sync/index.ts'
import type { DeploymentSpaces } from './deployment.ts'
import { NodeError } from './errors.ts'
import { LeftEpochs } from './left-epochs.ts'
import type { InviteToken } from './invite-token.ts'
import { saveNodeFile, storageRefused, storageUserError } from './storage-health.ts'

interface SpaceSetInit {
  readonly store: SqliteStore
  /** The deployment's status spaces: held here like any space, but never listed or found by name. */
  readonly deployment: DeploymentSpaces
  /** This node's author key (hex). */
  readonly me: AuthorKey
  /** Where the local names of spaces joined with `--as` are kept (D/space-names.json); absent: in memory only. */
  readonly namesFile?: string | undefined
  /** Where the highest epochs of spaces left are kept (D/left-epochs.json); absent: in memory only. */
  readonly leftEpochsFile?: string | undefined
}

/** One space of `space list`. */
export interface SpaceListed {
  readonly id: SpaceKey
  readonly name: string
  readonly role: Role | null
  readonly members: number
  readonly joinWaiting: boolean
}

/**
 * The spaces this node holds: one open replica per space of the store,
 * opened at start, and the ones created or adopted since, until the node
 * leaves one (remove()). The sync engine reads them through this directory;
 * the user finds them by id or by name: the space's own name (its genesis),
 * or the local name it was joined under (`space join --as`), which only
 * this node knows. Opens and creates replicas; never writes an entry (writes
 * go through the sync driver).
 */
export class SpaceSet implements SpaceDirectory {
  readonly #store: SqliteStore
  readonly #deployment: DeploymentSpaces
  readonly #me: AuthorKey
  readonly #replicas = new Map<SpaceKey, SpaceReplica>()
  readonly #names: LocalNames
  readonly #leftEpochs: LeftEpochs
  /**
   * One salt per process for the epochs it opens: two copies of one directory started at once open different epochs
   * (decision 15).
   */
  readonly #options: ReplicaOptions = { epochSalt: crypto.randomInt(EPOCH_SALT_RANGE) }

  constructor (init: SpaceSetInit) {
    this.#store = init.store
    this.#deployment = init.deployment
    this.#me = init.me
    this.#names = new LocalNames(init.namesFile)
    this.#leftEpochs = new LeftEpochs(init.leftEpochsFile)
    for (const key of this.#store.spaces()) {
      const replica = SpaceReplica.open(this.#store, key, this.#options)
      // Held again by a rejoin that has not taken effect yet (no feed of ours in the store): the floor still holds.
      const left = this.#leftEpochs.get(key)
      if (left !== undefined) replica.openAbove(left)
      this.#replicas.set(key, replica)
    }
  }

  get (key: SpaceKey): SpaceReplica | undefined {
    return this.#replicas.get(key)
  }

  all (): Iterable<SpaceReplica> {
    return this.#replicas.values()
  }

  /** A new space owned by `owner`, held from now on. */
  create (owner: KeyPair, name: string, nowMs: number): SpaceReplica {
    const replica = stored(() => SpaceReplica.create(this.#store, owner, name, nowMs, this.#options))
    this.#replicas.set(replica.key, replica)
    return replica
  }

  /**
   * The space of an invite's genesis, held from now on (the replica already open, if it was held), known here as
   * `localName` when one is given and it was not held.
   */
  adopt (genesis: InviteToken['genesis'], what: string, localName?: string): SpaceReplica {
    const adopted = stored(() => SpaceReplica.adopt(this.#store, genesis, undefined, this.#options))
    if (!(adopted instanceof SpaceReplica)) {
      throw new NodeError('BAD_TOKEN', `${what} is not valid (${adopted.detail}); ask for a new invite`)
    }
    const held = this.#replicas.get(adopted.key)
    if (held !== undefined) return held // a space held here keeps the name it has (a join of it changes nothing)
    // Its name saved before it is held: a save the disk refused leaves it unheld, so a join run again names it.
    if (localName !== undefined && localName !== adopted.genesis.name) this.#names.set(adopted.key, localName)
    else this.#names.delete(adopted.key) // a name a leave cut short left behind: the space goes by its own
    this.#replicas.set(adopted.key, adopted)
    const left = this.#leftEpochs.get(adopted.key)
    if (left !== undefined) adopted.openAbove(left) // joined again: its join's epoch above every one it had
    return adopted
  }

  /** Before a space's rows leave the store (leave.ts): its highest own epoch, so a later join opens above it. */
  leaving (replica: SpaceReplica): void {
    this.#leftEpochs.record(replica.key, replica.highestOwnEpoch(this.#me))
  }

  /**
   * The node left the space: no longer held here nor found by name (its local name goes too). The caller removes
   * its rows from the store and tells the engine (leave.ts).
   */
  remove (key: SpaceKey): void {
    this.#replicas.delete(key)
    try {
      this.#names.delete(key)
    } catch (err) {
      // The rows are gone already: a name the disk kept is dropped by the next adopt of the space.
      if (!storageRefused(err)) throw err
    }
  }

  /**
   * A space created a moment ago whose setting up failed (its save as the deployment's): gone from memory and from
   * the store, so it is not held as a data space from the next start on.
   */
  discard (key: SpaceKey): void {
    this.#replicas.delete(key)
    stored(() => { this.#store.removeSpace(key) })
  }

  /** The name this node knows a space by: the local name it was joined under, else its own. */
  nameOf (replica: SpaceReplica): string {
    return this.#names.get(replica.key) ?? replica.genesis.name
  }

  /** A space by id or by unique name, local or its own (the deployment's are found by id only). */
  byRef (ref: string): SpaceReplica {
    // Every key held is a space key: a hit needs no parse of `ref` (one per live write).
    const byId = this.#replicas.get(ref as SpaceKey)
    if (byId !== undefined) return byId
    const named = [...this.#replicas.values()].filter(r => this.nameOf(r) === ref && !this.#deployment.has(r.key))
    if (named.length === 1) return named[0] as SpaceReplica
    if (named.length > 1) {
      const hint = 'use the space id (samepage space list)'
      throw new NodeError('AMBIGUOUS_SPACE', `${named.length} spaces are named ${JSON.stringify(ref)}; ${hint}`)
    }
    const hint = 'see samepage space list, or join one with an invite'
    throw new NodeError('UNKNOWN_SPACE', `no space ${JSON.stringify(ref)} here; ${hint}`)
  }

  /**
   * The spaces of this node (the deployment's status spaces are not listed: see status and net); `joinWaiting`: with
   * no role, this node's join waits for the inviter to admit it (it is presented whenever the inviter is reached).
   */
  list (): SpaceListed[] {
    return [...this.#replicas.values()].filter(r => !this.#deployment.has(r.key)).map(r => {
      const role = r.localRole(this.#me)
      return {
        id: r.key,
        name: this.nameOf(r),
        role,
        members: r.aclList().filter(m => m.role !== null).length,
        joinWaiting: role === null && r.pendingJoin(this.#me) !== undefined
      }
    })
  }

  /** The names of the spaces (not the deployment's) where a peer (libp2p peer id) holds a role now. */
  namesOf (peerId: string): string[] {
    const pub = publicKeyFromPeerId(peerId)
    if (pub === undefined) return []
    const author = authorKeyOf(pub)
    return [...this.#replicas.values()]
      .filter(r => !this.#deployment.has(r.key) && r.acl.currentRole(author) !== null).map(r => this.nameOf(r))
  }

  /** Whether a peer (libp2p peer id) is a member of any space held here: only those are remembered in peers.json. */
  memberAnywhere (peerId: string): boolean {
    const pub = publicKeyFromPeerId(peerId)
    if (pub === undefined) return false
    const author = authorKeyOf(pub)
    for (const r of this.#replicas.values()) if (r.acl.currentRole(author) !== null) return true
    return false
  }
}

/** A commit of the store's, which rolled a failed one back: a full disk is the user's to hear of, not INTERNAL. */
function stored<T> (commit: () => T): T {
  try {
    return commit()
  } catch (err) {
    throw storageUserError(err) ?? err
  }
}

/**
 * Local names of spaces (`space join TOKEN --as NAME`), kept in one small
 * JSON file written atomically: a space joined while another of its name is
 * held here gets a name of its own on this node. Other nodes never see it.
 */
class LocalNames {
  readonly #file: string | undefined
  readonly #names: Map<SpaceKey, string>

  constructor (file: string | undefined) {
    this.#file = file
    this.#names = new Map(file === undefined ? [] : readNames(file))
  }

  get (key: SpaceKey): string | undefined {
    return this.#names.get(key)
  }

  /** On disk first: a save the disk refuses (STORAGE_FULL) leaves the names as they were, in memory too. */
  set (key: SpaceKey, name: string): void {
    this.#save(new Map(this.#names).set(key, name))
    this.#names.set(key, name)
  }

  delete (key: SpaceKey): void {
    if (!this.#names.has(key)) return
    const next = new Map(this.#names)
    next.delete(key)
    this.#save(next)
    this.#names.delete(key)
  }

  #save (names: Map<SpaceKey, string>): void {
    if (this.#file === undefined) return
    saveNodeFile(this.#file, JSON.stringify({ names: Object.fromEntries(names) }, null, 2) + '\n')
  }
}

function readNames (file: string): [SpaceKey, string][] {
  const text = readTextOr(file, null)
  if (text === null) return []
  try {
    const v = JSON.parse(text) as { names?: unknown }
    if (v.names !== null && typeof v.names === 'object') {
      return Object.entries(v.names).map(([k, n]) => {
        if (typeof n !== 'string') throw new TypeError(`the name of ${k} is not a string`)
        return [parseSpaceKey(k), n]
      })
    }
  } catch {}
  throw new NodeError('BAD_CONFIG',
    `${file} is not {"names": {space id: local name}}; restore it, or remove it to use the spaces' own names`)
}

import crypto from 'node:crypto'
import type { Role } from '../codec/index.ts'
import { publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { EPOCH_SALT_RANGE, SpaceReplica } from '../space/index.ts'
import type { ReplicaOptions } from '../space/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import type { SqliteStore } from '../store/index.ts'
import type { SpaceDirectory } from '../sync/index.ts'
import type { DeploymentSpaces } from './deployment.ts'
import { NodeError } from './errors.ts'
import type { InviteToken } from './invite-token.ts'

interface SpaceSetInit {
  readonly store: SqliteStore
  /** The deployment's status spaces: held here like any space, but never listed or found by name. */
  readonly deployment: DeploymentSpaces
  /** This node's author key (hex). */
  readonly me: AuthorKey
}

/**
 * The spaces this node holds: one open replica per space of the store,
 * opened at start, and the ones created or adopted since. The sync engine
 * reads them through this directory; the user finds them by id or by name.
 * Opens and creates replicas; never writes an entry (writes go through the
 * sync driver).
 */
export class SpaceSet implements SpaceDirectory {
  readonly #store: SqliteStore
  readonly #deployment: DeploymentSpaces
  readonly #me: AuthorKey
  readonly #replicas = new Map<SpaceKey, SpaceReplica>()
  /**
   * One salt per process for the epochs it opens: two copies of one directory started at once open different epochs
   * (decision 15).
   */
  readonly #options: ReplicaOptions = { epochSalt: crypto.randomInt(EPOCH_SALT_RANGE) }

  constructor (init: SpaceSetInit) {
    this.#store = init.store
    this.#deployment = init.deployment
    this.#me = init.me
    for (const key of this.#store.spaces()) this.#replicas.set(key, SpaceReplica.open(this.#store, key, this.#options))
  }

  get (key: SpaceKey): SpaceReplica | undefined {
    return this.#replicas.get(key)
  }

  all (): Iterable<SpaceReplica> {
    return this.#replicas.values()
  }

  /** A new space owned by `owner`, held from now on. */
  create (owner: KeyPair, name: string, nowMs: number): SpaceReplica {
    const replica = SpaceReplica.create(this.#store, owner, name, nowMs, this.#options)
    this.#replicas.set(replica.key, replica)
    return replica
  }

  /** The space of an invite's genesis, held from now on (the replica already open, if it was held). */
  adopt (genesis: InviteToken['genesis'], what: string): SpaceReplica {
    const adopted = SpaceReplica.adopt(this.#store, genesis, undefined, this.#options)
    if (!(adopted instanceof SpaceReplica)) {
      throw new NodeError('BAD_TOKEN', `${what} is not valid (${adopted.detail}); ask for a new invite`)
    }
    const replica = this.#replicas.get(adopted.key) ?? adopted
    this.#replicas.set(replica.key, replica)
    return replica
  }

  /** A space by id or by unique name (the deployment's are found by id only). */
  byRef (ref: string): SpaceReplica {
    // Every key held is a space key: a hit needs no parse of `ref` (one per live write).
    const byId = this.#replicas.get(ref as SpaceKey)
    if (byId !== undefined) return byId
    const named = [...this.#replicas.values()].filter(r => r.genesis.name === ref && !this.#deployment.has(r.key))
    if (named.length === 1) return named[0] as SpaceReplica
    if (named.length > 1) {
      const hint = 'use the space id (samepage space list)'
      throw new NodeError('AMBIGUOUS_SPACE', `${named.length} spaces are named ${JSON.stringify(ref)}; ${hint}`)
    }
    const hint = 'see samepage space list, or join one with an invite'
    throw new NodeError('UNKNOWN_SPACE', `no space ${JSON.stringify(ref)} here; ${hint}`)
  }

  /** The spaces of this node (the deployment's status spaces are not listed: see status and net). */
  list (): { id: SpaceKey, name: string, role: Role | null, members: number }[] {
    return [...this.#replicas.values()].filter(r => !this.#deployment.has(r.key)).map(r => ({
      id: r.key,
      name: r.genesis.name,
      role: r.localRole(this.#me),
      members: r.aclList().filter(m => m.role !== null).length
    }))
  }

  /** The names of the spaces (not the deployment's) where a peer (libp2p peer id) holds a role now. */
  namesOf (peerId: string): string[] {
    const pub = publicKeyFromPeerId(peerId)
    if (pub === undefined) return []
    const author = authorKeyOf(pub)
    return [...this.#replicas.values()]
      .filter(r => !this.#deployment.has(r.key) && r.acl.currentRole(author) !== null).map(r => r.genesis.name)
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

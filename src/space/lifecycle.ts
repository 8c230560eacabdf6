import { decodeGenesis } from '../codec/index.ts'
import type { SignedBytes, SignedGenesis } from '../codec/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { spaceKeyOf } from '../ids/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import type { Store } from '../store/index.ts'
import { commitRebuild } from './commits.ts'
import { decodeOrReject } from './ingest.ts'
import { SpaceError } from './outcome.ts'
import type { Reject } from './outcome.ts'
import { genesisSignatureValid, signGenesis } from './signing.ts'
import { ReplicaState } from './state.ts'

/**
 * A replica's life starts here: a new space (create), one this store holds
 * (open), or one learned from a peer (adopt). A space's first commit holds
 * its genesis and its first views together: a crash leaves both or neither.
 */

/** A new space owned by `owner`; its id is the CID of the signed genesis. */
export function createSpace (
  store: Store, owner: KeyPair, name: string, nowMs: number, epochSalt: number
): ReplicaState {
  return firstCommit(store, signGenesis(owner, { name, createdMs: nowMs }), epochSalt)
}

/** A space this store already holds. */
export function openSpace (store: Store, key: SpaceKey, epochSalt: number): ReplicaState {
  const g = store.genesis(key)
  if (g === undefined) {
    throw new SpaceError('UNKNOWN_SPACE', `space ${key} is not held here; join it with an invite first`)
  }

  return new ReplicaState(store, decodeGenesis(g.bytes, g.sig), epochSalt)
}

/**
 * A space learned from a peer (a joiner gets the genesis at the handshake).
 * A Reject if the genesis is not what `expected` names or is not signed by its owner.
 */
export function adoptSpace (
  store: Store, signed: SignedBytes, expected: SpaceKey | undefined, epochSalt: number
): ReplicaState | Reject {
  const genesis = decodeOrReject(() => decodeGenesis(signed[0], signed[1]))
  if ('reason' in genesis) return genesis
  const key = spaceKeyOf(genesis.cid)
  if (expected !== undefined && key !== expected) {
    return { reason: 'wrong-space', detail: `genesis is ${key}, not ${expected}` }
  }
  if (!genesisSignatureValid(genesis)) return { reason: 'bad-signature', detail: 'genesis not signed by its owner' }
  if (store.genesis(key) === undefined) return firstCommit(store, genesis, epochSalt)
  return new ReplicaState(store, genesis, epochSalt)
}

/** The genesis and the first views (the owner's acl row) in one commit. */
function firstCommit (store: Store, genesis: SignedGenesis, epochSalt: number): ReplicaState {
  const s = new ReplicaState(store, genesis, epochSalt)
  commitRebuild(s, [], [], { space: s.key, genesis: { bytes: genesis.bytes, sig: genesis.sig } })
  return s
}

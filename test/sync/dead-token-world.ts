import { SpaceReplica } from '../../src/space/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import type { SyncEvent } from '../../src/sync/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/** Where the invite of dead-token worlds expires. */
export const INVITE_EXPIRES_MS = T0 + 1e9

export const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

export type JoinAnswer = Extract<SyncEvent, { type: 'join-answer' }>

/** The answers `p` was given to its join, by `from` (anyone if not given). */
export function answersTo (p: Peer, from?: Peer): JoinAnswer[] {
  return p.events.filter((e): e is JoinAnswer => e.type === 'join-answer' && (from === undefined || e.from === from.name))
}

export interface DeadTokenWorld {
  readonly wire: Wire
  /** The owner, the invite's issuer. */
  readonly O: Peer
  /** An admin that holds the invite and did not issue it; apart from O. */
  readonly M: Peer
  readonly invite: Entry
  /** A new peer whose join (with the invite) waits to be presented. */
  readonly joiner: (name: string) => Peer
  /** Links a and b until everything crossed, then takes the link down again. */
  readonly meet: (a: Peer, b: Peer) => void
}

/** Owner O with a writer invite of `uses` uses, admin M holding it, O and M apart; `joiner(name)` joins with it. */
export function deadTokenWorld (seed: string, uses = 1): DeadTokenWorld {
  const [o, m, inv] = ['o', 'm', 'inv'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 1)
  const invite: Entry = origin.append(o,
    { t: 'invite', key: inv.publicKey, role: 'writer', uses, expiresMs: INVITE_EXPIRES_MS }, T0 + 2)
  const wire = new Wire(T0 + 10)
  const fresh = (): MemoryStore => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return s
  }
  const meet = (a: Peer, b: Peer): void => {
    wire.connect(a, b)
    a.engine.disconnect(b.name, wire.nowMs)
    b.engine.disconnect(a.name, wire.nowMs)
  }
  const O = wire.add(o, store)
  const M = wire.add(m, fresh())
  meet(O, M)
  const joiner = (name: string): Peer => {
    const k = seededKey(seed, name)
    const J = wire.add(k, fresh())
    replicaOf(J).join(k, invite.id, inv, wire.nowMs)
    return J
  }
  return { wire, O, M, invite, joiner, meet }
}

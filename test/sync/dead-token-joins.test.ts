/**
 * Joins whose invite can admit nobody any more (review F): a stranger holding a used-up token presented its join to
 * a member that did not issue the invite; that member kept its link as "a joiner under way" for good. (Such joins are
 * still stored: not holding them lost a member's later writes on nodes that caught up late, review H.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpaceReplica } from '../../src/space/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { JOIN_WAITING_MAX_MS } from '../../src/sync/constants.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

/** Owner O with a one-use invite (`uses`), admin M holding it, O and M apart; `joiner(name)` presents a join to M. */
function world (seed: string, uses = 1): { wire: Wire, O: Peer, M: Peer, joiner: (name: string) => Peer } {
  const [o, m, inv] = ['o', 'm', 'inv'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 1)
  const invite: Entry = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses, expiresMs: T0 + 1e9 }, T0 + 2)
  const wire = new Wire(T0 + 10)
  const fresh = (): MemoryStore => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return s
  }
  const O = wire.add(o, store)
  const M = wire.add(m, fresh())
  wire.connect(O, M)
  O.engine.disconnect(M.name, wire.nowMs)
  M.engine.disconnect(O.name, wire.nowMs)
  const joiner = (name: string): Peer => {
    const k = seededKey(seed, name)
    const J = wire.add(k, fresh())
    replicaOf(J).join(k, invite.id, inv, wire.nowMs)
    return J
  }
  return { wire, O, M, joiner }
}

test('a used-up token: its joiner is no joiner under way at a member that did not issue it', () => {
  const { wire, O, M, joiner } = world('dead1')
  const early = joiner('early') // presented to M while the use was free: waiting for O
  wire.connect(early, M)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), true)
  wire.connect(joiner('winner'), O) // O redeems it: the one use is taken
  wire.connect(M, O)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), false, 'its invite can admit nobody any more')
  const late = joiner('late')
  wire.connect(late, M)
  assert.equal(M.engine.joinWaiting(late.name, wire.nowMs), false)
  assert.ok(!M.events.some(e => e.type === 'misbehaviour'), 'a relayed or presented dead join is charged to nobody')
})

test('a live token: the joiner waits for JOIN_WAITING_MAX_MS at most, and not once its invite expired', () => {
  const { wire, M, joiner } = world('dead2')
  const J = joiner('j')
  wire.connect(J, M)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS - 1), true)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS), false)
  assert.equal(M.engine.joinWaiting(J.name, T0 + 1e9 + 1), false, 'nor once the invite expired')
})

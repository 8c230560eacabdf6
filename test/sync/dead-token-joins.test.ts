/**
 * Joins whose invite can admit nobody any more (review F): a stranger holding a used-up token presented its join to
 * a member that did not issue the invite; that member kept its link as "a joiner under way" for good, stored the
 * join, and every member pulled and held it for good (one feed per identity the stranger made up).
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
const holds = (p: Peer, joiner: Peer): boolean => replicaOf(p).vector().some(r => r.author.every((b, i) => b === joiner.keyPair.publicKey[i]))

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

test('a used-up token: its join is not held, pulled or waited on by a member that did not issue it', () => {
  const { wire, O, M, joiner } = world('dead1')
  const early = joiner('early') // presented to M while the use was free: held there, waiting for O
  wire.connect(early, M)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), true)
  wire.connect(joiner('winner'), O) // O redeems it: the one use is taken
  wire.connect(M, O) // O pulls early's join from M and does not hold it (nor pull it again: the wire goes quiet)
  assert.equal(holds(O, early), false)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), false, 'its invite can admit nobody any more')
  const late = joiner('late')
  wire.connect(late, M)
  assert.equal(holds(M, late), false)
  assert.equal(M.engine.joinWaiting(late.name, wire.nowMs), false)
  assert.ok(!M.events.some(e => e.type === 'misbehaviour'), 'a relayed or presented dead join is charged to nobody')
})

test('a live token: the joiner waits for JOIN_WAITING_MAX_MS at most; unredeemed joins held per invite are bounded', () => {
  const { wire, M, joiner } = world('dead2')
  const J = joiner('j')
  wire.connect(J, M)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS - 1), true)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS), false)
  assert.equal(M.engine.joinWaiting(J.name, T0 + 1e9 + 1), false, 'nor once the invite expired')
  const more = Array.from({ length: 16 }, (_, i) => joiner(`s${i}`))
  for (const S of more) wire.connect(S, M)
  assert.deepEqual(more.map(S => holds(M, S)), more.map((_, i) => i < 15), '16 held (2 × uses, at least 16), no more')
})

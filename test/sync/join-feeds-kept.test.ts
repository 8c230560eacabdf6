/**
 * A member's feed whose first entry is a join its issuer never redeemed (the member was admitted otherwise: a grant,
 * or it joined again after `space leave` with a new invite, answered `already-member`) is kept whole by every node,
 * whatever became of that invite: dropping joins whose invite could admit nobody any more (built this session, taken
 * back) lost the member's later writes on every node that caught up after the invite died (review H, probe 1).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpaceReplica } from '../../src/space/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

function world (seed: string, expiresMs: number): { wire: Wire, O: Peer, o: KeyPair, invite: Entry, inv: KeyPair, fresh: (k: KeyPair) => Peer } {
  const [o, inv] = ['o', 'inv'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  const invite: Entry = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses: 1, expiresMs }, T0 + 1)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const fresh = (k: KeyPair): Peer => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return wire.add(k, s)
  }
  return { wire, O, o, invite, inv, fresh }
}

test('a member that left and joined again (a new invite, README): once that invite expired, a node that catches up never gets what it wrote since', () => {
  const seed = 'H1r'
  const [o, inv, invY] = ['o', 'inv', 'invY'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  const X: Entry = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, T0 + 1)
  // The invite J is given to join again: valid for a minute (the CLI's default is longer; the rule is the same).
  const Y: Entry = origin.append(o, { t: 'invite', key: invY.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 60_000 }, T0 + 2)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const fresh = (k: KeyPair): Peer => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return wire.add(k, s)
  }
  const j = seededKey(seed, 'j')
  const J1 = fresh(j)
  replicaOf(J1).join(j, X.id, inv, wire.nowMs)
  wire.connect(J1, O)
  assert.equal(replicaOf(O).localRole(J1.name), 'writer', 'J joined (X redeemed)')
  wire.nowMs += 10
  J1.engine.append(replicaOf(J1).key, { t: 'kv.put', key: 'before', value: 1 }, wire.nowMs)
  wire.flush()
  const left = replicaOf(J1).highestOwnEpoch(J1.name)
  // `space leave`: J's rows go; joining again takes a new invite, its epoch above every one it had.
  O.engine.disconnect(J1.name, wire.nowMs)
  J1.engine.disconnect(O.name, wire.nowMs)
  wire.nowMs += 10
  const J2 = fresh(j)
  replicaOf(J2).openAbove(left)
  replicaOf(J2).join(j, Y.id, invY, wire.nowMs)
  wire.connect(J2, O) // O: already-member; J pulls its way back
  assert.equal(replicaOf(J2).localRole(J2.name), 'writer')
  wire.nowMs += 10
  J2.engine.append(replicaOf(J2).key, { t: 'kv.put', key: 'after', value: 2 }, wire.nowMs)
  wire.flush()
  assert.equal(replicaOf(O).kvGet('after')?.value, 2, 'O holds what J wrote after joining again')
  // Y expires (its one use never taken: J was a member all along). A new member N catches up from O.
  wire.nowMs = T0 + 120_000
  const n = seededKey(seed, 'n')
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: n.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  const N = fresh(n)
  wire.connect(N, O)
  assert.equal(replicaOf(N).kvGet('before')?.value, 1)
  assert.equal(replicaOf(N).kvGet('after')?.value, 2,
    'N never gets what member J wrote since it joined again: that feed\'s seq 0 (an unredeemed join of an expired invite) is dropped whole')
  assert.equal(replicaOf(N).viewHash(), replicaOf(O).viewHash(), 'N and O hold different views')
})

test('a member granted while its join waited for an absent issuer: once that invite expired, a node that catches up never gets what it wrote', () => {
  const { wire, O, o, invite, inv, fresh } = world('H1b', T0 + 60_000)
  const j = seededKey('H1b', 'j')
  const n = seededKey('H1b', 'n')
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: j.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: n.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  const J = fresh(j)
  replicaOf(J).join(j, invite.id, inv, wire.nowMs)
  wire.connect(J, O)
  wire.nowMs += 10
  J.engine.append(replicaOf(J).key, { t: 'kv.put', key: 'from-j', value: 'hello' }, wire.nowMs)
  wire.flush()
  assert.equal(replicaOf(O).kvGet('from-j')?.value, 'hello')
  wire.nowMs = T0 + 120_000 // the invite expired (unused: J was a member already)
  const N = fresh(n)
  wire.connect(N, O)
  assert.equal(replicaOf(N).kvGet('from-j')?.value, 'hello', 'N never gets what member J wrote')
})

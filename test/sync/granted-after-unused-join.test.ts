/**
 * A joiner whose token's one use another took, then granted directly by an admin: every member holds its feed and
 * what it wrote (review H, probe 2; dropping unredeemable joins lost them, even on the owner).
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

test('a joiner with a used-up token, then granted writer: its writes reach the owner', () => {
  const seed = 'H2'
  const [o, inv] = ['o', 'inv'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  const invite: Entry = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, T0 + 1)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const fresh = (k: KeyPair): Peer => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return wire.add(k, s)
  }
  const k = seededKey(seed, 'k')
  const K = fresh(k)
  replicaOf(K).join(k, invite.id, inv, wire.nowMs)
  wire.connect(K, O) // the one use is taken
  const j = seededKey(seed, 'j')
  const J = fresh(j)
  replicaOf(J).join(j, invite.id, inv, wire.nowMs)
  wire.connect(J, O) // refused (uses-exhausted); the owner then grants J directly
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: j.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  wire.flush()
  assert.equal(replicaOf(J).localRole(J.name), 'writer')
  wire.nowMs += 10
  J.engine.append(replicaOf(J).key, { t: 'kv.put', key: 'from-j', value: 1 }, wire.nowMs)
  wire.flush()
  wire.nowMs += 60_000
  O.engine.tick(wire.nowMs); J.engine.tick(wire.nowMs); wire.flush()
  assert.equal(replicaOf(O).kvGet('from-j')?.value, 1, 'the owner never gets what the granted member wrote')
})

/**
 * A member's feed whose first entry is a join its issuer never redeemed (the member was admitted otherwise: a grant,
 * or it joined again after `space leave` with a new invite, answered `already-member`) is kept whole by every node,
 * whatever became of that invite: dropping joins whose invite could admit nobody any more (built this session, taken
 * back) lost the member's later writes on every node that caught up after the invite died, and a joiner refused and
 * then granted lost them even on the owner (review H).
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

/** Owner O's space with one-use writer invites expiring at `expires` (one each); `fresh(k)` is a new peer of it. */
function world (seed: string, ...expires: number[]): {
  wire: Wire, O: Peer, o: KeyPair, invites: Entry[], invs: KeyPair[], fresh: (k: KeyPair) => Peer
} {
  const o = seededKey(seed, 'o')
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  const invs = expires.map((_, i) => seededKey(seed, `inv${i}`))
  const invites: Entry[] = expires.map((expiresMs, i) => origin.append(o,
    { t: 'invite', key: (invs[i] as KeyPair).publicKey, role: 'writer', uses: 1, expiresMs }, T0 + 1 + i))
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const fresh = (k: KeyPair): Peer => {
    const s = new MemoryStore()
    SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
    return wire.add(k, s)
  }
  return { wire, O, o, invites, invs, fresh }
}

test('a member that left and joined again (a new invite, README): once that invite expired, a node that catches up never gets what it wrote since', () => {
  const seed = 'H1r'
  // X, J's first invite; Y, the one it is given to join again: valid for a minute (the CLI's default is longer).
  const { wire, O, o, invites: [X, Y], invs: [inv, invY], fresh } = world(seed, T0 + 1e9, T0 + 60_000)
  const j = seededKey(seed, 'j')
  const J1 = fresh(j)
  replicaOf(J1).join(j, (X as Entry).id, inv as KeyPair, wire.nowMs)
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
  replicaOf(J2).join(j, (Y as Entry).id, invY as KeyPair, wire.nowMs)
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
  const { wire, O, o, invites: [invite], invs: [inv], fresh } = world('H1b', T0 + 60_000)
  const j = seededKey('H1b', 'j')
  const n = seededKey('H1b', 'n')
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: j.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: n.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  const J = fresh(j)
  replicaOf(J).join(j, (invite as Entry).id, inv as KeyPair, wire.nowMs)
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

test('a joiner with a used-up token, then granted writer: its writes reach the owner', () => {
  // Review H, probe 2: dropping unredeemable joins lost them even on the owner.
  const seed = 'H2'
  const { wire, O, invites: [invite], invs: [inv], fresh } = world(seed, T0 + 1e9)
  const join = (name: string): [KeyPair, Peer] => {
    const k = seededKey(seed, name)
    const P = fresh(k)
    replicaOf(P).join(k, (invite as Entry).id, inv as KeyPair, wire.nowMs)
    return [k, P]
  }
  const [, K] = join('k')
  wire.connect(K, O) // the one use is taken
  const [j, J] = join('j')
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

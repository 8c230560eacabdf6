/**
 * What a node comes to hold through a change of the ACL reaches the member
 * neighbours that lack it: entries a local grant lets out of pending, and
 * what was stored while a neighbour was no member, once it is one again.
 * (Found by a hostile review: in both, nothing told the neighbour until the
 * writer wrote again or the link was made anew.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica
const feedCount = (p: Peer, k: KeyPair): number =>
  replicaOf(p).vector().find(r => r.author.every((b, i) => b === k.publicKey[i]))?.count ?? 0

function adopted (origin: SpaceReplica): MemoryStore {
  const s = new MemoryStore()
  SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
  return s
}

/** An owner linked to the members it granted (`roles`, in order), on one wire. */
function star (seed: string, roles: readonly ('admin' | 'writer')[]): { wire: Wire, O: Peer, members: Peer[], keys: KeyPair[] } {
  const o = seededKey(seed, 'owner')
  const keys = roles.map((_, i) => seededKey(seed, `m${i}`))
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  keys.forEach((k, i) => origin.append(o, { t: 'acl.grant', member: k.publicKey, role: roles[i] as 'admin' | 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1 + i))
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const members = keys.map(k => wire.add(k, adopted(origin)))
  for (const m of members) wire.connect(O, m)
  return { wire, O, members, keys }
}

describe('told after a change of the ACL', () => {
  test('entries a local grant lets out of pending are announced to the member neighbours', () => {
    const { wire, O, members: [A, M] } = star('told1', ['admin', 'writer'])
    const [A_, M_] = [A, M] as [Peer, Peer]
    const w = seededKey('told1', 'w')
    const space = replicaOf(O).key
    // A grants W, but nothing of A reaches O yet; W writes, and A stores it.
    wire.muted.add(`${A_.name}>${O.name}`)
    A_.engine.append(space, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    const W = wire.add(w, adopted(replicaOf(O)))
    wire.connect(W, A_)
    const put = W.engine.append(space, { t: 'kv.put', key: 'by-w', value: 1 }, wire.nowMs)
    wire.flush()
    assert.equal(feedCount(A_, w), 1)
    // O gets W's seq 0 from A (a pull of seq 0 of a feed no grant covers here gives it): pending, for want of a grant.
    wire.muted.delete(`${A_.name}>${O.name}`)
    wire.inject(A_, O, encodeMessage({ m: 'entries', space: replicaOf(A_).id, run: [[put.bytes, put.sig]] }), 'entries')
    wire.muted.add(`${A_.name}>${O.name}`)
    assert.equal(feedCount(O, w), 0, 'pending at O')
    // O's own user grants W: the grant lets W's entry out of pending, stored with it.
    O.engine.append(space, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    wire.flush()
    assert.equal(feedCount(O, w), 1, 'O stored it with its grant')
    assert.ok(O.events.some(e => e.type === 'stored' && e.entries.some(x => x.body.t === 'kv.put')), 'and said so')
    assert.equal(replicaOf(M_).kvGet('by-w')?.value, 1, 'M, linked to O only, got it from O')
  })

  test('a member revoked and granted again is told what was stored while it was no member', () => {
    const { wire, O, members: [M, W], keys: [m] } = star('told2', ['writer', 'writer'])
    const [M_, W_, m_] = [M, W, m] as [Peer, Peer, KeyPair]
    const space = replicaOf(O).key
    const at = replicaOf(M_).nextPosition(M_.name, wire.nowMs)
    O.engine.append(space, { t: 'acl.revoke', member: m_.publicKey, at: { epoch: at.epoch, seq: 0 }, keep: [] }, wire.nowMs)
    wire.flush()
    // Stored at O while M is no member: not announced to M.
    W_.engine.append(space, { t: 'kv.put', key: 'gap', value: 1 }, wire.nowMs)
    wire.flush()
    assert.equal(replicaOf(M_).kvGet('gap'), undefined)
    O.engine.append(space, { t: 'acl.grant', member: m_.publicKey, role: 'writer', from: { epoch: at.epoch + 1, seq: 0 } }, wire.nowMs)
    wire.flush()
    assert.equal(replicaOf(M_).acl.currentRole(M_.name), 'writer', 'M is a member again')
    assert.ok(O.engine.isConnected(M_.name), 'on the same link')
    assert.equal(replicaOf(M_).kvGet('gap')?.value, 1, 'and got what W wrote meanwhile, without W writing again')
  })
})

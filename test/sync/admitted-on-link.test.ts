/**
 * A peer admitted on a live link (granted while connected): what it is sent
 * costs no more than it must, and nobody is charged for the order in which
 * the grants travel. (From a hostile review of the late hello: each
 * neighbour pushed it every status record, and a member relaying fork proofs
 * to a neighbour that did not see it as a member yet was charged for them.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

function adopted (origin: SpaceReplica): MemoryStore {
  const s = new MemoryStore()
  SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
  return s
}

test('a member granted while linked to six others gets each status record once, not once from each', () => {
  const keys = ['o', 'a', 'b', 'c', 'd', 'e'].map(n => seededKey('aol1', n))
  const o = keys[0] as KeyPair
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'aol1', T0)
  keys.slice(1).forEach((k, i) => origin.append(o, { t: 'acl.grant', member: k.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1 + i))
  for (let i = 0; i < 30; i++) {
    const k = seededKey('aol1', `z${i}`)
    origin.append(o, { t: 'acl.grant', member: k.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 10 + i)
    const record = origin.signStatus(k, { online: true }, T0 + 100)
    origin.ingestStatus([record.bytes, record.sig], T0 + 100)
  }
  const wire = new Wire(T0 + 1000)
  const mesh = keys.map((k, i) => wire.add(k, i === 0 ? store : adopted(origin)))
  mesh.forEach((p, i) => { for (const q of mesh.slice(i + 1)) wire.connect(p, q) })
  wire.flush()
  const y = seededKey('aol1', 'y')
  const Y = wire.add(y, adopted(origin))
  for (const p of mesh) wire.connect(p, Y)
  const mark = wire.sent.length
  ;(mesh[0] as Peer).engine.append(origin.key, { t: 'acl.grant', member: y.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  wire.flush()
  assert.equal(replicaOf(Y).statuses().length, 30, 'it holds every record')
  const records = wire.sent.slice(mark).filter(m => m.to === Y.name && m.type === 'status').length
  assert.equal(records, 30, 'each came once')
})

test('a member relaying fork proofs to a neighbour that does not see it as a member yet is not charged; the proofs arrive', () => {
  const [o, x, y] = ['o', 'x', 'y'].map(k => seededKey('aol2', k)) as [KeyPair, KeyPair, KeyPair]
  const writers = Array.from({ length: 5 }, (_, i) => seededKey('aol2', `w${i}`))
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'aol2', T0)
  origin.append(o, { t: 'acl.grant', member: x.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  // X holds the space as it was then: its own grant, none of the writers'.
  const xStore = adopted(origin)
  const xr = SpaceReplica.open(xStore, origin.key)
  for (const row of origin.vector()) xr.ingestRun(origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'o', T0 + 2)
  writers.forEach((w, i) => origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 4 + i))
  for (const [i, w] of writers.entries()) {
    const base = origin.append(w, { t: 'kv.put', key: 'ok', value: 1 }, T0 + 20 + 10 * i)
    for (const name of ['a', 'b']) {
      const e = signEntry(w, { space: origin.id, author: w.publicKey, epoch: base.epoch, seq: base.seq + 1, prev: base.id, clock: { wallMs: T0 + 25 + 10 * i, counter: 0 }, body: { t: 'kv.put', key: name, value: name } })
      origin.ingestRun([[e.bytes, e.sig]], 'someone', T0 + 26 + 10 * i)
    }
  }
  assert.equal(origin.forkProofs().length, 5)
  const wire = new Wire(T0 + 1000)
  const O = wire.add(o, store)
  const Y = wire.add(y, adopted(origin))
  const X = wire.add(x, xStore)
  wire.connect(Y, X)
  wire.connect(O, Y)
  // O grants Y: Y takes the proofs once it holds the grants, and hands them to X before X holds Y's grant.
  O.engine.append(origin.key, { t: 'acl.grant', member: y.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
  wire.flush()
  assert.deepEqual(X.events.filter(e => e.type === 'misbehaviour'), [], 'nobody charged')
  assert.equal(replicaOf(X).acl.currentRole(Y.name), 'writer')
  assert.equal(replicaOf(Y).forkProofs().length, 5, 'Y holds every proof')
  assert.equal(replicaOf(X).forkProofs().length, 5, 'and so does X')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'
import { authorKeyOf } from '../../src/ids/index.ts'

/**
 * Decision 15 through the engine: a node restored from an older copy of its
 * store pulls back from a peer the entries of its own feeds that the peer
 * holds beyond it (validated like anyone's), and neither side proves a fork.
 */
const O = seededKey('own-feed', 'owner')
const W = seededKey('own-feed', 'writer')

function replicaOf (p: Peer): SpaceReplica {
  return [...p.replicas.values()][0] as SpaceReplica
}

/** Every feed of `from` into `to`, as a copy of a stopped node's store would hold them. */
function copyInto (from: SpaceReplica, to: MemoryStore): void {
  const r = SpaceReplica.adopt(to, [from.genesis.bytes, from.genesis.sig]) as SpaceReplica
  for (const row of from.vector()) assert.equal(r.ingestRun(from.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'copy', T0).stored.length, row.count)
}

test('a restored node pulls its own entries back from a peer, and no fork is proven on either side', () => {
  const ownerStore = new MemoryStore()
  const origin = SpaceReplica.create(ownerStore, O, 'own', T0)
  origin.append(O, { t: 'acl.grant', member: W.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)

  // W writes, is stopped, and its store is copied.
  const writerStore = new MemoryStore()
  copyInto(origin, writerStore)
  let w = SpaceReplica.open(writerStore, origin.key)
  for (let i = 0; i < 3; i++) w.append(W, { t: 'kv.put', key: `first-${i}`, value: i }, T0 + 10 + i)
  const copy = new MemoryStore()
  copyInto(w, copy)

  // W starts again, writes more, and the owner gets it all.
  w = SpaceReplica.open(writerStore, origin.key)
  for (let i = 0; i < 3; i++) w.append(W, { t: 'kv.put', key: `later-${i}`, value: i }, T0 + 100 + i)
  const first = new Wire(T0 + 200)
  const owner1 = first.add(O, ownerStore)
  first.connect(owner1, first.add(W, writerStore))
  assert.equal(replicaOf(owner1).kvList().length, 6)

  // The old copy is put back: it writes at once, then meets the owner.
  const second = new Wire(T0 + 1000)
  const owner = second.add(O, ownerStore)
  const restored = second.add(W, copy)
  restored.engine.append(origin.key, { t: 'kv.put', key: 'restored', value: true }, T0 + 1000)
  second.connect(owner, restored)

  for (const p of [owner, restored]) {
    const r = replicaOf(p)
    assert.deepEqual(r.kvList().map(e => e.key).sort(), ['first-0', 'first-1', 'first-2', 'later-0', 'later-1', 'later-2', 'restored'])
    assert.deepEqual(r.forkProofs(), [])
    assert.deepEqual(p.events.filter(e => e.type === 'fork' || e.type === 'misbehaviour'), [])
  }
  const back = restored.events.filter(e => e.type === 'stored' && e.from === owner.name).flatMap(e => e.type === 'stored' ? e.entries : [])
  assert.equal(back.filter(e => authorKeyOf(e.author) === authorKeyOf(W.publicKey)).length, 3, 'the three writes made after the copy came back from the owner')
  assert.equal(replicaOf(owner).viewHash(), replicaOf(restored).viewHash())
})

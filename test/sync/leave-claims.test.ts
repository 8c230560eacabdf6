import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from '../sync/wire.ts'
import type { Peer } from '../sync/wire.ts'

/**
 * Review (SyncCore.spaceGone, issue 16): every feed a peer shows us takes a
 * slot of its claim budget (claims.ts: 50,000 per peer, then it is charged
 * overClaim). spaceGone drops the session's state of the space but not the
 * slots it took: they come back only when the peer disconnects. A node that
 * leaves and joins a big space again, over one long-lived link, counts the
 * same feeds again each time, until an honest peer is charged for claims it
 * never made twice (and each leave holds its slots for the life of the link).
 */
test('leaving a space gives back the claim slots its feeds took from each peer', () => {
  const [o, w] = [seededKey('review-claims', 'owner'), seededKey('review-claims', 'writer')]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'team', T0)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  // Feeds of many epochs (each restart of a writer opens one): here 40 feeds of the owner.
  for (let i = 0; i < 40; i++) {
    origin.openEpoch(origin.owner, T0 + 10 + i * 1000)
    origin.append(o, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 10 + i * 1000 + 1)
  }
  const theirs = new MemoryStore()
  SpaceReplica.adopt(theirs, [origin.genesis.bytes, origin.genesis.sig])
  const wire = new Wire(T0 + 100_000)
  const a = wire.add(o, store)
  const b = wire.add(w, theirs)
  const before = b.engine.holdings().claims
  wire.connect(a, b)
  const held = b.engine.holdings().claims
  assert.ok(held - before >= 40, `a's hello took ${held - before} slots at b`)
  leave(b, origin)
  assert.equal(b.engine.holdings().claims, before, 'the left space\'s slots are still taken')
})

function leave (p: Peer, origin: SpaceReplica): void {
  p.store.removeSpace(origin.key)
  p.replicas.delete(origin.key)
  p.engine.spaceRemoved(origin.key, T0)
}

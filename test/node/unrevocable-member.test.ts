import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEntry, KEEP_MAX } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { revokeBody } from '../../src/node/membership.ts'
import type { SpaceReplica } from '../../src/space/index.ts'
import { seededKey } from '../helpers/fixtures.ts'
import { Forger, Origin, fresh, hex, wire } from '../space/scenario.ts'

/**
 * Review A, defect 2: a writer that opened more epochs than a revoke may keep
 * (KEEP_MAX) is still revoked on every node. Its `acl revoke` listed every
 * held epoch in `keep`, every other node refused that entry, blamed the
 * honest owner, stopped taking its feed and kept the member a writer. Now the
 * revoke keeps the newest KEEP_MAX epochs below its cut and cuts the older
 * ones, the same list from the same held feeds on any node. The member's
 * 4,100 one-entry epochs (a modified client's) are signed here and handed to
 * the owner's replica as a peer's runs; the owner's node builds its revoke
 * with revokeBody (as `acl revoke` does), and a second replica plays the
 * other nodes. Replicas in memory: 4,100 durable ingests took 30 s on disk.
 */
const EPOCHS = KEEP_MAX + 4
const O = seededKey('unrevocable', 'owner')
const M = seededKey('unrevocable', 'member')

/** Every feed of `author` that `from` holds, one run each. */
function feedsOf (from: SpaceReplica, author: KeyPair): SignedBytes[][] {
  return from.vector().filter(r => authorKeyOf(r.author) === hex(author)).map(r => from.serve(hex(author), r.epoch, 0, r.count))
}

function ingestAll (to: SpaceReplica, runs: readonly SignedBytes[][]): void {
  for (const run of runs) assert.equal(to.ingestRun(run, 'peer', Date.now()).reject, undefined)
}

test('a member with more epochs than a revoke keeps: revoked on every node, the newest kept, nobody blamed', () => {
  const o = new Origin(O, 'team', Date.now())
  const owner = o.replica
  o.grant(O, M, 'writer', { epoch: 0, seq: 0 })
  const forger = new Forger(owner.id, Date.now())
  const epochs = Array.from({ length: EPOCHS }, (_, i) => i + 1)
  const memberFeeds = epochs.map(epoch => [wire(forger.first(M, epoch, { t: 'kv.put', key: `e${epoch}`, value: epoch }))])
  ingestAll(owner, memberFeeds)
  assert.equal(owner.kvList().length, EPOCHS)

  // Another node holding the same feeds, taken in the other order, would make the same revoke.
  const other = fresh(o.genesis)
  ingestAll(other, feedsOf(owner, O))
  ingestAll(other, [...memberFeeds].reverse())
  const elsewhere = revokeBody(other, hex(O), M.publicKey, Date.now())

  const revoke = o.append(O, revokeBody(owner, hex(O), M.publicKey, Date.now()))
  assert.ok(revoke.body.t === 'acl.revoke')
  assert.deepEqual(revoke.body.at, { epoch: EPOCHS, seq: 1 })
  assert.deepEqual(revoke.body.keep, epochs.slice(-KEEP_MAX - 1, -1).reverse(), 'the newest epochs below the cut')
  assert.deepEqual(elsewhere, revoke.body)
  assert.deepEqual(decodeEntry(revoke.bytes, revoke.sig).body, revoke.body, 'every receiver decodes it')

  ingestAll(other, feedsOf(owner, O))
  for (const replica of [owner, other]) {
    assert.equal(replica.aclList().find(m => m.member === hex(M))?.role, null, 'the member is revoked')
    // What the member wrote in its cut epochs is gone, alike on both; the kept epochs stay.
    assert.equal(replica.kvGet('e1'), undefined)
    assert.equal(replica.kvList().length, KEEP_MAX + 1)
  }
  assert.equal(other.viewHash(), owner.viewHash())
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nodeHealth } from '../../src/node/health.ts'
import { PEER_OPERATION, StorageHealth } from '../../src/node/storage-health.ts'

/**
 * Review (node/health.ts, storage-health.ts): `failing` means "the store takes
 * no writes". A local write refused for want of room stays a failure until a
 * local write succeeds: on a node that writes nothing of its own (a receive-only
 * mirror, a relay), once the disk has room again and the store commits what
 * peers send and its own status reports, /v1/health still answers 503 failing,
 * for as long as the daemon runs. Room is the store's, not one operation's: a
 * commit of any kind that succeeds shows there is room again.
 */
test('after a full disk, health is ok again once the store commits other writes, not only a local one', () => {
  const storage = new StorageHealth('/tmp/d')
  const full = Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 })
  assert.equal(storage.failed('a local write', full, 1), true)
  const facts = { store: { refusesCommits: false }, storage, telemetry: { alerts: [] } }
  assert.equal(nodeHealth(facts), 'failing')
  storage.ok('publishing this node\'s status') // room again: the status report and what peers send are stored
  storage.ok(PEER_OPERATION)
  assert.equal(nodeHealth(facts), 'ok', 'the store commits again, and health still says it takes no writes')
})

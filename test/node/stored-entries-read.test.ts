/**
 * What the durable gate keeps of a held `stored` event's entries
 * (node-events.ts storedEntriesRead): what NodeEventHandler reads of them
 * besides their count, and every one while the node has 'entries' listeners.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { Entry } from '../../src/codec/index.ts'
import { storedEntriesRead } from '../../src/node/node-events.ts'
import type { NodeEvents } from '../../src/node/node-events.ts'
import { seededKey } from '../helpers/fixtures.ts'

const ME = seededKey('stored-entries-read', 'me').publicKey
const PEER = seededKey('stored-entries-read', 'peer').publicKey

/** Only what the predicate reads of an entry: its author and its body's type. */
function entry (author: Uint8Array, t: string): Entry {
  return { author: new Uint8Array(author), body: { t } } as unknown as Entry
}

test('joins, redemptions and this node\'s own entries are kept; a peer\'s data only for an entries listener', () => {
  const emitter = new EventEmitter<NodeEvents>()
  const read = storedEntriesRead(ME, emitter)
  assert.equal(read(entry(PEER, 'join')), true)
  assert.equal(read(entry(PEER, 'invite.redeem')), true)
  assert.equal(read(entry(ME, 'kv.put')), true, 'our own: a restore is noticed by them (own-feed.ts)')
  assert.equal(read(entry(PEER, 'kv.put')), false)
  assert.equal(read(entry(PEER, 'file')), false)
  const listener = (): void => {}
  emitter.on('entries', listener)
  assert.equal(read(entry(PEER, 'kv.put')), true, 'a program listening for entries gets them all')
  emitter.off('entries', listener)
  assert.equal(read(entry(PEER, 'kv.put')), false)
})

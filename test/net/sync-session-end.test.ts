import { test } from 'node:test'
import assert from 'node:assert/strict'
import { lpStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { decodeMessage } from '../../src/codec/index.ts'
import type { Node } from '../../src/node/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

/**
 * Review L1: a sync session that ended while its connection stayed open left the pair connected and silent for good.
 * Only the dialler opens a session (once, as the connection opens) and the redial schedule does not dial a peer
 * that is connected, so after a full disk refused a peer's frame the two nodes never synced again until one
 * restarted, though the disk had room. A session that ends now closes its connection, and the redial schedules
 * reconnect the pair on their backoff.
 */
test('a link whose session the peer ended is closed and dialled again; a banned peer is not', {
  timeout: 300_000
}, async t => {
  const nodes = await startedNodes(t, ['n'])
  const node = nodes[0] as Node
  node.createSpace('team') // a node with a space greets each peer's session with a hello
  const peer = await createHostilePeer()
  t.after(async () => { await peer.stop() })
  const opened: { stream: Stream, connection: Connection }[] = []
  await peer.handle(SYNC_PROTOCOL, (stream, connection) => { opened.push({ stream, connection }) })
  const addr = (peer.getMultiaddrs()[0] as Multiaddr).toString()
  await node.dial(addr) // a peer it keeps reaching (redial.ts), dialled by the node: no stranger's grace applies
  await untilHeld(() => opened.length === 1, 'the node opened a session')
  const first = opened[0] as { stream: Stream, connection: Connection }
  assert.equal(decodeMessage((await lpStream(first.stream).read()).subarray()).m, 'hello')

  first.stream.abort(new Error('this end of the session is over')) // its connection stays open on this side
  // Without the fix, never: the node held the link with no session on it, and did not dial a peer it was linked to.
  await untilHeld(() => opened.length === 2, 'the node dialled again and opened a new session')
  assert.equal(first.connection.status, 'closed', 'the node closed the link that had lost its session')
  assert.equal(node.misbehaviour.length, 0, 'ending a session is no misbehaviour')

  // A peer banned for misbehaviour is hung up on and stays refused: the node does not dial it again.
  const second = opened[1] as { stream: Stream, connection: Connection }
  const lp = lpStream(second.stream)
  assert.equal(decodeMessage((await lp.read()).subarray()).m, 'hello')
  try {
    for (let i = 0; i < 8; i++) await lp.write(new Uint8Array([0xff, 0xff, 0xff])) // no message decodes
  } catch { /* hung up on before the last */ }
  await untilHeld(() => second.connection.status !== 'open', 'the node hung up on the banned peer')
  assert.ok(node.misbehaviour.some(m => m.reason.startsWith('garbage')), 'banned for its garbage')
  await assert.rejects(node.dial(addr), { code: 'PEER_UNREACHABLE' }, 'no dial reaches a banned peer')
  assert.equal(opened.length, 2)
})

test('after a full disk refused a peer\'s run, the node catches up by itself once there is room', {
  timeout: 300_000
}, async t => {
  const nodes = await startedNodes(t, ['owner', 'member'])
  const [owner, member] = nodes as [Node, Node]
  const team = owner.createSpace('team')
  await member.join(owner.invite('team', 'reader', 1, 3_600_000).token, 30_000)
  owner.kvPut('team', 'first', 'v')
  await untilHeld(() => member.kvGet('team', 'first').value === 'v', 'the member holds the first write')

  // The member's store refuses every run of entries as SQLite does on a full disk (the transaction rolled back).
  let full = true
  const replica = member.space(team.id)
  const ingestRun = replica.ingestRun.bind(replica)
  replica.ingestRun = (...args) => {
    if (full) throw Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 })
    return ingestRun(...args)
  }
  for (let i = 0; i < 10; i++) owner.kvPut('team', `k${i}`, 'x'.repeat(1_000))
  await untilHeld(() => member.health() === 'failing', 'the member refused a run for want of room')
  const alert = member.alerts().find(a => a.kind === 'disk-full' && a.peerId === member.peerId)
  assert.match(alert?.detail ?? '', /storing what a peer sent: database or disk is full/, 'said as a storage problem')
  assert.equal(member.kvGet('team', 'k9').value, null, 'not stored while full')

  full = false // the owner writes nothing more: what it wrote comes by catch-up alone
  await untilHeld(() => member.kvList('team').length === 11, 'the member holds every write of the owner')
  assert.deepEqual(owner.misbehaviour, [], 'a full disk here is charged to nobody')
  assert.deepEqual(member.misbehaviour, [], 'nor is the sender charged for it')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { lpStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { decodeMessage } from '../../src/codec/index.ts'
import { Node } from '../../src/node/index.ts'
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

test('the same on a real full disk: the member\'s data directory on a small tmpfs', { timeout: 300_000 }, async t => {
  if (process.getuid?.() !== 0) { t.skip('mounting a tmpfs needs root'); return }
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-full-'))
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount])
  if (m.status !== 0) {
    fs.rmdirSync(mount)
    t.skip(`cannot mount a small tmpfs here (${m.stderr.toString().trim()})`)
    return
  }
  const nodes = await startedNodes(t, ['owner'])
  const owner = nodes[0] as Node
  let member: Node
  try {
    member = Node.open({ dir: path.join(mount, 'member') })
    await member.start()
  } catch (err) {
    spawnSync('umount', [mount])
    fs.rmSync(mount, { recursive: true, force: true })
    throw err
  }
  t.after(async () => { // after hooks run in the order they were added: the owner has stopped by now
    await member.stop()
    spawnSync('umount', [mount])
    fs.rmSync(mount, { recursive: true, force: true })
  })
  owner.createSpace('team')
  await member.join(owner.invite('team', 'reader', 1, 3_600_000).token, 30_000)
  owner.kvPut('team', 'first', 'v')
  await untilHeld(() => member.kvGet('team', 'first').value === 'v', 'the member holds the first write')

  const filler = path.join(mount, 'filler')
  const fd = fs.openSync(filler, 'w')
  try {
    for (const size of [64 * 1024, 512]) { // the last bytes too
      try { for (;;) fs.writeSync(fd, Buffer.alloc(size, 1)) } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  for (let i = 0; i < 40; i++) owner.kvPut('team', `k${i}`, 'x'.repeat(50_000))
  await untilHeld(() => member.alerts().some(a => a.detail.includes('storing what a peer sent')),
    'the member\'s store refused what the owner sent')
  assert.equal(member.kvGet('team', 'k39').value, null, 'not stored while full')

  fs.rmSync(filler)
  await untilHeld(() => member.kvList('team').length === 41, 'the member holds every write of the owner')
  assert.equal(owner.misbehaviour.length + member.misbehaviour.length, 0, 'a full disk is charged to nobody')
})

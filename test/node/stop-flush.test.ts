import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeMessage, MESSAGE_BYTES_MAX } from '../../src/codec/index.ts'
import type { Node } from '../../src/node/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

/**
 * A clean stop lets out what the node said last (Node.stop, SyncSession.finish). A leave's notice is pushed as
 * the leave ends; a daemon stopped right after (`samepage space leave team && samepage stop`) reset its sessions
 * and closed its connections at once, and the member counted in `toldMembers` never read the notice: 8 runs of 8.
 */
test('a leave followed at once by a stop still reaches the connected member', { timeout: 60_000 }, async t => {
  // A bound no loaded machine reaches: the stop ends because the admin read the notice, not because time ran out.
  const nodes = await startedNodes(t, ['owner', 'admin'], { stopFlushMs: 600_000 })
  const [owner, admin] = nodes as [Node, Node]
  const team = owner.createSpace('team')
  await admin.join(owner.invite('team', 'admin', 1, 3_600_000).token, 30_000)
  const heard = once(admin, 'left')

  const left = await owner.leave('team')
  nodes.shift() // stopped here, not by the test's end
  await owner.stop()

  assert.equal(left.toldMembers, 1)
  // The stop ended once the admin had closed its end of the session, which it does after reading every frame.
  assert.ok(admin.space(team.id).saidItLeft(admin.space(team.id).owner), 'the admin holds the notice')
  assert.deepEqual((await heard)[0], { space: team.id, member: owner.peerId })
})

test('a peer that neither reads nor closes its end cannot hold a stop', { timeout: 60_000 }, async t => {
  const nodes = await startedNodes(t, ['n'])
  const node = nodes[0] as Node
  const peer = await createHostilePeer()
  t.after(async () => { await peer.stop() })
  node.createSpace('team') // a node with a space greets each peer's session with a hello
  const conn = await peer.dial(multiaddr(node.id().addrs[0] as string))
  const lp = lpStream(await conn.newStream(SYNC_PROTOCOL), { maxDataLength: MESSAGE_BYTES_MAX })
  assert.equal(decodeMessage((await lp.read({ signal: AbortSignal.timeout(60_000) })).subarray()).m, 'hello')
  // From here the peer reads nothing and never closes: the node's wait for its end is cut by the stop's bound
  // (2 s), else this test fails at its own timeout.
  nodes.shift()
  await node.stop()
  assert.deepEqual(node.peers(), [], 'the node let go of its peer')
})

test('while a stop waits for what the gate holds, the node takes no new session', { timeout: 120_000 }, async t => {
  let holding = false
  const held: (() => void)[] = []
  const walFsync = async (fd: number): Promise<void> => {
    if (holding) await new Promise<void>(resolve => { held.push(resolve) })
    fs.fdatasyncSync(fd)
  }
  const ownerOnly = { walFsync, stopFlushMs: 600_000 }
  const nodes = await startedNodes(t, ['owner', 'admin'], name => name === 'owner' ? ownerOnly : {})
  const [owner, admin] = nodes as [Node, Node]
  owner.createSpace('team')
  await admin.join(owner.invite('team', 'admin', 1, 3_600_000).token, 30_000)
  const peer = await createHostilePeer()
  t.after(async () => { await peer.stop() })

  holding = true // the owner commits the admin's next write and waits for its sync: the gate holds what follows
  admin.kvPut('team', 'k', 'v')
  await untilHeld(() => owner.kvGet('team', 'k').value === 'v' && held.length > 0, 'the owner committed the write')
  nodes.shift()
  const stopping = owner.stop()
  // The stop now waits for the held sync: what comes before that wait makes no I/O (no folder is shared), and the
  // dial below does. A peer that connects now has its sync stream refused (reset), not taken (among its peers).
  const conn = await peer.dial(multiaddr(owner.id().addrs[0] as string))
  const lp = lpStream(await conn.newStream(SYNC_PROTOCOL), { maxDataLength: MESSAGE_BYTES_MAX })
  let refused: boolean | undefined
  void lp.read().then(() => { refused = false }, () => { refused = true })
  const taken = (): boolean => owner.peers().some(p => p.peerId === peer.peerId.toString())
  await untilHeld(() => refused !== undefined || taken(), 'the stream refused or taken')
  assert.equal(refused, true, 'the stopping node took a new session')
  holding = false
  for (const release of held.splice(0)) release()
  await stopping
})

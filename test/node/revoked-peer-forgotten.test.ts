import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { startedNodes, untilHeld } from '../helpers/started-nodes.ts'

/** Connections made to `port` on 127.0.0.1 (each closed at once, so the dialler counts it a failed dial). */
async function dialsAt (port: number): Promise<{ count: () => number, close: () => Promise<void> }> {
  let count = 0
  const server = net.createServer(socket => { count++; socket.destroy() })
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  return { count: () => count, close: async () => { await new Promise(resolve => server.close(resolve)) } }
}

/**
 * A member revoked from every space held here (an admin removed it, say for misbehaving) stayed in peers.json and
 * on the redial schedule: dialled again after every lost connection and at every start, for good (a review's
 * probe). Only leaving a space pruned the list. Now every ACL change prunes it, and the peers pruned are dialled no
 * more; a member that stays is the control (the same schedule, still dialled).
 */
test('a member revoked from every space here leaves peers.json and is dialled no more', {
  timeout: 300_000
}, async t => {
  const options: Omit<NodeOptions, 'dir'> = { peersSaveEveryMs: 0 } // each change written at once: seen in the file
  const nodes = await startedNodes(t, ['a', 'b', 'c'], options)
  const [first, b, c] = nodes as [Node, Node, Node]
  const stop = async (n: Node): Promise<void> => { nodes.splice(nodes.indexOf(n), 1); await n.stop() }
  first.createSpace('team')
  for (const n of [b, c]) await n.join(first.invite('team', 'writer', 1, 3_600_000).token, 30_000)
  const peersFile = path.join(first.dir, 'peers.json')
  const remembered = (n: Node): boolean =>
    fs.existsSync(peersFile) && fs.readFileSync(peersFile, 'utf8').includes(n.peerId)
  await untilHeld(() => remembered(b) && remembered(c), 'a remembers b and c, members')

  // Restarted, a dials its peers from peers.json: b and c are on its redial schedule.
  await stop(first)
  const a = Node.open({ ...options, dir: first.dir })
  nodes.push(a) // stopped at the test's end with the others, before their directories go
  await a.start()
  const linked = (n: Node): boolean => a.peers().some(p => p.peerId === n.peerId)
  await untilHeld(() => linked(b) && linked(c), 'a reached b and c again')

  // Gone for good: revoked from the space and from the deployment's status space(s) too.
  const { spaces: statusSpaces } = JSON.parse(fs.readFileSync(path.join(a.dir, 'deployment.json'), 'utf8')) as
    { spaces: string[] }
  for (const ref of ['team', ...statusSpaces]) {
    a.revoke(ref, b.peerId)
    assert.equal(a.space(ref).acl.currentRole(authorKeyOf(b.keyPair.publicKey)), null, `b holds no role in ${ref}`)
  }
  await untilHeld(() => !remembered(b), 'b, a member of nothing here, leaves peers.json')
  assert.equal(remembered(c), true, 'c, still a member, stays')

  // Both go away, b first: a redials c on its backoff (at most 1 s, then 2, then 4), and would redial b before c's
  // third dial (b's first two waits are over by then).
  const portOf = (n: Node): number => Number(/\/tcp\/(\d+)\//.exec(n.id().addrs[0] as string)?.[1])
  const [bPort, cPort] = [portOf(b), portOf(c)]
  await stop(b)
  await untilHeld(() => !linked(b), 'a saw b go')
  const atB = await dialsAt(bPort)
  t.after(atB.close)
  await stop(c)
  const atC = await dialsAt(cPort)
  t.after(atC.close)
  await untilHeld(() => atC.count() >= 3, 'a redialled c, a member, three times')
  assert.equal(atB.count(), 0, 'a revoked peer is not redialled')
})

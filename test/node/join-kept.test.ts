import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import type { NodeError } from '../../src/node/errors.ts'
import { untilHeld } from '../helpers/started-nodes.ts'

/**
 * `space join` while the inviter is away: the join entry is written at once and waits, in memory only, for the
 * invite to arrive from the inviter (a review's probes, J1 and J2).
 * - A restart of the joiner (a kill, a clean stop) lost that join for good: the space stayed held with no role, the
 *   inviter took the node for a stranger, and nothing said to join again. Now the join is kept (D/joins.json), held
 *   and presented again at start, and the inviter's addresses from the token are dialled again.
 * - A join that took effect after its command ended (INVITER_UNREACHABLE, or lost with its daemon) never joined the
 *   deployment status space the token carried, and `space join TOKEN` again answered NO_CHANGE. Now the deployment
 *   is joined when the join takes effect, whenever that is; and joining again joins a deployment still missing.
 */

async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

/** Nodes by name, each in its own directory, opened and stopped again as a test says; all stopped at its end. */
async function nodesOf (t: TestContext): Promise<{
  start: (name: string, listen?: string) => Promise<Node>
  stop: (name: string) => Promise<void>
  dir: (name: string) => string
}> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-join-kept-'))
  const running = new Map<string, Node>()
  t.after(async () => {
    for (const n of running.values()) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  const dir = (name: string): string => path.join(root, name)
  return {
    dir,
    start: async (name, listen) => {
      const n = Node.open({ dir: dir(name), ...listen === undefined ? {} : { listen: [listen] } })
      running.set(name, n)
      await n.start()
      return n
    },
    stop: async name => {
      const n = running.get(name)
      running.delete(name)
      await n?.stop()
    }
  }
}

/** The inviter `a` at a fixed address with a space and a token for it (which carries a's deployment); then away. */
async function inviterAway (t: TestContext): Promise<{
  nodes: Awaited<ReturnType<typeof nodesOf>>, aAddr: string, token: string, deployment: string[]
}> {
  const nodes = await nodesOf(t)
  const aAddr = `/ip4/127.0.0.1/tcp/${await freePort()}`
  const a = await nodes.start('a', aAddr)
  a.createSpace('team')
  const { token } = a.invite('team', 'writer', 1, 3_600_000)
  const { deployment } = a.status()
  assert.equal(deployment.length, 1, 'the invite made a\'s deployment')
  await nodes.stop('a')
  return { nodes, aAddr, token, deployment }
}

/** b's join, ended INVITER_UNREACHABLE (a is away): its message says the join is kept. */
async function joinUnanswered (b: Node, token: string): Promise<void> {
  await assert.rejects(b.join(token, 0), (err: NodeError) =>
    err.code === 'INVITER_UNREACHABLE' && /kept \(across restarts too\)/.test(err.message))
}

/** `node` is in the deployment: it holds a role in its status space, and counts it as its deployment. */
function inDeployment (node: Node, deployment: string[]): boolean {
  const [key] = deployment as [string]
  return node.status().deployment.includes(key) &&
    node.aclList(key).some(m => m.peerId === node.peerId && m.role !== null)
}

function keptJoins (dir: string): string[] {
  const file = path.join(dir, 'joins.json')
  if (!fs.existsSync(file)) return []
  return Object.keys((JSON.parse(fs.readFileSync(file, 'utf8')) as { joins: object }).joins)
}

test('a join cut off by a restart is presented again after it, admitted, and joins the deployment', {
  timeout: 300_000
}, async t => {
  const { nodes, aAddr, token, deployment } = await inviterAway(t)
  let b = await nodes.start('b')
  await joinUnanswered(b, token)
  const [waiting] = b.spaces()
  assert.deepEqual({ name: waiting?.name, role: waiting?.role, joinWaiting: waiting?.joinWaiting },
    { name: 'team', role: null, joinWaiting: true })
  assert.deepEqual(keptJoins(nodes.dir('b')), [waiting?.id], 'the join is kept on disk')

  // Restarted while the inviter is still away: the join is held again, and listed as waiting.
  await nodes.stop('b')
  b = await nodes.start('b')
  assert.equal(b.spaces()[0]?.joinWaiting, true, 'after the restart the join still waits')
  await nodes.stop('b')

  // The inviter is back; b, given no peer, dials the inviter's addresses its token carried and presents its join.
  const a = await nodes.start('a', aAddr)
  b = await nodes.start('b')
  await untilHeld(() => b.spaces()[0]?.role === 'writer', 'b is a writer of team')
  assert.ok(a.aclList('team').some(m => m.peerId === b.peerId && m.role === 'writer'), 'a admitted b')
  await untilHeld(() => inDeployment(b, deployment), 'b joined a\'s deployment')
  await untilHeld(() => keptJoins(nodes.dir('b')).length === 0, 'no join is kept once both took effect')
  assert.equal(b.spaces()[0]?.joinWaiting, false)
  await assert.rejects(b.join(token), (err: NodeError) => err.code === 'NO_CHANGE')
})

test('a join admitted after its command timed out joins the token\'s deployment too', {
  timeout: 300_000
}, async t => {
  const { nodes, aAddr, token, deployment } = await inviterAway(t)
  const b = await nodes.start('b')
  await joinUnanswered(b, token)
  await nodes.start('a', aAddr)
  await b.dial(aAddr) // the daemon redials the inviter on its backoff; at once here
  await untilHeld(() => b.spaces()[0]?.role === 'writer', 'b is a writer of team')
  await untilHeld(() => inDeployment(b, deployment), 'b joined a\'s deployment, no command waiting')
})

test('a member of a space whose deployment was never joined joins it with the token again, not NO_CHANGE', {
  timeout: 300_000
}, async t => {
  const { nodes, aAddr, token, deployment } = await inviterAway(t)
  let b = await nodes.start('b')
  await joinUnanswered(b, token)
  await nodes.stop('b')
  // As a join admitted before joins were kept left it: the deployment of the token known nowhere.
  const file = path.join(nodes.dir('b'), 'joins.json')
  const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { joins: Record<string, { deployment?: unknown }> }
  for (const j of Object.values(kept.joins)) delete j.deployment
  fs.writeFileSync(file, JSON.stringify(kept))
  const a = await nodes.start('a', aAddr)
  b = await nodes.start('b')
  await untilHeld(() => b.spaces()[0]?.role === 'writer' && keptJoins(nodes.dir('b')).length === 0,
    'b is a writer of team, its join done')
  assert.deepEqual(b.status().deployment, [], 'b is in no deployment')

  const joined = await b.join(token, 60_000)
  assert.deepEqual({ role: joined.role, deployment: joined.deployment }, { role: 'writer', deployment: 'joined' })
  assert.ok(inDeployment(b, deployment), 'b is in a\'s deployment')
  assert.ok(a.aclList(deployment[0] as string).some(m => m.peerId === b.peerId && m.role !== null))
  await assert.rejects(b.join(token), (err: NodeError) => err.code === 'NO_CHANGE')
})

test('a join its issuer refused is not kept: it is not presented again after a restart', {
  timeout: 300_000
}, async t => {
  const nodes = await nodesOf(t)
  const a = await nodes.start('a')
  a.createSpace('team')
  const { token } = a.invite('team', 'writer', 1, 3_600_000)
  const c = await nodes.start('c')
  await c.join(token, 60_000) // the token's one use
  let b = await nodes.start('b')
  await assert.rejects(b.join(token, 60_000), (err: NodeError) =>
    err.code === 'JOIN_REFUSED' && err.message.includes('uses-exhausted'))
  assert.deepEqual(keptJoins(nodes.dir('b')), [], 'the refused join is dropped')
  await nodes.stop('b')
  b = await nodes.start('b')
  const listed = b.spaces().map(s => ({ role: s.role, joinWaiting: s.joinWaiting }))
  assert.deepEqual(listed, [{ role: null, joinWaiting: false }], 'held with no role, no join presented')
})

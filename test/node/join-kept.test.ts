import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import type { NodeError } from '../../src/node/errors.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
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
 * - A kept join its issuer refused after its command ended left D/joins.json but stayed pending in memory: `space
 *   list` said "joining (waits for the inviter)", the join was presented on, and nobody was told (review M3). Now the
 *   refusal drops it from pending too, `space list` says joinRefused (also after a restart), and a notice says why.
 * - Joining again only for a missing deployment that did not take effect said ok (exit 0) for nothing done, and
 *   pointed to `space list`, which never lists the deployment (review M4). Now it fails as a first join would.
 */

async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

/** Nodes by name, each in its own directory, opened and stopped again as a test says; all stopped at its end. */
async function nodesOf (t: TestContext): Promise<{
  /** `opened`: called before the node goes on the network (to listen to its events from the first). */
  start: (name: string, listen?: string, opened?: (n: Node) => void) => Promise<Node>
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
    start: async (name, listen, opened) => {
      const n = Node.open({ dir: dir(name), ...listen === undefined ? {} : { listen: [listen] } })
      opened?.(n)
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

/** What `space list` says of b's spaces: role, and why there is none. */
function listed (node: Node): unknown[] {
  return node.spaces().map(s => ({ role: s.role, joinWaiting: s.joinWaiting, refused: s.joinRefused?.reason ?? null }))
}

/** Whether `node` still presents a join of its own in `space` (held pending, in memory). */
function presentsJoin (node: Node, space: string): boolean {
  return node.space(space).pendingJoin(authorKeyOf(node.keyPair.publicKey)) !== undefined
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

/** b a writer of a's team whose join took effect, as one admitted before joins were kept left it: no deployment. */
async function memberWithoutDeployment (t: TestContext): Promise<{
  nodes: Awaited<ReturnType<typeof nodesOf>>, token: string, deployment: string[], a: Node, b: Node
}> {
  const { nodes, aAddr, token, deployment } = await inviterAway(t)
  await joinUnanswered(await nodes.start('b'), token)
  await nodes.stop('b')
  // The deployment of the token known nowhere.
  const file = path.join(nodes.dir('b'), 'joins.json')
  const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { joins: Record<string, { deployment?: unknown }> }
  for (const j of Object.values(kept.joins)) delete j.deployment
  fs.writeFileSync(file, JSON.stringify(kept))
  const a = await nodes.start('a', aAddr)
  const b = await nodes.start('b')
  await untilHeld(() => b.spaces()[0]?.role === 'writer' && keptJoins(nodes.dir('b')).length === 0,
    'b is a writer of team, its join done')
  assert.deepEqual(b.status().deployment, [], 'b is in no deployment')
  return { nodes, token, deployment, a, b }
}

test('a member of a space whose deployment was never joined joins it with the token again, not NO_CHANGE', {
  timeout: 300_000
}, async t => {
  const { token, deployment, a, b } = await memberWithoutDeployment(t)

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
  const refused = [{ role: null, joinWaiting: false, refused: 'uses-exhausted' }]
  assert.deepEqual(listed(b), refused, 'space list says the join was refused, not that it waits')
  assert.equal(presentsJoin(b, 'team'), false, 'the refused join is presented no more')
  await nodes.stop('b')
  b = await nodes.start('b')
  assert.deepEqual(listed(b), refused, 'the same after a restart: held with no role, the refusal said')
})

test('a kept join its issuer refuses later is presented no more, listed as refused, and said in a notice', {
  timeout: 300_000
}, async t => {
  const { nodes, aAddr, token } = await inviterAway(t)
  await joinUnanswered(await nodes.start('b'), token)
  await nodes.stop('b') // away while c takes the token's one use: b's join can no longer be admitted
  const a = await nodes.start('a', aAddr)
  await (await nodes.start('c')).join(token, 60_000)
  // b presents its kept join at start, and the command that wrote it ended long ago: nobody waits for the answer.
  const notices: string[] = []
  let b = await nodes.start('b', undefined, n => { n.on('notice', e => { notices.push(e.message) }) })
  await untilHeld(() => notices.some(m => m.includes('refused')), 'b is told its join was refused')
  const notice = notices.find(m => m.includes('refused')) ?? ''
  assert.match(notice, /^your join of space team was refused by its inviter \(uses-exhausted: /)
  assert.match(notice, /; ask for a new invite, then samepage space join TOKEN; or samepage space leave team$/)
  const refused = [{ role: null, joinWaiting: false, refused: 'uses-exhausted' }]
  assert.deepEqual(listed(b), refused, 'space list says the join was refused, not that it waits')
  assert.equal(presentsJoin(b, 'team'), false, 'the refused join is presented no more')
  assert.deepEqual(keptJoins(nodes.dir('b')), [], 'nor kept to present after a restart')
  await nodes.stop('b')
  b = await nodes.start('b')
  assert.deepEqual(listed(b), refused, 'after a restart the space reads the same')

  // A new invite: joined, and the refusal is no longer the news.
  const { token: next } = a.invite('team', 'writer', 1, 3_600_000)
  assert.equal((await b.join(next, 60_000)).role, 'writer')
  assert.deepEqual(listed(b), [{ role: 'writer', joinWaiting: false, refused: null }])
})

test('a refused join\'s news ends when its space is left', { timeout: 300_000 }, async t => {
  const nodes = await nodesOf(t)
  const a = await nodes.start('a')
  a.createSpace('team')
  const { token } = a.invite('team', 'writer', 1, 3_600_000)
  await (await nodes.start('c')).join(token, 60_000)
  let b = await nodes.start('b')
  await assert.rejects(b.join(token, 60_000), (err: NodeError) => err.code === 'JOIN_REFUSED')
  await b.leave('team')
  assert.deepEqual(listed(b), [])
  await nodes.stop('b')
  b = await nodes.start('b')
  assert.deepEqual(listed(b), [], 'nothing held or said after a restart')
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(nodes.dir('b'), 'joins.json'), 'utf8')),
    { joins: {}, refused: {} })
})

test('joining again only for a missing deployment that does not take effect fails as a first join would', {
  timeout: 300_000
}, async t => {
  const { nodes, token, b } = await memberWithoutDeployment(t)
  await nodes.stop('a') // the inviter away again: the deployment's join cannot take effect

  await assert.rejects(b.join(token, 0), (err: NodeError) => {
    assert.equal(err.code, 'INVITER_UNREACHABLE')
    assert.match(err.message, /^this node is writer in space team already; only the deployment status space of this/)
    assert.match(err.message, /kept \(across restarts too\).*takes effect then with no other command$/)
    assert.doesNotMatch(err.message, /space list/, 'space list does not list a deployment status space')
    return true
  })
  assert.deepEqual(listed(b), [{ role: 'writer', joinWaiting: false, refused: null }])
})

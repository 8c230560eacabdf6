import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { BIN, cli, eventually, ok } from './harness.ts'
import { Daemons } from './daemons.ts'

/**
 * Review J1 with real daemons: the joiner's daemon SIGKILLed while `space join` waits for the inviter (its join
 * written, the space held with no role). The join lived only in memory: after the restart it was never presented,
 * the inviter cut the node off as a stranger every 10 s, and the space stayed listed with no role for good. Now the
 * join is kept (D/joins.json) before the command can see it waiting: presented again at start, the inviter dialled
 * at the token's addresses (no --peer given), admitted, and the token's deployment joined.
 */
async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

type Listed = { name: string, role: string | null, joinWaiting: boolean }[]

test('a join whose daemon was killed while it waited is presented after the restart and admitted', {
  timeout: 600_000
}, async () => {
  const nodes = new Daemons()
  try {
    const listenA = ['--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`]
    await nodes.run('a', listenA)
    ok(nodes.dir('a'), 'space', 'create', 'team')
    const token = ok(nodes.dir('a'), 'space', 'invite', 'team', '--role', 'writer').token as string
    const deployment = (ok(nodes.dir('a'), 'status') as { deployment: string[] }).deployment
    await nodes.halt('a') // the inviter is away while B joins
    await nodes.run('b')
    const args = [BIN, '--dir', nodes.dir('b'), '--json', 'space', 'join', token, '--wait', '600s']
    const joiner = spawn(process.execPath, args, { stdio: 'ignore' })
    const joinerExit = new Promise(resolve => joiner.once('exit', resolve))
    await eventually('B holds the space, its join waiting', () => ok(nodes.dir('b'), 'space', 'list') as Listed,
      l => l.some(s => s.name === 'team' && s.role === null && s.joinWaiting))
    await nodes.halt('b', 'SIGKILL')
    await joinerExit

    await nodes.run('a', listenA)
    await nodes.run('b')
    await eventually('B is a writer of team', () => ok(nodes.dir('b'), 'space', 'list') as Listed,
      l => l.some(s => s.name === 'team' && s.role === 'writer' && !s.joinWaiting))
    const bId = ok(nodes.dir('b'), 'id').peerId as string
    // The deployment is joined once the event of the entries that admitted B is out (after their sync): waited for.
    await eventually('B counts A\'s as its deployment', () => (ok(nodes.dir('b'), 'status') as
      { deployment: string[] }).deployment, d => d.length === 1 && d[0] === deployment[0])
    type Acl = { peerId: string, role: string | null }[]
    const aclOfDeployment = (): Acl => ok(nodes.dir('b'), 'acl', 'list', deployment[0] as string) as Acl
    await eventually('B is a member of A\'s deployment', aclOfDeployment,
      acl => acl.some(m => m.peerId === bId && m.role !== null))
    assert.equal(cli(nodes.dir('b'), 'space', 'join', token).json?.error?.code, 'NO_CHANGE')
  } finally {
    await nodes.close()
  }
})

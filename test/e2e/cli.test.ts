import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { cli, eventually, ok, ON_LOOPBACK, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * Three daemons on 127.0.0.1 driven through the CLI, as a user would:
 * a space created on one, joined by invites on the others, writes on every
 * node, and every node answering every read the same.
 */
describe('three daemons through the CLI', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dirs = ['a', 'b', 'c'].map(n => path.join(root, n))
  const daemons: Daemon[] = []
  let space = ''

  before(async () => {
    for (const dir of dirs) daemons.push(await startDaemon(dir))
  })
  after(async () => {
    for (const d of daemons) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('a space created on one node is joined by invites on the others', async () => {
    const [a, b, c] = dirs as [string, string, string]
    const created = ok(a, 'space', 'create', 'team')
    assert.equal(created.name, 'team')
    space = created.id
    for (const dir of [b, c]) {
      const { token } = ok(a, 'space', 'invite', 'team', '--role', 'writer')
      assert.match(token, /^sp1/)
      assert.equal(ok(dir, 'space', 'join', token).id, space)
    }
    for (const dir of dirs) {
      await eventually(`${dir} sees three writers`, () => ok(dir, 'acl', 'list', space) as { role: string }[], acl => acl.filter(m => m.role !== null).length === 3)
    }
  })

  test('writes on every node; every node answers every read the same', async () => {
    dirs.forEach((dir, i) => {
      ok(dir, 'kv', 'put', 'team', `from-${i}`, `value ${i}`)
      ok(dir, 'counter', 'add', 'team', 'visits', String(i + 1))
      ok(dir, 'ledger', 'append', 'team', JSON.stringify({ node: i, amount: 10 * (i + 1) }))
    })
    const expectedKeys = dirs.map((_, i) => `from-${i}`).sort()
    for (const dir of dirs) {
      await eventually(`${dir} holds every write`, () => ({
        kv: ok(dir, 'kv', 'list', 'team'), counter: ok(dir, 'counter', 'get', 'team', 'visits'), ledger: ok(dir, 'ledger', 'list', 'team')
      }), v => v.kv.length === 3 && v.counter.value === 6 && v.ledger.length === 3)
    }
    const answers = dirs.map(dir => JSON.stringify([ok(dir, 'kv', 'list', 'team'), ok(dir, 'counter', 'get', 'team', 'visits'), ok(dir, 'ledger', 'list', 'team')]))
    assert.equal(new Set(answers).size, 1, 'every node answers the same')
    assert.deepEqual(ok(dirs[0]!, 'kv', 'list', 'team').map((e: { key: string }) => e.key).sort(), expectedKeys)
    assert.deepEqual(ok(dirs[2]!, 'kv', 'get', 'team', 'from-1'), { key: 'from-1', value: 'value 1' })
  })

  test('a node SIGKILLed during a write storm, then restarted, catches up', async () => {
    const [a, , c] = dirs as [string, string, string]
    const victim = daemons[2] as Daemon
    for (let i = 0; i < 40; i++) {
      ok(a, 'kv', 'put', 'team', `storm-${i}`, String(i))
      if (i === 15) await stop(victim, 'SIGKILL')
    }
    daemons[2] = await startDaemon(c)
    await eventually('the restarted node has the storm', () => ok(c, 'kv', 'list', 'team') as unknown[], kv => kv.length === 43, 60_000)
    assert.equal(JSON.stringify(ok(c, 'kv', 'list', 'team')), JSON.stringify(ok(a, 'kv', 'list', 'team')))
  })

  test('a second daemon on the same directory refuses with a clear error', async () => {
    const r = cli(dirs[0]!, 'start', ...ON_LOOPBACK)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /in use by another samepage daemon \(pid \d+\)/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })

  test('bad input: one line saying what to do, and a non-zero exit', () => {
    const a = dirs[0]!
    const cases: [string[], RegExp][] = [
      [['kv', 'get', 'no-such-space', 'k'], /no space "no-such-space" here/],
      [['space', 'join', 'sp1garbage'], /invite token is not valid/],
      [['space', 'join', 'hello'], /invite token is not valid/],
      [['ledger', 'append', 'team', '{not json'], /not valid JSON/],
      [['counter', 'add', 'team', 'c', 'ten'], /not a whole number/],
      [['acl', 'grant', 'team', 'not-a-peer', 'writer'], /not a peer id/],
      [['space', 'invite', 'team', '--role', 'writer', '--expires', 'soon'], /not a duration/],
      [['no-such-command'], /unknown command/]
    ]
    for (const [args, pattern] of cases) {
      const r = cli(a, ...args)
      assert.notEqual(r.code, 0, args.join(' '))
      assert.match(r.stderr, pattern, args.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`)
    }
    const stopped = cli(path.join(root, 'never-started'), 'kv', 'list', 'team')
    assert.notEqual(stopped.code, 0)
    assert.match(stopped.stderr, /no samepage daemon is running for .*; start one with: samepage start --dir/)
  })

  test('config.json: its peers are dialled at start; a broken one is refused with one line naming the file', async () => {
    const d = path.join(root, 'configured')
    fs.mkdirSync(d)
    const aAddr = (ok(dirs[0]!, 'id') as { addrs: string[] }).addrs[0] as string
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ peers: [aAddr], listen: ['/ip4/127.0.0.1/tcp/0'] }))
    const node = await startDaemon(d)
    try {
      await eventually('the peer from config.json is connected', () => ok(d, 'peers') as { peerId: string }[], p => p.some(x => x.peerId === daemons[0]!.peerId))
    } finally {
      await stop(node)
    }
    for (const [text, pattern] of [['{"peers": [', /config\.json is not valid JSON/], ['{"peers": ["not an address"]}', /not a multiaddr/], ['{"peer": []}', /unknown field "peer"/]] as const) {
      fs.writeFileSync(path.join(d, 'config.json'), text)
      const r = cli(d, 'start', ...ON_LOOPBACK)
      assert.notEqual(r.code, 0, text)
      assert.match(r.stderr, pattern, text)
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${text}: ${r.stderr}`)
    }
  })
})

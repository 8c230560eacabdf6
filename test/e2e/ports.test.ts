import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { API_PORT, PEER_PORT } from '../../src/node/index.ts'
import { cli, cliVia, eventually, ON_LOOPBACK, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { ip, netnsSkipReason } from './netns.ts'

/**
 * `samepage start` with no --listen and no --api: peers reach it on every
 * interface at TCP 4815, its API is on 127.0.0.1:4816, the next free ports
 * when those are taken, and a node keeps its ports across restarts. Run in
 * a network namespace of the test's own (its loopback and a veth
 * pair), so that binding every interface at fixed ports touches
 * nothing of this machine's and no other test's.
 */
const NS = `spports${process.pid}`
const inNs = ['ip', 'netns', 'exec', NS]
const OTHER_IP = '10.78.0.1'

const skip = netnsSkipReason(['ip'])

describe('stable ports, inside a network namespace of the test\'s own', { timeout: 600_000, skip }, () => {
  const root = tempRoot()
  const dir = (name: string): string => path.join(root, name)
  const running: Daemon[] = []
  const start = async (name: string): Promise<Daemon> => {
    const d = await startDaemon(dir(name), [], inNs)
    running.push(d)
    return d
  }
  const halt = async (d: Daemon): Promise<void> => {
    await stop(d)
    running.splice(running.indexOf(d), 1)
  }
  /** The TCP ports a daemon listens on for peers, and its API's port. */
  const portsOf = (d: Daemon): { peer: number[], api: number } => {
    const api = JSON.parse(fs.readFileSync(path.join(d.dir, 'api.json'), 'utf8')) as { url: string }
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the API on 127.0.0.1 only')
    return { peer: [...new Set(d.addrs.map(a => Number(/\/tcp\/(\d+)\//.exec(a)?.[1])))], api: Number(new URL(api.url).port) }
  }

  before(() => {
    ip('netns', 'add', NS)
    ip('-n', NS, 'link', 'set', 'lo', 'up')
    // A second interface (a veth pair kept inside the namespace): "every interface" is more than loopback.
    ip('-n', NS, 'link', 'add', 'sppa', 'type', 'veth', 'peer', 'name', 'sppb')
    ip('-n', NS, 'addr', 'add', `${OTHER_IP}/24`, 'dev', 'sppa')
    for (const dev of ['sppa', 'sppb']) ip('-n', NS, 'link', 'set', dev, 'up')
  })
  after(async () => {
    for (const d of [...running]) await stop(d)
    try { ip('netns', 'del', NS) } catch { /* already gone */ }
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('the defaults: every interface at 4815, the API at 127.0.0.1:4816', async () => {
    const a = await start('a')
    assert.deepEqual(portsOf(a), { peer: [PEER_PORT], api: API_PORT })
    assert.ok(a.addrs.some(x => x.startsWith(`/ip4/${OTHER_IP}/tcp/${PEER_PORT}/p2p/`)), `every interface: ${a.addrs.join(' ')}`)
    assert.ok(a.addrs.some(x => x.startsWith(`/ip4/127.0.0.1/tcp/${PEER_PORT}/p2p/`)), a.addrs.join(' '))
    await halt(a)
  })

  test('ports taken: the next free ones; a node keeps its ports across restarts, even once the defaults are free', async () => {
    const b = await start('b') // a is stopped: b, new, takes the defaults
    assert.deepEqual(portsOf(b), { peer: [PEER_PORT], api: API_PORT })
    let a = await start('a') // its ports are b's now: 4815 (b's peers), 4816 (b's API), so 4817, then 4818
    assert.deepEqual(portsOf(a), { peer: [PEER_PORT + 2], api: API_PORT + 2 })
    await halt(b)
    await halt(a)
    a = await start('a')
    assert.deepEqual(portsOf(a), { peer: [PEER_PORT + 2], api: API_PORT + 2 }, 'restarted alone: the ports it had')
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir('a'), 'ports.json'), 'utf8')),
      { listen: PEER_PORT + 2, api: API_PORT + 2 })
    await halt(a)
  })

  test('two members that both restart find each other again, at the ports they kept', async () => {
    const ok = (name: string, ...args: string[]): any => {
      const r = cliVia(inNs, dir(name), ...args)
      if (r.code !== 0) throw new Error(`samepage ${args.join(' ')} on ${name}: ${r.stderr}`)
      return r.json
    }
    const peersOf = (name: string): string[] => (ok(name, 'peers') as { peerId: string }[]).map(p => p.peerId)
    let [a, b] = [await start('a'), await start('b')]
    ok('a', 'space', 'create', 'team')
    ok('b', 'space', 'join', ok('a', 'space', 'invite', 'team', '--role', 'writer').token)
    await halt(a)
    await halt(b)
    a = await start('a') // b is down: a's dials fail, and it keeps trying on its backoff
    b = await start('b')
    assert.deepEqual([portsOf(a).peer, portsOf(b).peer], [[PEER_PORT + 2], [PEER_PORT]])
    await eventually('a and b connected again', () => [peersOf('a'), peersOf('b')],
      ([fromA, fromB]) => fromA!.includes(b.peerId) && fromB!.includes(a.peerId))
    ok('b', 'kv', 'put', 'team', 'after', 'both restarted')
    await eventually('b\'s write reached a', () => ok('a', 'kv', 'list', 'team') as unknown[], kv => kv.length === 1)
    await halt(a)
    await halt(b)
  })
})

describe('`samepage start` refuses a bad address with a usage error', { timeout: 600_000 }, () => {
  const root = tempRoot()
  after(() => { fs.rmSync(root, { recursive: true, force: true }) })

  test('a bad --peer or --listen: exit 2, one line naming the value and what is expected; nothing opened', () => {
    const cases: [string, string][] = [['--peer', 'not-an-address'], ['--peer', '/ip4/1.2.3/tcp/1'], ['--listen', 'localhost:4815']]
    for (const [flag, value] of cases) {
      const d = path.join(root, `bad${flag}${value.replace(/\W/g, '')}`)
      const r = cli(d, 'start', ...ON_LOOPBACK, flag, value)
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`${flag} "${value.replace(/[./]/g, '\\$&')}" is not a multiaddr like /ip4/`))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(fs.existsSync(path.join(d, 'daemon.lock')), false, 'refused before the directory was opened')
    }
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { cliVia, eventually, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { ip, netnsSkipReason } from './netns.ts'

/**
 * Peer exchange: a and b share a space that c is not in, and know each
 * other only at their old addresses when both restart on new ports; c stays
 * where it was. They find each other again through c (their status records
 * carry their new addresses to every member of the deployment) and sync the
 * space c cannot carry for them. Run on a LAN of the test's own (three
 * network namespaces with one address each on a bridge in a fourth, so
 * nothing leaves this machine's own namespaces), and on one host
 * (127.0.0.1, where loopback addresses are what members exchange).
 */
const ID = process.pid % 100_000
const NAMES = ['a', 'b', 'c'] as const
type Name = typeof NAMES[number]
const LAN = `sppex${ID}lan`
const ns = (n: Name): string => `sppex${ID}${n}`
const IP: Record<Name, string> = { a: '10.85.0.1', b: '10.85.0.2', c: '10.85.0.3' }
const inNs = (n: Name): string[] => ['ip', 'netns', 'exec', ns(n)]

const skip = netnsSkipReason(['ip'])

/** Where each node runs: `listen` gives its --listen for its first and its second run (new ports). */
interface Place {
  readonly prefix: (n: Name) => string[]
  readonly listen: (n: Name, run: 1 | 2) => string
}

function scenario (place: Place): void {
  const root = tempRoot()
  const dir = (n: Name): string => path.join(root, n)
  const running = new Map<Name, Daemon>()
  const start = async (n: Name, run: 1 | 2): Promise<Daemon> => {
    const d = await startDaemon(dir(n), ['--listen', place.listen(n, run), '--api', '127.0.0.1:0'], place.prefix(n))
    running.set(n, d)
    return d
  }
  const halt = async (n: Name): Promise<void> => {
    const d = running.get(n)
    if (d !== undefined) await stop(d)
    running.delete(n)
  }
  const ok = (n: Name, ...args: string[]): any => {
    const r = cliVia(place.prefix(n), dir(n), ...args)
    if (r.code !== 0) throw new Error(`samepage ${args.join(' ')} on ${n}: ${r.stderr}`)
    return r.json
  }
  const peersOf = (n: Name): string[] => (ok(n, 'peers') as { peerId: string }[]).map(p => p.peerId)
  const remembered = (n: Name): Record<string, string[]> =>
    JSON.parse(fs.readFileSync(path.join(dir(n), 'peers.json'), 'utf8')) as Record<string, string[]>
  const portOf = (addr: string): string => /\/tcp\/(\d+)\//.exec(addr)?.[1] ?? '?'

  after(async () => {
    for (const n of NAMES) await halt(n)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('two members that both restart on new ports find each other again through a third', async () => {
    const c = await start('c', 1)
    let a = await start('a', 1)
    let b = await start('b', 1)
    // c brings a and b into its space (and so its deployment); a and b share a space of their own.
    ok('c', 'space', 'create', 'team')
    for (const n of ['a', 'b'] as const) ok(n, 'space', 'join', ok('c', 'space', 'invite', 'team', '--role', 'writer').token)
    ok('a', 'space', 'create', 'pair')
    ok('b', 'space', 'join', ok('a', 'space', 'invite', 'pair', '--role', 'writer').token)
    await eventually('a and b connected, and each remembers the other', () => ({
      a: peersOf('a'), b: peersOf('b'), aKnows: Object.keys(remembered('a')), bKnows: Object.keys(remembered('b'))
    }), v => [c.peerId, b.peerId].every(p => v.a.includes(p)) && [c.peerId, a.peerId].every(p => v.b.includes(p)) &&
      v.aKnows.includes(b.peerId) && v.bKnows.includes(a.peerId))
    const oldPorts = { a: new Set(a.addrs.map(portOf)), b: new Set(b.addrs.map(portOf)) }

    await halt('a')
    await halt('b')
    const restartedMs = Date.now()
    a = await start('a', 2)
    b = await start('b', 2)
    assert.ok(a.addrs.every(x => !oldPorts.a.has(portOf(x))) && b.addrs.every(x => !oldPorts.b.has(portOf(x))),
      `new ports: a ${a.addrs.join(' ')}, b ${b.addrs.join(' ')}`)
    const aKnownToB = remembered('b')[a.peerId] ?? []
    assert.ok(aKnownToB.every(x => oldPorts.a.has(portOf(x))), `b knows a at its old port only: ${aKnownToB.join(' ')}`)
    await eventually('a and b connected again', () => [peersOf('a'), peersOf('b')],
      ([fromA, fromB]) => fromA!.includes(b.peerId) && fromB!.includes(a.peerId))
    const tookMs = Date.now() - restartedMs
    console.log(`# a and b found each other again ${(tookMs / 1000).toFixed(1)} s after they restarted on new ports`)

    // "pair" is not c's: its entries travel between a and b only, directly.
    ok('b', 'kv', 'put', 'pair', 'after', 'both moved')
    await eventually('b\'s write reached a', () => ok('a', 'kv', 'list', 'pair') as unknown[], kv => kv.length === 1)
    await eventually('b remembers a at its new port', () => remembered('b')[a.peerId] ?? [],
      addrs => addrs.some(x => a.addrs.includes(x)))
    // `samepage peers` gives each peer's round trip (libp2p's connection monitor pings every 10 s).
    const toB = await eventually('a measured its round trip to b', () => ok('a', 'peers') as { peerId: string, rttMs: number | null }[],
      peers => typeof peers.find(p => p.peerId === b.peerId)?.rttMs === 'number')
    console.log(`# a's round trip to b: ${toB.find(p => p.peerId === b.peerId)?.rttMs} ms`)
    assert.ok(running.get('c') === c && c.child.exitCode === null, 'c stayed where it was throughout')
  })
}

describe('peer exchange on a LAN, inside network namespaces of the test\'s own', { timeout: 600_000, skip }, () => {
  before(() => {
    ip('netns', 'add', LAN)
    ip('-n', LAN, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', LAN, 'link', 'set', 'br0', 'up')
    for (const n of NAMES) {
      ip('netns', 'add', ns(n))
      ip('-n', ns(n), 'link', 'set', 'lo', 'up')
      // One end in the node's namespace (eth0), the other on the LAN's bridge.
      ip('link', 'add', `px${ID}${n}`, 'netns', LAN, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(n))
      ip('-n', LAN, 'link', 'set', `px${ID}${n}`, 'master', 'br0')
      ip('-n', LAN, 'link', 'set', `px${ID}${n}`, 'up')
      ip('-n', ns(n), 'addr', 'add', `${IP[n]}/24`, 'dev', 'eth0')
      ip('-n', ns(n), 'link', 'set', 'eth0', 'up')
    }
  })
  scenario({ prefix: inNs, listen: (n, run) => `/ip4/${IP[n]}/tcp/${4000 + run}` })
  after(() => {
    // Registered after the scenario's own, so it runs once the daemons stopped: the namespaces go, their links too.
    for (const name of [...NAMES.map(ns), LAN]) { try { ip('netns', 'del', name) } catch { /* already gone */ } }
  })
})

describe('peer exchange on one host (127.0.0.1)', { timeout: 600_000 }, () => {
  scenario({ prefix: () => [], listen: () => '/ip4/127.0.0.1/tcp/0' })
})

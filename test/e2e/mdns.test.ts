import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { cliVia, eventually, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { ip, netnsSkipReason } from './netns.ts'

/**
 * mDNS on a network of the test's own: two network namespaces joined by a
 * veth pair (10.77.0.0/24), so no multicast leaves this machine's own
 * namespaces. Without --mdns two nodes on that link never find each other;
 * with it, each finds and connects to the other with no address given once
 * they are members of one space (a stranger found on the LAN is not dialled:
 * mdns-stranger.test.ts).
 */
const NS = [`spmdns${process.pid}a`, `spmdns${process.pid}b`] as const
const IPS = ['10.77.0.1', '10.77.0.2'] as const
const inNs = (i: number): string[] => ['ip', 'netns', 'exec', NS[i] as string]

const skip = netnsSkipReason(['ip'])

describe('mDNS, inside network namespaces of the test\'s own', { timeout: 600_000, skip }, () => {
  const root = tempRoot()
  const dir = (i: number): string => path.join(root, `n${i}`)
  let daemons: Daemon[] = []
  const peersOf = (i: number): string[] => {
    const r = cliVia(inNs(i), dir(i), 'peers')
    if (r.code !== 0) throw new Error(r.stderr)
    return (r.json as { peerId: string }[]).map(p => p.peerId)
  }
  const startBoth = async (extra: string[]): Promise<void> => {
    daemons = await Promise.all([0, 1].map(async i => await startDaemon(dir(i), ['--listen', `/ip4/${IPS[i]}/tcp/0`, ...extra], inNs(i))))
  }
  const stopBoth = async (): Promise<void> => {
    for (const d of daemons) await stop(d)
    daemons = []
  }

  before(() => {
    for (const ns of NS) ip('netns', 'add', ns)
    ip('link', 'add', 'spva', 'netns', NS[0], 'type', 'veth', 'peer', 'name', 'spvb', 'netns', NS[1])
    for (const [i, dev] of [[0, 'spva'], [1, 'spvb']] as const) {
      ip('-n', NS[i], 'addr', 'add', `${IPS[i]}/24`, 'dev', dev)
      ip('-n', NS[i], 'link', 'set', 'lo', 'up')
      ip('-n', NS[i], 'link', 'set', dev, 'up')
      ip('-n', NS[i], 'route', 'add', '224.0.0.0/4', 'dev', dev)
    }
  })
  after(async () => {
    await stopBoth()
    for (const ns of NS) { try { ip('netns', 'del', ns) } catch { /* already gone */ } }
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('off by default: two nodes on one link, no address given, stay apart', async () => {
    await startBoth([])
    await new Promise(resolve => setTimeout(resolve, 8_000)) // longer than an mDNS query period
    assert.deepEqual(peersOf(0), [])
    assert.deepEqual(peersOf(1), [])
    await stopBoth()
  })

  test('with --mdns, members find and connect to each other with no address given', async () => {
    await startBoth(['--mdns'])
    const [a, b] = daemons as [Daemon, Daemon]
    const okVia = (i: number, ...args: string[]): any => {
      const r = cliVia(inNs(i), dir(i), ...args)
      if (r.code !== 0) throw new Error(r.stderr)
      return r.json
    }
    okVia(0, 'space', 'create', 'team')
    okVia(1, 'space', 'join', okVia(0, 'space', 'invite', 'team', '--role', 'writer').token)
    await stopBoth()
    // Where each reached the other is forgotten: only mDNS can bring them together again.
    for (const i of [0, 1]) fs.rmSync(path.join(dir(i), 'peers.json'), { force: true })
    await startBoth(['--mdns'])
    await eventually('a finds b', () => peersOf(0), p => p.includes(b.peerId), 30_000)
    await eventually('b is connected to a', () => peersOf(1), p => p.includes(a.peerId), 30_000)
  })
})

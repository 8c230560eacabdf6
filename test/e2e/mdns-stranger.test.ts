/**
 * With --mdns on, any stranger on the LAN can answer (or simply announce,
 * unasked) the node's mDNS service with peer ids it makes up and any
 * addresses it likes. Found by a review: libp2p put each in its peer store
 * (never removed) and the node dialled every one, so a stranger steered its
 * dials at any host and port: 40 made-up ids named at a plain TCP service on
 * another host (10.78.0.2:7777) and at one on the node's OWN loopback
 * (127.0.0.1:7778) drew 80 connections in 15 s. Now a discovered peer is
 * dialled only if the node wants it anyway (a member, a known or a static
 * peer), at the addresses peer exchange's rule takes, and the peer store keeps
 * nothing of a stranger (src/net/discovery.ts). Two network namespaces of the
 * test's own joined by a veth pair; no packet leaves them. The announcements
 * go on for a fixed window (as the mDNS test's "off by default" waits): a dial
 * that never comes has no event to wait for.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { ip, netnsSkipReason } from './netns.ts'

const NS = [`spd${process.pid}a`, `spd${process.pid}b`] as const
const IPS = ['10.78.0.1', '10.78.0.2'] as const
const DEV = [`sd${process.pid % 100000}a`, `sd${process.pid % 100000}b`] as const
const inNs = (i: number): string[] => ['ip', 'netns', 'exec', NS[i] as string]
const HELPER = path.join(import.meta.dirname, 'mdns-stranger.ts')
const SECONDS = 15
const skip = netnsSkipReason(['ip'])

/** Runs the helper in namespace `i`; resolves once it printed `ready`, with `done`: its lines, at its end. */
async function helper (i: number, ready: string, ...args: string[]): Promise<{ done: Promise<string[]> }> {
  const [cmd, ...pre] = inNs(i) as [string, ...string[]]
  const child = spawn(cmd, [...pre, process.execPath, HELPER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const rl = readline.createInterface({ input: child.stdout })
  let started: () => void = () => {}
  const up = new Promise<void>(resolve => { started = resolve })
  rl.on('line', l => { lines.push(l); if (l === ready) started() })
  const done = new Promise<string[]>(resolve => { child.once('exit', () => { resolve(lines) }) })
  await up
  return { done }
}

describe('mDNS strangers, inside network namespaces of the test\'s own', { timeout: 180_000, skip }, () => {
  const root = tempRoot()
  let daemon: Daemon | undefined

  before(() => {
    for (const ns of NS) ip('netns', 'add', ns)
    ip('link', 'add', DEV[0], 'netns', NS[0], 'type', 'veth', 'peer', 'name', DEV[1], 'netns', NS[1])
    for (const i of [0, 1]) {
      ip('-n', NS[i] as string, 'addr', 'add', `${IPS[i]}/24`, 'dev', DEV[i] as string)
      ip('-n', NS[i] as string, 'link', 'set', 'lo', 'up')
      ip('-n', NS[i] as string, 'link', 'set', DEV[i] as string, 'up')
      ip('-n', NS[i] as string, 'route', 'add', '224.0.0.0/4', 'dev', DEV[i] as string)
    }
  })
  after(async () => {
    try { if (daemon !== undefined) await stop(daemon) } finally {
      for (const ns of NS) { try { ip('netns', 'del', ns) } catch { /* already gone */ } }
    }
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('a stranger on the LAN cannot make an --mdns node dial a host or port it names', async () => {
    const listen = ['--listen', `/ip4/${IPS[0]}/tcp/0`, '--api', '127.0.0.1:0', '--mdns']
    daemon = await startDaemon(path.join(root, 'a'), listen, inNs(0))
    const lanVictim = await helper(1, 'listening', 'victim', IPS[1], '7777', String(SECONDS))
    const ownLoopback = await helper(0, 'listening', 'victim', '127.0.0.1', '7778', String(SECONDS))
    const stranger = await helper(1, 'announcing', 'announce', IPS[1], String(SECONDS - 1),
      `/ip4/${IPS[1]}/tcp/7777`, '/ip4/127.0.0.1/tcp/7778')
    const count = (lines: string[]): number =>
      (JSON.parse(lines.at(-1) as string) as { connections: number }).connections
    const [lan, own] = [count(await lanVictim.done), count(await ownLoopback.done)]
    await stranger.done
    console.log(`# in ${SECONDS} s: the node connected ${lan} times to ${IPS[1]}:7777, ${own} times to its 127.0.0.1:7778`)
    assert.equal(lan, 0, 'the node dialled a LAN service at a stranger\'s word')
    assert.equal(own, 0, 'the node dialled a service on its own loopback at a stranger\'s word')
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { cliVia, eventually, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { NatLab, netnsSkipReason } from './netns.ts'
import type { NatHost, PublicHost } from './netns.ts'
import { treeKey } from '../files/tree.ts'

/**
 * Two nodes, each behind its own NAT (iptables MASQUERADE in a router
 * namespace), and one member R on the internet, all real daemons in network
 * namespaces of the test's own (netns.ts). A and B join R's space by invite,
 * learn from R that no one can dial them, reserve a slot at R, and meet
 * through R by peer exchange alone: neither is given the other's address,
 * each reads the other's relayed address in its status record, which R
 * passes on, and dials it (they share a space). A TCP connection
 * between A and B is impossible (checked both ways, to the LAN address and
 * to the router's), yet their kv entries reach everyone and a folder of a few
 * MB that R does not hold goes from A to B, chunk by chunk, over the relay.
 * A stranger on the internet asking R for a slot, or for a relayed
 * connection to A, is refused.
 */
const PORT = 4815
const skip = netnsSkipReason()

describe('member relays behind real NATs', { timeout: 900_000, skip }, () => {
  const root = tempRoot()
  let lab: NatLab | undefined
  const running: Daemon[] = []
  let hosts: { r: PublicHost, a: NatHost, b: NatHost, s: PublicHost } | undefined
  const ns = (name: 'r' | 'a' | 'b' | 's'): string => hosts?.[name].ns as string
  const dir = (name: string): string => path.join(root, name)
  const daemon: Record<string, Daemon> = {}
  const cli = (name: 'r' | 'a' | 'b', ...args: string[]): any => {
    const res = cliVia(NatLab.exec(ns(name)), dir(name), ...args)
    if (res.code !== 0) throw new Error(`samepage ${args.join(' ')} on ${name} failed (${res.code}): ${res.stderr}`)
    return res.json
  }
  const start = async (name: 'r' | 'a' | 'b'): Promise<void> => {
    const at = `/ip4/${hosts?.[name].ip as string}/tcp/${PORT}`
    daemon[name] = await startDaemon(dir(name), ['--listen', at], NatLab.exec(ns(name)))
    running.push(daemon[name] as Daemon)
  }
  const circuitOf = (name: 'a' | 'b'): string | undefined =>
    (cli(name, 'id').addrs as string[]).find(x => x.includes('/p2p-circuit'))
  const peerOf = (name: 'r' | 'a' | 'b', other: 'r' | 'a' | 'b'): any =>
    (cli(name, 'peers') as any[]).find(p => p.peerId === daemon[other]?.peerId)
  let space = ''

  before(async () => {
    const made = new NatLab()
    lab = made
    hosts = { r: made.publicHost('r'), a: made.natHost('a', 10), b: made.natHost('b', 20), s: made.publicHost('s') }
    await start('r')
    await start('a')
    await start('b')
    space = cli('r', 'space', 'create', 'across-nats').id
    for (const n of ['a', 'b'] as const) {
      cli(n, 'space', 'join', cli('r', 'space', 'invite', space, '--role', 'writer').token)
    }
  })
  after(async () => {
    for (const d of running) await stop(d)
    lab?.close()
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('A and B cannot open a TCP connection to each other, in either direction', () => {
    const { a, b } = hosts as NonNullable<typeof hosts>
    for (const [from, to] of [['a', b], ['b', a]] as const) {
      for (const host of [to.ip, to.natIp]) {
        assert.equal(tcpConnect(ns(from), host, PORT), false, `${from} reached ${host}:${PORT}`)
      }
    }
    // ...while R, on the internet, is reached from both, and sees each come from its router.
    assert.equal(tcpConnect(ns('a'), hosts?.r.ip as string, PORT), true)
    const seen = (peerOf('r', 'a')?.addrs ?? []) as string[]
    assert.ok(seen.some(x => x.startsWith(`/ip4/${hosts?.a.natIp as string}/`)), `R sees A at ${seen.join(' ')}`)
  })

  test('A and B learn they are not reachable and reserve a slot at R', async () => {
    for (const n of ['a', 'b'] as const) {
      await eventually(`${n}'s relayed address`, () => circuitOf(n), x => x !== undefined)
      const reach = cli(n, 'id').reachability
      assert.deepEqual(reach, { status: 'unreachable', relays: [daemon.r?.peerId] })
      assert.deepEqual(cli(n, 'status').reachability, reach, 'samepage status says it too')
    }
    await eventually('R reachable', () => cli('r', 'id').reachability.status, s => s === 'reachable')
  })

  test('A and B meet through R by peer exchange alone; kv entries and a folder of a few MB sync with nothing lost',
    async () => {
      // Neither daemon was given the other's address (no --peer, no dial): only R's.
      await eventually('B linked to A through R', () => peerOf('b', 'a')?.relayedBy, by => by === daemon.r?.peerId)
      await eventually('A linked to B through R', () => peerOf('a', 'b')?.relayedBy, by => by === daemon.r?.peerId)
      for (let i = 0; i < 20; i++) {
        cli('a', 'kv', 'put', space, `a-${i}`, JSON.stringify(i))
        cli('b', 'kv', 'put', space, `b-${i}`, JSON.stringify(i))
      }
      const keys = (n: 'r' | 'a' | 'b'): string[] => (cli(n, 'kv', 'list', space) as { key: string }[]).map(e => e.key).sort()
      const all = [...Array(20).keys()].flatMap(i => [`a-${i}`, `b-${i}`]).sort()
      for (const n of ['r', 'a', 'b'] as const) await eventually(`every entry on ${n}`, () => keys(n), k => k.join() === all.join())

      const folderA = dir('folder-a')
      const folderB = dir('folder-b')
      fs.mkdirSync(path.join(folderA, 'sub'), { recursive: true })
      fs.mkdirSync(folderB)
      fs.writeFileSync(path.join(folderA, 'big.bin'), crypto.randomBytes(5 * 1024 * 1024))
      fs.writeFileSync(path.join(folderA, 'sub', 'notes.txt'), 'behind two NATs\n')
      cli('a', 'folder', 'add', space, folderA)
      cli('b', 'folder', 'add', space, folderB)
      await eventually('the folder on B', () => treeKey(folderB), k => k === treeKey(folderA))
      const link = peerOf('b', 'a')
      assert.equal(link?.relayedBy, daemon.r?.peerId, 'still relayed')
      assert.ok(link.blockBytesIn >= 5 * 1024 * 1024, `the chunks came from A over the relay: ${link.blockBytesIn}`)
    })

  test('a stranger on the internet is refused a slot and a relayed connection to A', () => {
    const relay = `/ip4/${hosts?.r.ip as string}/tcp/${PORT}/p2p/${daemon.r?.peerId as string}`
    const script = path.join(import.meta.dirname, 'relay-stranger.ts')
    const out = execFileSync('ip', ['netns', 'exec', ns('s'), process.execPath, script, relay, daemon.a?.peerId as string],
      { encoding: 'utf8', timeout: 120_000 })
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), { reserve: 'reset', connect: 'reset' })
  })
})

/** Whether a TCP connection from inside `ns` to host:port opens (a refusal or no route answers at once). */
function tcpConnect (ns: string, host: string, port: number): boolean {
  const script = `const s = require('node:net').connect(${port}, '${host}');` +
    's.setTimeout(20000, () => { console.log("timeout"); process.exit(0) });' +
    's.on("connect", () => { console.log("open"); process.exit(0) });' +
    's.on("error", e => { console.log(e.code); process.exit(0) })'
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' }).trim()
  return out === 'open'
}

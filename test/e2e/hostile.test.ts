import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { cidFromString, decodeMessage, encodeMessage } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { keyPairFromSeed, publicKeyFromPeerId } from '../../src/identity/index.ts'
import { signEntry, signStatus } from '../../src/space/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { parseSpaceKey } from '../../src/ids/index.ts'

/**
 * A hostile peer: a process of its own that speaks samepage's protocol over
 * real libp2p and sends forged entries, replayed entries, garbage frames and
 * an oversized frame, and asks for a space it is not a member of. The honest
 * daemon serves it nothing, cuts it off, keeps working and keeps its data,
 * and lists the misbehaviour on its API.
 */
const DIAL_SPACING_MS = 300

describe('a hostile peer', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'honest')
  let daemon: Daemon
  let space = ''
  const hostiles: Libp2p[] = []

  const hostile = async (): Promise<Libp2p> => {
    const node = await createHostilePeer()
    hostiles.push(node)
    return node
  }
  // libp2p refuses a host's inbound connections past 5 a second (its connection manager's inboundConnectionThreshold,
  // which the daemon keeps). Every dial here comes from 127.0.0.1, six in all: spaced at least 300 ms apart, no
  // second holds more than four, however fast the machine runs the tests in between.
  let lastDial = -Infinity
  const dialDaemon = async (h: Libp2p): Promise<Awaited<ReturnType<Libp2p['dial']>>> => {
    const wait = lastDial + DIAL_SPACING_MS - performance.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    lastDial = performance.now()
    return await h.dial(multiaddr(daemon.addrs[0] as string))
  }

  before(async () => {
    daemon = await startDaemon(dir)
    space = ok(dir, 'space', 'create', 'team').id
    ok(dir, 'kv', 'put', 'team', 'precious', 'kept')
  })
  after(async () => {
    for (const h of hostiles) await h.stop()
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('forged entries and garbage frames: cut off, logged, and the node keeps its data', async () => {
    const h = await hostile()
    const conn = await dialDaemon(h)
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
    const owner = publicKeyFromPeerId(daemon.peerId) as Uint8Array
    const spaceId = (cidFromString(space) as NonNullable<ReturnType<typeof cidFromString>>).bytes
    const forger = keyPairFromSeed(new Uint8Array(32).fill(9))
    for (let i = 0; i < 2; i++) {
      // Claims to be the owner; signed by someone else.
      const e = signEntry(forger, { space: spaceId, author: owner, epoch: 1, seq: i, prev: null, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'kv.put', key: 'precious', value: 'forged' } })
      await lp.write(encodeMessage({ m: 'entries', space: spaceId, run: [[e.bytes, e.sig]] }))
    }
    // 2 forged entries and 3 garbage frames pass the score limit: the daemon may close the stream
    // before the 4th is written, and that write then rejects; the ban is what this test awaits.
    try {
      for (let i = 0; i < 4; i++) await lp.write(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, i))
    } catch { /* the stream was closed by the daemon's ban */ }
    const hostileId = h.peerId.toString()
    const log = await eventually('the daemon lists the hostile peer as cut off', () => ok(dir, 'misbehaviour') as { peer: string, reason: string, disconnected: boolean }[],
      l => l.some(m => m.peer === hostileId && m.disconnected))
    const reasons = log.filter(m => m.peer === hostileId).map(m => m.reason).join('\n')
    assert.match(reasons, /invalid entry \(bad-signature\)/)
    assert.match(reasons, /garbage/)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'precious').value, 'kept')
    await eventually('the connection is gone', () => h.getConnections().length, n => n === 0)
    await assert.rejects(dialDaemon(h).then(c => c.newStream(SYNC_PROTOCOL)), 'refused while banned')
  })

  test('an oversized frame is garbage', async () => {
    const h = await hostile()
    const conn = await dialDaemon(h)
    const stream = await conn.newStream(SYNC_PROTOCOL)
    // A varint length of 64 MiB, then some bytes: the daemon must not buffer it.
    stream.send(Uint8Array.of(0x80, 0x80, 0x80, 0x20, 1, 2, 3))
    const hostileId = h.peerId.toString()
    await eventually('the oversized frame is logged', () => ok(dir, 'misbehaviour') as { peer: string, reason: string }[], l => l.some(m => m.peer === hostileId && /garbage: frame over/.test(m.reason)))
  })

  test('a node that is not a member is served nothing of the space', async () => {
    const h = await hostile()
    const conn = await dialDaemon(h)
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
    const spaceId = (cidFromString(space) as NonNullable<ReturnType<typeof cidFromString>>).bytes
    const owner = publicKeyFromPeerId(daemon.peerId) as Uint8Array
    // It knows the space id and the owner (both public enough) and asks for the owner's whole feed, every epoch it might be.
    const ranges = [0, Date.now() - 86_400_000].map(epoch => ({ author: owner, epoch, from: 0, to: 1000 }))
    await lp.write(encodeMessage({ m: 'want', space: spaceId, ranges }))
    const got: Message[] = []
    const deadline = Date.now() + 10_000
    while (got.filter(m => m.m === 'none').length < ranges.length && Date.now() < deadline) {
      got.push(decodeMessage((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray()))
    }
    assert.deepEqual(got.filter(m => m.m === 'entries'), [], 'no entry is served to a non-member')
    assert.equal(got.filter(m => m.m === 'none').length, ranges.length, 'every range it asked for is answered none')
    for (const m of got) if (m.m === 'hello') for (const sp of m.spaces) assert.deepEqual(sp.feeds, [], 'its hello shows a non-member no feeds')
    await h.stop()
  })

  test('replayed entries (genuine, already held, unasked): cut off and logged', async () => {
    // Genuine entries of the space, as any past member could have kept them; read from the daemon's own store.
    const store = SqliteStore.open(path.join(dir, 'store.db'))
    const held = [...store.entries(parseSpaceKey(space))].slice(0, 3)
    store.close()
    assert.ok(held.length > 0)
    const h = await hostile()
    const conn = await dialDaemon(h)
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
    const spaceId = (cidFromString(space) as NonNullable<ReturnType<typeof cidFromString>>).bytes
    const hostileId = h.peerId.toString()
    for (let i = 0; i < 200 && h.getConnections().length > 0; i++) {
      await lp.write(encodeMessage({ m: 'entries', space: spaceId, run: held.map(e => [e.bytes, e.sig] as const) })).catch(() => {})
    }
    const log = await eventually('the replaying peer is cut off', () => ok(dir, 'misbehaviour') as { peer: string, reason: string, disconnected: boolean }[],
      l => l.some(m => m.peer === hostileId && m.disconnected))
    assert.match(log.filter(m => m.peer === hostileId).map(m => m.reason).join('\n'), /replay/)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'precious').value, 'kept')
  })

  test('a forged status record (another key signing for the node) is rejected and logged', async () => {
    ok(dir, 'space', 'invite', 'team', '--role', 'reader') // the first invite creates the deployment's status space
    const deployment = await eventually('the daemon publishes into its status space', () => ok(dir, 'status') as { deployment: string[], report: { name: string } | null },
      s => s.deployment.length === 1 && s.report !== null)
    const realName = deployment.report?.name
    const h = await hostile()
    const conn = await dialDaemon(h)
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
    const spaceId = (cidFromString(deployment.deployment[0] as string) as NonNullable<ReturnType<typeof cidFromString>>).bytes
    const owner = publicKeyFromPeerId(daemon.peerId) as Uint8Array
    const forger = keyPairFromSeed(new Uint8Array(32).fill(7))
    // Newer than anything the node published, claiming to be the node, in a body that would show it on fire.
    const forged = signStatus(forger, { space: spaceId, author: owner, clock: { wallMs: Date.now() + 5000, counter: 0 }, body: { v: 1, n: 'forged', t: 1500, al: [['overheating', 'host', 'forged', 0]] } })
    await lp.write(encodeMessage({ m: 'status', space: spaceId, record: [forged.bytes, forged.sig] }))
    const hostileId = h.peerId.toString()
    const log = await eventually('the forged status is logged as misbehaviour', () => ok(dir, 'misbehaviour') as { peer: string, reason: string }[],
      l => l.some(m => m.peer === hostileId && /bad status record \(bad-signature\)/.test(m.reason)))
    assert.ok(log.length > 0)
    const self = (ok(dir, 'net') as { nodes: { self: boolean, name: string, alerts: unknown[] }[] }).nodes.find(n => n.self)
    assert.equal(self?.name, realName, 'the node\'s own status is not replaced')
    assert.deepEqual(self?.alerts, [])
    assert.deepEqual(ok(dir, 'alerts'), [], 'no forged alert shows')
    await h.stop()
  })

  test('the honest node keeps working', () => {
    ok(dir, 'kv', 'put', 'team', 'after', 'fine')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'after').value, 'fine')
    assert.equal(cli(dir, 'kv', 'get', 'team', 'precious').json.value, 'kept')
  })
})

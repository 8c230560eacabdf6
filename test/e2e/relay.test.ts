import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { Node } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'
import { treeKey, waitFor } from '../files/tree.ts'
import { hop, RESET, stranger } from './relay-hop.ts'

/**
 * Member relays on this machine's loopback. The relay R listens on
 * 127.0.0.1; A and B listen on 127.0.0.2 and 127.0.0.3 but dial from
 * 127.0.0.1, so when R dials a member back at the address its connection
 * comes from, nobody answers (at B's, someone else does, and is found not
 * to be B): to R they look like nodes behind a NAT. So
 * each learns it is not reachable and reserves a slot at R; B reaches A
 * through R, they sync kv and a folder that R does not hold (its chunks can
 * only come from A, over the relay); and R refuses a stranger's reservation
 * and relayed connection, and the relayed connection of a member of another
 * deployment, which shares a space with R but none with A. (test/e2e/relay-nat.test.ts does the same behind
 * real NATs.)
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-relay-'))
const nodes: Node[] = []
let outsider: Libp2p | undefined

/** R's cap on relayed bytes (config.json "relay.maxMiBps"): the folder below cannot cross it faster. */
const CAP_MIB_PER_SECOND = 1
const FOLDER_MIB = 4

async function startNode (name: string, ip: string, relayLimits?: NodeOptions['relayLimits']): Promise<Node> {
  // On loopback A and B could dial each other's own address, so peer exchange's new links are off here: B reaches
  // A by an explicit dial to its relayed address. (relay-nat.test.ts has them meet by peer exchange alone.)
  const node = Node.open({ dir: path.join(root, name), listen: [`/ip4/${ip}/tcp/0`], relayLimits, meshLinks: false })
  nodes.push(node)
  await node.start()
  return node
}

const circuitAddr = (n: Node): string | undefined => n.id().addrs.find(a => a.includes('/p2p-circuit'))

let squatting: net.Server | undefined
/**
 * Someone else listening at the node's port on 127.0.0.1, where R dials it back: the kernel hands out one port
 * number on several loopback addresses, so a node of a test running beside this one can be there by chance (a CI
 * run failed so, when a bare TCP connect was the dial-back: B believed itself reachable and reserved no slot). Made
 * certain here; R must find it is not B. (If the port is taken there already, someone is squatting it anyway.)
 */
async function squatter (n: Node): Promise<void> {
  const port = Number(/\/tcp\/(\d+)/.exec(n.id().addrs.find(a => a.includes('/ip4/127.0.0.')) ?? '')?.[1])
  assert.ok(port > 0)
  const server = net.createServer(socket => { socket.on('error', () => {}) })
  await new Promise<void>(resolve => {
    server.once('error', () => { resolve() })
    server.listen(port, '127.0.0.1', () => { squatting = server; resolve() })
  })
}

describe('member relays on loopback', { timeout: 600_000 }, () => {
  let r: Node, a: Node, b: Node
  let space: string
  const folderA = path.join(root, 'folder-a')
  const folderB = path.join(root, 'folder-b')

  before(async () => {
    const limits = { serve: true, maxReservations: 32, circuitsPerPeer: 8, circuitMiB: 1024, circuitMinutes: 60 }
    r = await startNode('r', '127.0.0.1', { ...limits, maxMiBps: CAP_MIB_PER_SECOND })
    a = await startNode('a', '127.0.0.2')
    b = await startNode('b', '127.0.0.3')
    await squatter(b)
    space = r.createSpace('relayed').id
    for (const n of [a, b]) await n.join(r.invite(space, 'writer', 1, 3_600_000).token)
  })
  after(async () => {
    await outsider?.stop()
    squatting?.close()
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('members no one can dial back learn it and reserve a slot at the reachable member', async () => {
    await waitFor(() => circuitAddr(a) !== undefined && circuitAddr(b) !== undefined, 60_000,
      () => JSON.stringify({ a: a.id().addrs, b: b.id().addrs, reach: { a: a.reachability(), b: b.reachability() } }))
    assert.equal(a.reachability().status, 'unreachable')
    assert.deepEqual(a.reachability().relays, [r.peerId])
    assert.equal(b.reachability().status, 'unreachable', 'what listens at B\'s port on 127.0.0.1 is not B')
    await waitFor(() => r.reachability().status === 'reachable', 60_000, () => JSON.stringify(r.reachability()))
    assert.ok(circuitAddr(a)?.includes(`/p2p/${r.peerId}/p2p-circuit`), circuitAddr(a))
  })

  test('B reaches A through R; kv and a folder R does not hold sync over the relay, no faster than R\'s cap', async () => {
    await b.dial(circuitAddr(a) as string)
    await waitFor(() => b.peers().some(p => p.peerId === a.peerId && p.relayedBy === r.peerId), 60_000,
      () => JSON.stringify(b.peers()))
    assert.equal(a.peers().find(p => p.peerId === b.peerId)?.relayedBy, r.peerId)
    a.kvPut(space, 'from-a', { n: 1 })
    await waitFor(() => b.kvList(space).some(e => e.key === 'from-a'), 60_000, () => 'kv from a')
    fs.mkdirSync(folderA, { recursive: true })
    fs.writeFileSync(path.join(folderA, 'big.bin'), crypto.randomBytes(FOLDER_MIB * 1024 * 1024))
    fs.writeFileSync(path.join(folderA, 'small.txt'), 'through the relay\n')
    fs.mkdirSync(folderB, { recursive: true })
    const started = performance.now()
    await a.folderAdd(space, folderA)
    await b.folderAdd(space, folderB)
    await waitFor(() => treeKey(folderB) === treeKey(folderA), 120_000,
      () => JSON.stringify(b.folderStatus(space).status))
    // A lower bound only (a slow machine takes longer still). Unpaid: the bucket's burst (a tenth of a second), and
    // what a leg took in while paused (a message passes before it is paid for): at most the leg's Yamux window,
    // which R holds at 256 KiB under this cap (net/relay-throttle.ts). Under 1 MiB in all.
    const seconds = (performance.now() - started) / 1000
    const unpaidMiB = 1
    // The failure says which links carried it (a direct A–B link would bypass R's cap).
    assert.ok(seconds >= (FOLDER_MIB - unpaidMiB) / CAP_MIB_PER_SECOND,
      `${FOLDER_MIB} MiB crossed a ${CAP_MIB_PER_SECOND} MiB/s cap in ${seconds} s; B's links: ${JSON.stringify(b.peers())}`)
    assert.equal(b.peers().find(p => p.peerId === a.peerId)?.relayedBy, r.peerId, 'still relayed')
    // The status records say so too: every node's network map draws the A–B link as relayed by R.
    const ab = [a.peerId, b.peerId].sort().join()
    for (const n of [a, b, r]) {
      await waitFor(() => n.network().links.some(l => [l.a, l.b].sort().join() === ab && l.relayedBy === r.peerId),
        60_000, () => JSON.stringify(n.network().links))
    }
    assert.ok((b.peers().find(p => p.peerId === a.peerId)?.blockBytesIn ?? 0) >= FOLDER_MIB * 1024 * 1024,
      'the chunks came from A, over the relay')
  })

  test('a stranger is refused a reservation and a relayed connection', async () => {
    outsider = await stranger()
    const relay = r.id().addrs.find(x => x.startsWith('/ip4/127.0.0.1/')) as string
    // Refused unanswered: its hop streams are reset before anything of them is read.
    assert.equal(await hop(outsider, relay, 'reserve'), RESET)
    assert.equal(await hop(outsider, relay, { connectTo: a.peerId }), RESET)
    assert.equal(r.peers().some(p => p.peerId === outsider?.peerId.toString()), false)
  })

  test('a member of another deployment, sharing a space with R but none with A, is not relayed to A', async () => {
    const c = await startNode('c', '127.0.0.1')
    const own = c.createSpace('c-own').id
    await r.join(c.invite(own, 'writer', 1, 3_600_000).token)
    await assert.rejects(c.dial(circuitAddr(a) as string), /PERMISSION_DENIED/)
    assert.equal(c.peers().some(p => p.peerId === a.peerId), false)
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { cidFromString, decodeMessage, encodeMessage, FEEDS_PER_MESSAGE_MAX, MESSAGE_BYTES_MAX } from '../../src/codec/index.ts'
import type { FeedRow, Message, SignedBytes } from '../../src/codec/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { keyPairFromSeed, peerIdOf, publicKeyFromPeerId } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, SpaceReplica, PENDING_BYTES_MAX, PENDING_BYTES_PER_PEER_MAX } from '../../src/space/index.ts'
import { CLAIMS_PER_PEER_MAX, SERVE_QUEUE_BYTES_PER_PEER_MAX } from '../../src/sync/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { noiseCrypto } from '../../src/net/noise-crypto.ts'
import { eventually, ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'
import { parseSpaceKey } from '../../src/ids/index.ts'

/**
 * Decision 17 against a real daemon: hostile peers are real libp2p nodes of
 * this process that speak the sync protocol over TCP. A stranger (no invite)
 * learns no space id, name, owner or fork proof, and what it makes the daemon
 * hold is bounded, charged and freed when it leaves; a member that asks too
 * much gets `none`. An honest member daemon (joined by invite) syncs beside
 * them and is never scored.
 */
interface Holding { pendingEntries: number, pendingBytes: number, claims: number, undrainedBytes: number, queuedBytes: number }
interface Misbehaviour { peer: string, reason: string, disconnected: boolean }

/** A hostile peer: its key, its libp2p node, and one sync stream to the daemon. */
interface Raw { readonly key: KeyPair, readonly node: Libp2p, readonly lp: LengthPrefixedStream<Stream>, readonly peerId: string }

/**
 * Each hostile node dials from a loopback address of its own (127.0.0.2 to
 * 127.0.0.250, in turn): libp2p refuses more than 5 inbound connections a
 * second from one host, and a thousand identities from one address would
 * test that limit rather than ours.
 */
let sourceCounter = 0
function nextSource (): string {
  return `127.0.0.${2 + (sourceCounter++ % 249)}`
}

let seedCounter = 0
function freshKey (): KeyPair {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, ++seedCounter)
  seed[31] = 0x5a
  return keyPairFromSeed(seed)
}

describe('strangers learn nothing and cost nothing', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'honest')
  const memberDir = path.join(root, 'member')
  let daemon: Daemon
  let member: Daemon
  let space = ''
  let spaceId = new Uint8Array()
  let genesis: SignedBytes = [new Uint8Array(), new Uint8Array()]
  const writer = freshKey() // granted writer: its fork is genuine
  const relayed = freshKey() // granted writer whose feed strangers relay (covered, authentic, past a gap)
  const reader = freshKey()
  const open: Libp2p[] = []

  const connect = async (key: KeyPair = freshKey(), listen = false): Promise<Raw> => {
    const raw = new Uint8Array(64)
    raw.set(key.seed, 0)
    raw.set(key.publicKey, 32)
    const dialOpts: object = { localAddress: nextSource() } // passed on to net.connect
    const node = await createLibp2p({
      privateKey: privateKeyFromRaw(raw),
      addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
      transports: [tcp({ dialOpts })], connectionEncrypters: [noise({ crypto: noiseCrypto })], streamMuxers: [yamux()],
      // A hostile peer keeps its link while the daemon works through one of its 40,000-row messages: libp2p's ping
      // monitor would hang up after 5 s without a pong, which on a loaded machine is sooner than that work ends.
      connectionMonitor: { enabled: false },
      // Identify only where it matters (a node that listens announces its addresses): it costs each connection a round trip.
      services: (listen ? { identify: identify() } : {}) as { identify: ReturnType<typeof identify> }
    })
    open.push(node)
    const conn = await node.dial(multiaddr(daemon.addrs[0] as string))
    const lp = lpStream(await conn.newStream(SYNC_PROTOCOL), { maxDataLength: MESSAGE_BYTES_MAX })
    return { key, node, lp, peerId: node.peerId.toString() }
  }
  const close = async (r: Raw): Promise<void> => {
    await r.node.stop()
    open.splice(open.indexOf(r.node), 1)
  }
  const send = async (r: Raw, msg: Message): Promise<void> => { await r.lp.write(encodeMessage(msg)) }
  /** Every frame the daemon sends until it answers a want for no space (a fence: the stream is in order). */
  const readUntilFence = async (r: Raw): Promise<Uint8Array[]> => {
    const nowhere = new Uint8Array(36).fill(0xee)
    await send(r, { m: 'want', space: nowhere, ranges: [{ author: r.key.publicKey, epoch: 1, from: 0, to: 1 }] })
    const frames: Uint8Array[] = []
    for (;;) {
      const frame = (await r.lp.read({ signal: AbortSignal.timeout(120_000) })).subarray()
      const m = decodeMessage(frame)
      if (m.m === 'none' && Buffer.from(m.space).equals(Buffer.from(nowhere))) return frames
      frames.push(frame)
    }
  }
  const holding = (): Holding => (ok(dir, 'stats') as { sync: { holding: Holding } }).sync.holding
  const misbehaviour = (): Misbehaviour[] => ok(dir, 'misbehaviour') as Misbehaviour[]
  const reasonsOf = (peerId: string): string => misbehaviour().filter(m => m.peer === peerId).map(m => m.reason).join('\n')
  const withStore = <T>(fn: (store: SqliteStore) => T): T => {
    const store = SqliteStore.open(path.join(dir, 'store.db'))
    try { return fn(store) } finally { store.close() }
  }
  const viewHash = (): string => withStore(store => SpaceReplica.open(store, parseSpaceKey(space)).viewHash())
  const forkCount = (d: string): number => {
    const store = SqliteStore.open(path.join(d, 'store.db'))
    try { return store.forks(parseSpaceKey(space)).length } finally { store.close() }
  }
  const ownerRow = (): FeedRow => withStore(store => {
    const owner = publicKeyFromPeerId(daemon.peerId) as Uint8Array
    const row = SpaceReplica.open(store, parseSpaceKey(space)).vector().find(r => Buffer.from(r.author).equals(Buffer.from(owner)))
    assert.ok(row !== undefined)
    return row
  })
  /** Entries of a granted writer's feed from seq `from` on, with values of `size` bytes; seq 0 is never sent, so they wait for it. */
  const writerEntries = (epoch: number, from: number, count: number, size: number): SignedBytes[] => {
    const out: SignedBytes[] = []
    let prev: Uint8Array = new Uint8Array(32).fill(1)
    for (let seq = from; seq < from + count; seq++) {
      const e = signEntry(relayed, { space: spaceId, author: relayed.publicKey, epoch, seq, prev, clock: { wallMs: Date.now(), counter: seq }, body: { t: 'kv.put', key: `w${seq}`, value: 'w'.repeat(size) } })
      prev = e.id
      out.push([e.bytes, e.sig])
    }
    return out
  }
  const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

  before(async () => {
    daemon = await startDaemon(dir)
    if (process.env.DEBUG_STRANGERS !== undefined) daemon.child.stderr?.on('data', (d: Buffer) => { process.stderr.write(d) })
    space = ok(dir, 'space', 'create', 'team').id
    spaceId = (cidFromString(space) as NonNullable<ReturnType<typeof cidFromString>>).bytes
    genesis = withStore(store => { const g = store.genesis(parseSpaceKey(space)); assert.ok(g !== undefined); return [g.bytes, g.sig] as const })
    for (let i = 0; i < 8; i++) ok(dir, 'kv', 'put', 'team', `big${i}`, 'b'.repeat(30_000))
    ok(dir, 'acl', 'grant', 'team', peerIdOf(writer.publicKey), 'writer')
    ok(dir, 'acl', 'grant', 'team', peerIdOf(relayed.publicKey), 'writer')
    ok(dir, 'acl', 'grant', 'team', peerIdOf(reader.publicKey), 'reader')
    member = await startDaemon(memberDir, ['--peer', daemon.addrs[0] as string])
    ok(memberDir, 'space', 'join', ok(dir, 'space', 'invite', 'team', '--role', 'writer').token)
    await eventually('the member daemon joined and caught up', () => ok(memberDir, 'kv', 'list', 'team') as unknown[], l => l.length === 8, 120_000)
  })
  after(async () => {
    for (const n of [...open]) await n.stop()
    await stop(member)
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test("a stranger's hello names no space: no id, genesis, name or owner in any message it receives", async () => {
    const s = await connect()
    await send(s, { m: 'hello', spaces: [] })
    const frames = await readUntilFence(s)
    const messages = frames.map(f => decodeMessage(f))
    const hellos = messages.filter(m => m.m === 'hello')
    assert.equal(hellos.length, 1, 'one hello')
    const hello = hellos[0] as Extract<Message, { m: 'hello' }>
    assert.deepEqual(hello.spaces, [], 'no space in full')
    assert.ok((hello.tags?.length ?? 0) % 8 === 0 && (hello.tags?.length ?? 0) >= 2, 'blinded tags only, padded')
    for (const f of frames) {
      const b = Buffer.from(f)
      assert.ok(!b.includes(Buffer.from(spaceId)), 'no space id')
      assert.ok(!b.includes(Buffer.from(genesis[0])), 'no genesis (name, owner, time)')
      assert.ok(!b.includes(Buffer.from('team')), 'no name')
    }
    assert.deepEqual(messages.filter(m => m.m !== 'hello').map(m => m.m), [], 'nothing else')
    await close(s)
  })

  test('fork proofs go to members only: the member daemon gets a genuine one, a stranger that knows the space gets none', async () => {
    const w = await connect(writer)
    const epoch = Date.now()
    const twin = (value: string): SignedBytes => {
      const e = signEntry(writer, { space: spaceId, author: writer.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'kv.put', key: 'twin', value } })
      return [e.bytes, e.sig]
    }
    await send(w, { m: 'hello', spaces: [{ genesis, feeds: [], statuses: [] }] })
    await send(w, { m: 'fork', space: spaceId, a: twin('a'), b: twin('b') })
    await eventually('the honest daemon keeps the proof', () => forkCount(dir), n => n === 1)
    await eventually('and forwards it to its member', () => forkCount(memberDir), n => n === 1, 60_000)
    await close(w)
    // A stranger that knows the space id (and says so with a full hello) is still no member.
    const s = await connect()
    await send(s, { m: 'hello', spaces: [{ genesis, feeds: [], statuses: [] }] })
    const messages = (await readUntilFence(s)).map(f => decodeMessage(f))
    assert.deepEqual(messages.filter(m => m.m === 'fork'), [], 'no fork proof to a stranger')
    assert.deepEqual(messages.filter(m => m.m === 'entries'), [], 'nor any entry')
    await close(s)
  })

  test('self-made fork proofs in a feed nobody granted: not stored, charged, no view rebuilt', async () => {
    const forksBefore = forkCount(dir)
    const hashBefore = viewHash()
    const s = await connect()
    const epoch = Date.now()
    for (let i = 0; i < 20 && s.node.getConnections().length > 0; i++) {
      const make = (value: string): SignedBytes => {
        const e = signEntry(s.key, { space: spaceId, author: s.key.publicKey, epoch, seq: i, prev: null, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'kv.put', key: 'k', value } })
        return [e.bytes, e.sig]
      }
      await send(s, { m: 'fork', space: spaceId, a: make('a'), b: make('b') }).catch(() => {})
    }
    await eventually('the stranger is charged and cut off', misbehaviour, l => l.some(m => m.peer === s.peerId && m.disconnected))
    assert.match(reasonsOf(s.peerId), /bad fork proof: seq \d+ of a feed no grant covers/)
    assert.equal(forkCount(dir), forksBefore, 'no proof stored')
    assert.equal(viewHash(), hashBefore, 'no view changed')
    await close(s)
  })

  test("a stranger's own entries pushed unasked are not held, and charged", async () => {
    const s = await connect()
    const epoch = Date.now()
    let prev: Uint8Array | null = null
    for (let seq = 0; seq < 60 && s.node.getConnections().length > 0; seq++) {
      const e = signEntry(s.key, { space: spaceId, author: s.key.publicKey, epoch, seq, prev, clock: { wallMs: Date.now(), counter: seq }, body: { t: 'kv.put', key: 'x', value: 'x'.repeat(60_000) } })
      prev = e.id
      await send(s, { m: 'entries', space: spaceId, run: [[e.bytes, e.sig]] }).catch(() => {})
    }
    await eventually('charged and cut off', misbehaviour, l => l.some(m => m.peer === s.peerId && m.disconnected))
    assert.match(reasonsOf(s.peerId), /no grant covers, from a non-member/)
    assert.equal(holding().pendingBytes, 0, 'nothing held pending')
    await close(s)
  })

  test('pending entries a stranger relays: bounded per peer and in all, freed when it disconnects', async () => {
    const epoch = Date.now()
    const relays: Raw[] = []
    // 10 relays each push ~4.2 MiB of a granted writer's entries past a gap (authentic, so they wait for seq 0).
    for (let i = 0; i < 10; i++) {
      const r = await connect()
      relays.push(r)
      for (const e of writerEntries(epoch, 10 + i * 100, 70, 60_000)) await send(r, { m: 'entries', space: spaceId, run: [e] })
      await readUntilFence(r) // every entry is handled
    }
    const full = holding()
    console.log(`# 10 relays of ~4.2 MiB each: ${full.pendingBytes} bytes held pending (bounds: ${PENDING_BYTES_PER_PEER_MAX} per peer, ${PENDING_BYTES_MAX} in all)`)
    assert.ok(full.pendingBytes > PENDING_BYTES_PER_PEER_MAX, `several relays' entries held (${full.pendingBytes} bytes)`)
    assert.ok(full.pendingBytes <= PENDING_BYTES_MAX, `${full.pendingBytes} bytes held pending, bound ${PENDING_BYTES_MAX}`)
    for (const r of relays) await close(r)
    await eventually('everything they brought is freed', holding, h => h.pendingBytes === 0 && h.pendingEntries === 0)
    for (const r of relays) assert.doesNotMatch(reasonsOf(r.peerId), /./, 'relaying authentic entries once is not misbehaviour')
  })

  test('1,000 fresh identities each pushing pending entries: pending and memory stay bounded, peers.json keeps no stranger', async () => {
    const peersFile = path.join(dir, 'peers.json')
    const peersBefore = fs.existsSync(peersFile) ? fs.readFileSync(peersFile, 'utf8') : ''
    const rssBefore = rssOf(daemon.child.pid as number)
    const epoch = Date.now()
    const entries = writerEntries(epoch, 5, 1, 20_000)
    let maxPending = 0
    const one = async (i: number): Promise<Raw> => {
      const s = await connect(freshKey(), i % 10 === 0)
      // A join with an invite nobody holds (kept pending until its invite comes), and an authentic entry past a gap.
      const join = signEntry(s.key, { space: spaceId, author: s.key.publicKey, epoch, seq: 0, prev: null, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'join', invite: new Uint8Array(32).fill(i & 0xff), proof: new Uint8Array(64) } })
      await send(s, { m: 'entries', space: spaceId, run: [[join.bytes, join.sig]] })
      await send(s, { m: 'entries', space: spaceId, run: entries })
      await readUntilFence(s)
      return s
    }
    // 8 at a time (libp2p accepts at most 10 inbound connections still being set up), each batch connected together.
    let rssHalf = 0
    for (let i = 0; i < 1000; i += 8) {
      const batch = await Promise.all(Array.from({ length: Math.min(8, 1000 - i) }, (_, k) => one(i + k)))
      if (i % 200 === 0) {
        const h = holding()
        maxPending = Math.max(maxPending, h.pendingBytes)
        assert.ok(h.pendingBytes > 0, 'while they are connected, what they pushed is held')
      }
      await Promise.all(batch.map(close))
      if (i === 496) rssHalf = rssOf(daemon.child.pid as number)
    }
    const after = await eventually('what they left is freed', holding, h => h.pendingBytes === 0 && h.claims < 100)
    const rss = rssOf(daemon.child.pid as number)
    const rssGrowth = rss - rssBefore
    console.log(`# 1,000 identities: max pending seen ${maxPending} bytes (8 connected), RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ${(rssHalf / 2 ** 20).toFixed(1)} (500) -> ${(rss / 2 ** 20).toFixed(1)} MiB (1,000), after ${JSON.stringify(after)}`)
    assert.ok(maxPending <= 8 * PENDING_BYTES_PER_PEER_MAX)
    assert.ok(rssGrowth < 200 * 2 ** 20, `daemon RSS grew ${rssGrowth} bytes`)
    const peersAfter = fs.existsSync(peersFile) ? fs.readFileSync(peersFile, 'utf8') : ''
    assert.equal(peersAfter, peersBefore, 'no stranger remembered in peers.json')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'big0').value, 'b'.repeat(30_000), 'the daemon answers')
  })

  test("a reader's flood of wants: the daemon queues no more than its budget for it, answers none past it, and stays alive", async () => {
    const r = await connect(reader)
    await send(r, { m: 'hello', spaces: [{ genesis, feeds: [], statuses: [] }] })
    const row = ownerRow()
    const ranges = Array.from({ length: FEEDS_PER_MESSAGE_MAX }, () => ({ author: row.author, epoch: row.epoch, from: 0, to: row.count }))
    // Never reads: every answer stays queued at the daemon, as far as it lets it.
    for (let i = 0; i < 5; i++) await send(r, { m: 'want', space: spaceId, ranges })
    const stats = await eventually('the wants are handled', () => ok(dir, 'stats') as { sync: { wantsRefused: number, holding: Holding } }, s => s.sync.wantsRefused > 0)
    const queued = stats.sync.holding.queuedBytes + stats.sync.holding.undrainedBytes
    console.log(`# want flood: ${queued} bytes queued for the reader (budget ${SERVE_QUEUE_BYTES_PER_PEER_MAX} + ${MESSAGE_BYTES_MAX} for none answers)`)
    assert.ok(queued <= SERVE_QUEUE_BYTES_PER_PEER_MAX + MESSAGE_BYTES_MAX + 256 * 1024, `${queued} bytes queued`)
    assert.ok(rssOf(daemon.child.pid as number) < 1024 * 2 ** 20, 'the daemon is far from a heap exhaustion')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'big1').value, 'b'.repeat(30_000), 'and answers')
    await close(r)
  })

  test('wants for a space the peer is not a member of get none, nothing else', async () => {
    const s = await connect()
    const row = ownerRow()
    await send(s, { m: 'want', space: spaceId, ranges: [{ author: row.author, epoch: row.epoch, from: 0, to: row.count }] })
    const messages = (await readUntilFence(s)).map(f => decodeMessage(f))
    assert.deepEqual(messages.filter(m => m.m !== 'hello').map(m => m.m), ['none'])
    await close(s)
  })

  test('huge vectors and have rows: refused past the per-peer budget, charged, and freed when the peer leaves', async () => {
    // The reader's link of the want flood (tens of MB queued for it, never read) may still be closing at the daemon,
    // and a new link of the same peer dialled the same way is refused as a duplicate until it has (one session a peer).
    const readerId = peerIdOf(reader.publicKey)
    await eventually('the reader\'s earlier session is gone', () => ok(dir, 'peers') as { peerId: string }[], l => l.every(p => p.peerId !== readerId))
    const r = await connect(reader)
    const head = new Uint8Array(32).fill(3)
    const author = (i: number): Uint8Array => { const a = new Uint8Array(32).fill(0x77); new DataView(a.buffer).setUint32(0, i); return a }
    const rows = (base: number): FeedRow[] => Array.from({ length: FEEDS_PER_MESSAGE_MAX }, (_, i) => ({ author: author(base + i), epoch: 1, count: 1, head, frozen: false }))
    await send(r, { m: 'hello', spaces: [{ genesis, feeds: rows(1), statuses: [] }] })
    await send(r, { m: 'have', space: spaceId, heads: rows(100_000) })
    await readUntilFence(r) // both handled on this session: the charge, if any, is made
    await eventually('charged', misbehaviour, l => l.some(m => m.peer === r.peerId && /claims past the budget/.test(m.reason)))
    assert.ok(holding().claims <= CLAIMS_PER_PEER_MAX + 100, 'no more claims held than the budget')
    await close(r)
    await eventually('freed when it left', holding, h => h.claims < 100)
  })

  test('the honest nodes are never scored and keep working', async () => {
    const honest = [daemon.peerId, member.peerId]
    assert.deepEqual(misbehaviour().filter(m => honest.includes(m.peer)), [])
    assert.deepEqual((ok(memberDir, 'misbehaviour') as Misbehaviour[]).filter(m => honest.includes(m.peer)), [])
    ok(memberDir, 'kv', 'put', 'team', 'after', 'still syncing')
    await eventually('a write of the member reaches the daemon', () => ok(dir, 'kv', 'get', 'team', 'after').value as unknown, v => v === 'still syncing', 60_000)
  })
})

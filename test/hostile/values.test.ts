import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import {
  cidFromString, encodeCbor, encodeMessage, sha256, CBOR_DEPTH_MAX, ENTRY_SIGNATURE_DOMAIN, STATUS_BYTES_MAX, TIME_MS_MAX, VALUE_DEPTH_MAX
} from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { keyPairFromSeed, peerIdOf, signDomain } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, signStatus, SpaceReplica } from '../../src/space/index.ts'
import { recomputedViewHash } from '../space/view-rebuild.ts'

import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { buildNetworkMap, decodeReport } from '../../src/telemetry/index.ts'
import { toJson } from '../../src/api/json.ts'
import { BIN, cli, eventually, ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { ownEntries } from '../helpers/own-entries.ts'
import { nestedArrays, PLACEHOLDER, withRaw } from '../helpers/raw-cbor.ts'
import { authorKeyOf, entryIdOf, parseSpaceKey, printable } from '../../src/ids/index.ts'

/**
 * Hostile values (decision 14, issue 12 items 1 and 7): values of valid
 * form and hostile shape, from a member over real libp2p, from a user through
 * the API, and from a store written by an older version, against real
 * daemons. Each case asserts that nothing was accepted, that no honest node
 * was scored, and that the daemon is alive and answering.
 */
const TIMEOUT_MS = 240_000

const nest = (depth: number, leaf: unknown = 'x'): unknown => { let v = leaf; for (let i = 0; i < depth; i++) v = [v]; return v }
const deepBytes = nestedArrays

/** An entry signed by `key` whose body holds raw bytes where PLACEHOLDER stands, as a modified client would make it. */
function craftedEntry (key: KeyPair, space: Uint8Array, epoch: number, seq: number, prev: Uint8Array | null, body: Record<string, unknown>, raw: Uint8Array): SignedBytes {
  const bytes = withRaw({ s: space, a: key.publicKey, e: epoch, q: seq, p: prev, c: [Date.now(), 0], b: body }, raw)
  return [bytes, key.sign(signDomain(ENTRY_SIGNATURE_DOMAIN, sha256(bytes)))]
}

interface Misbehaviour { peer: string, reason: string, disconnected: boolean }

const alive = (d: Daemon): boolean => d.child.exitCode === null && d.child.signalCode === null
const spaceBytes = (id: string): Uint8Array => (cidFromString(id) as NonNullable<ReturnType<typeof cidFromString>>).bytes

async function hostilePeer (peers: Libp2p[]): Promise<Libp2p> {
  const node = await createHostilePeer()
  peers.push(node)
  return node
}

async function syncStream (h: Libp2p, d: Daemon): Promise<ReturnType<typeof lpStream>> {
  const conn = await h.dial(multiaddr(d.addrs[0] as string))
  return lpStream(await conn.newStream(SYNC_PROTOCOL))
}

/** One API call on a connection of its own (a reused keep-alive connection can be closed by the server as it is reused). */
async function apiRequest (api: { url: string, token: string }, method: string, pathname: string, body: string): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(api.url + pathname, { method, agent: false, timeout: 60_000, headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('timeout', () => req.destroy(new Error('API request timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

/** The CLI as a user runs it, without --json (the text views must survive hostile values too). */
function cliText (dir: string, ...args: string[]): { code: number, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--dir', dir, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

describe('hostile values from a member and from a user', { timeout: TIMEOUT_MS }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'honest')
  let daemon: Daemon
  let space = ''
  const peers: Libp2p[] = []
  const writer = keyPairFromSeed(new Uint8Array(32).fill(21)) // a member with a modified client

  before(async () => {
    daemon = await startDaemon(dir)
    space = ok(dir, 'space', 'create', 'team').id
    ok(dir, 'kv', 'put', 'team', 'precious', 'kept')
    ok(dir, 'acl', 'grant', 'team', peerIdOf(writer.publicKey), 'writer')
  })
  after(async () => {
    for (const p of peers) await p.stop()
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('a deep kv value or ledger tx through the API is refused with BAD_INPUT naming the limit, and nothing is written', async () => {
    const before = ok(dir, 'ledger', 'list', 'team') as unknown[]
    const deepTx = `${'['.repeat(5000)}"x"${']'.repeat(5000)}` // JSON.stringify would itself overflow on it
    const r = cli(dir, 'ledger', 'append', 'team', deepTx)
    assert.notEqual(r.code, 0, 'the CLI exits non-zero')
    assert.match(r.stderr + r.stdout, /BAD_INPUT/)
    assert.match(r.stderr + r.stdout, new RegExp(`deeper than ${VALUE_DEPTH_MAX} levels`))
    // The API itself, with a value nested 100,000 levels (JSON.parse is iterative; nothing recursive may run before the check).
    const api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as { url: string, token: string }
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}}`
    for (const [method, pathname, json] of [['PUT', '/v1/spaces/team/kv/deep', `{"value":${deep}`], ['POST', '/v1/spaces/team/ledger', `{"tx":${deep}`]] as const) {
      const { status, text } = await apiRequest(api, method, pathname, json)
      assert.equal(status, 400, text)
      assert.match(text, /"code":"BAD_INPUT"/)
      assert.match(text, new RegExp(`deeper than ${VALUE_DEPTH_MAX} levels`))
    }
    assert.deepEqual(ok(dir, 'ledger', 'list', 'team'), before, 'nothing was appended')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'deep').value, null, 'nothing was put')
    // Oversized strings: a key past 1 KiB, a value past the 64 KiB entry.
    const longKey = cli(dir, 'kv', 'put', 'team', 'k'.repeat(2000), 'v')
    assert.notEqual(longKey.code, 0)
    assert.match(longKey.stdout + longKey.stderr, /BAD_INPUT.*1 to 1024 bytes/s)
    const bigValue = await apiRequest(api, 'PUT', '/v1/spaces/team/kv/big', JSON.stringify({ value: 'x'.repeat(70_000) }))
    assert.equal(bigValue.status, 400)
    assert.match(bigValue.text, /"code":"BAD_INPUT".*OVERSIZED: entry: \d+ bytes, limit 65536/)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'big').value, null)
    // At the limit it is taken: the line is a rule, not what the stack allows.
    ok(dir, 'ledger', 'append', 'team', JSON.stringify(nest(VALUE_DEPTH_MAX)))
    assert.deepEqual((ok(dir, 'ledger', 'list', 'team') as unknown[]).at(-1), nest(VALUE_DEPTH_MAX))
    assert.ok(alive(daemon))
  })

  test('a counter name or an invite every peer would refuse: BAD_INPUT (exit 2) naming the limit, nothing signed', () => {
    // Review A: both were signed here and refused by every peer, which blamed this honest node and took nothing more
    // of its feed. At the limit each is taken.
    const signedHere = (): number => ownEntries(dir, daemon.peerId)
    const before = signedHere()
    const name = cli(dir, 'counter', 'add', 'team', 'n'.repeat(257), '1')
    assert.equal(name.code, 2, name.stdout + name.stderr)
    assert.match(name.stdout, /BAD_INPUT.*a counter name is 1 to 256 bytes/s)
    const uses = cli(dir, 'space', 'invite', 'team', '--role', 'reader', '--uses', '1000001')
    assert.equal(uses.code, 2, uses.stdout + uses.stderr)
    assert.match(uses.stdout, /BAD_INPUT.*from 1 to 1000000/s)
    assert.equal(signedHere(), before, 'nothing was signed')
    ok(dir, 'counter', 'add', 'team', 'n'.repeat(256), '1')
    assert.equal(ok(dir, 'counter', 'get', 'team', 'n'.repeat(256)).value, 1)
    assert.match(ok(dir, 'space', 'invite', 'team', '--role', 'reader', '--uses', '1000000').token, /^sp1/)
  })

  test('a member\'s crafted entries nested past the limit are refused by ingest, nothing is stored, the sender is scored, the daemon lives', async () => {
    const spaceId = spaceBytes(space)
    // First an entry at the limit, from a member's modified client: stored, as any node would.
    const h1 = await hostilePeer(peers)
    const lp1 = await syncStream(h1, daemon)
    const first = signEntry(writer, { space: spaceId, author: writer.publicKey, epoch: 1, seq: 0, prev: null, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'kv.put', key: 'at-limit', value: nest(VALUE_DEPTH_MAX) } })
    await lp1.write(encodeMessage({ m: 'entries', space: spaceId, run: [[first.bytes, first.sig]] }))
    await eventually('the entry at the limit is stored', () => ok(dir, 'kv', 'get', 'team', 'at-limit').value, v => v !== null)
    assert.deepEqual(ok(dir, 'kv', 'get', 'team', 'at-limit').value, nest(VALUE_DEPTH_MAX))

    // Then, on a fresh connection: one level more, a ledger tx nested 5,000 levels (under 64 KiB), and 60,000 levels.
    const h2 = await hostilePeer(peers)
    const lp2 = await syncStream(h2, daemon)
    const crafted = [
      craftedEntry(writer, spaceId, 1, 1, first.id, { t: 'kv.put', key: 'one-more', value: PLACEHOLDER }, deepBytes(VALUE_DEPTH_MAX + 1)),
      craftedEntry(writer, spaceId, 1, 1, first.id, { t: 'ledger.append', tx: PLACEHOLDER }, deepBytes(5000)),
      craftedEntry(writer, spaceId, 1, 1, first.id, { t: 'ledger.append', tx: PLACEHOLDER }, deepBytes(60_000))
    ]
    for (const e of crafted) await lp2.write(encodeMessage({ m: 'entries', space: spaceId, run: [e] })).catch(() => {})
    const hostileId = h2.peerId.toString()
    const log = await eventually('the crafted entries are logged as invalid', () => ok(dir, 'misbehaviour') as Misbehaviour[],
      l => l.some(m => m.peer === hostileId && /nested deeper than/.test(m.reason)))
    assert.match(log.filter(m => m.peer === hostileId).map(m => m.reason).join('\n'), /invalid entry: OVERSIZED: entry: nested deeper than 34 levels/)
    assert.ok(!log.some(m => m.peer === daemon.peerId), 'the honest node scored nobody honest')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'one-more').value, null, 'nothing stored')
    const ledger = ok(dir, 'ledger', 'list', 'team') as unknown[]
    assert.ok(ledger.every(tx => JSON.stringify(tx).length < 1000), 'no deep tx in the ledger')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'precious').value, 'kept')
    assert.ok(alive(daemon), 'the daemon is alive')
  })

  test('a wire message nested 100,000 levels is garbage: scored, never decoded, and the daemon lives', async () => {
    const h = await hostilePeer(peers)
    const lp = await syncStream(h, daemon)
    await lp.write(deepBytes(100_000))
    const hostileId = h.peerId.toString()
    const log = await eventually('the deep frame is logged', () => ok(dir, 'misbehaviour') as Misbehaviour[], l => l.some(m => m.peer === hostileId))
    assert.match(log.filter(m => m.peer === hostileId).map(m => m.reason).join('\n'), /garbage: OVERSIZED: message: nested deeper than 64 levels/)
    assert.ok(alive(daemon))
    assert.equal(ok(dir, 'kv', 'get', 'team', 'precious').value, 'kept')
  })

  test('a deep status body from a member is refused before decoding (no stack overflow in ingest)', async () => {
    ok(dir, 'space', 'invite', 'team', '--role', 'reader') // the first invite creates the deployment's status space
    const deployment = await eventually('the status space exists', () => ok(dir, 'status') as { deployment: string[] }, s => s.deployment.length === 1)
    const dep = deployment.deployment[0] as string
    const reporter = keyPairFromSeed(new Uint8Array(32).fill(22))
    ok(dir, 'acl', 'grant', dep, peerIdOf(reporter.publicKey), 'reader')
    const bytes = withRaw({ s: spaceBytes(dep), a: reporter.publicKey, c: [Date.now(), 0], b: { v: PLACEHOLDER } }, deepBytes(STATUS_BYTES_MAX - 200))
    const sig = reporter.sign(signDomain('samepage/status/v1', sha256(bytes)))
    const h = await hostilePeer(peers)
    const lp = await syncStream(h, daemon)
    await lp.write(encodeMessage({ m: 'status', space: spaceBytes(dep), record: [bytes, sig] }))
    const hostileId = h.peerId.toString()
    const log = await eventually('the deep status is logged', () => ok(dir, 'misbehaviour') as Misbehaviour[], l => l.some(m => m.peer === hostileId))
    assert.match(log.filter(m => m.peer === hostileId).map(m => m.reason).join('\n'), /bad status record \(malformed\): OVERSIZED: status: nested deeper than 64/)
    const net = ok(dir, 'net') as { nodes: { peerId: string, report: unknown }[] }
    assert.equal(net.nodes.find(n => n.peerId === peerIdOf(reporter.publicKey))?.report ?? null, null, 'no record of it is held')
    assert.ok(alive(daemon))
  })
})

describe('poison rows stored by an older version', { timeout: TIMEOUT_MS }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'node')
  let daemon: Daemon
  let space = ''
  const member = keyPairFromSeed(new Uint8Array(32).fill(25)) // a writer whose deep entry an older version stored
  let poisonId: Uint8Array = new Uint8Array(0)
  const peers: Libp2p[] = []

  before(async () => {
    daemon = await startDaemon(dir)
    space = ok(dir, 'space', 'create', 'team').id
    ok(dir, 'kv', 'put', 'team', 'a', 'first')
    ok(dir, 'kv', 'put', 'team', 'z', 'last')
    ok(dir, 'ledger', 'append', 'team', '{"n":1}')
    ok(dir, 'ledger', 'append', 'team', '{"n":2}')
    ok(dir, 'acl', 'grant', 'team', peerIdOf(member.publicKey), 'writer')
    await stop(daemon)
    // What an older version, with no depth limit, could have written: a ledger row and a kv row nested 5,000
    // levels, a row that is not CBOR at all, a kv row whose value is a bigint, and a status row with a time Date cannot hold.
    const store = SqliteStore.open(path.join(dir, 'store.db'))
    const deepKvRow = withRaw([Date.now(), 0, new Uint8Array(32), 1, 9, new Uint8Array(32), false, PLACEHOLDER], deepBytes(5000))
    const bigKvRow = encodeCbor([Date.now(), 0, new Uint8Array(32), 1, 10, new Uint8Array(32), false, 2n ** 63n])
    const statusBytes = encodeCbor({ s: spaceBytes(space), a: new Uint8Array(32).fill(3), c: [9e15, 0], b: { v: 1, n: 'from the future' } })
    store.commit({
      space: parseSpaceKey(space),
      viewWrites: [
        // Ledger keys start with the clock: these two (clock 0) sort before every real row.
        { view: 'ledger', key: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1), value: deepBytes(5000) },
        { view: 'ledger', key: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 2), value: Uint8Array.of(0xde, 0xad) },
        { view: 'kv', key: new Uint8Array(Buffer.from('m-deep')), value: deepKvRow },
        { view: 'kv', key: new Uint8Array(Buffer.from('n-big')), value: bigKvRow },
        { view: 'status', key: new Uint8Array(32).fill(3), value: encodeCbor([statusBytes, new Uint8Array(64)]) }
      ]
    })
    // And a member's entry nested 5,000 levels, stored as the head of its feed (opening the space reads every feed's head clock).
    const [bytes, sig] = craftedEntry(member, spaceBytes(space), 1, 0, null, { t: 'ledger.append', tx: PLACEHOLDER }, deepBytes(5000))
    poisonId = sha256(bytes)
    store.commit({ space: parseSpaceKey(space), entries: [{ author: authorKeyOf(member.publicKey), epoch: 1, seq: 0, id: entryIdOf(poisonId), bytes, sig, verified: true, kind: 'data' }] })
    store.close()
    daemon = await startDaemon(dir)
  })
  after(async () => {
    for (const p of peers) await p.stop()
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('ledger list and kv list still list every row, with a marker in place of each unreadable one, through the CLI', () => {
    const ledger = ok(dir, 'ledger', 'list', 'team') as unknown[]
    assert.equal(ledger.length, 4)
    assert.deepEqual(ledger.slice(2), [{ n: 1 }, { n: 2 }], 'the readable rows are all there')
    for (const row of ledger.slice(0, 2)) assert.match(JSON.stringify(row), /^\{"\/":\{"unreadable":"(OVERSIZED|MALFORMED): ledger row: /)
    const kv = ok(dir, 'kv', 'list', 'team') as { key: string, value: unknown }[]
    assert.deepEqual(kv.map(r => r.key), ['a', 'm-deep', 'n-big', 'z'], 'every key is listed')
    assert.equal(kv.find(r => r.key === 'a')?.value, 'first')
    assert.equal(kv.find(r => r.key === 'z')?.value, 'last')
    assert.match(JSON.stringify(kv.find(r => r.key === 'm-deep')?.value), /unreadable.*nested deeper than 64/)
    assert.equal(kv.find(r => r.key === 'n-big')?.value, (2n ** 63n).toString(), 'a bigint is shown as a string')
    assert.match(JSON.stringify(ok(dir, 'kv', 'get', 'team', 'm-deep').value), /unreadable/)
    // The text views, as a user reads them.
    const text = cliText(dir, 'ledger', 'list', 'team')
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /"n":2/)
    assert.equal(cliText(dir, 'kv', 'list', 'team').code, 0)
  })

  test('a stored status record with a time Date cannot hold is skipped: status and net answer, the daemon lives', () => {
    const status = cli(dir, 'status')
    assert.equal(status.code, 0, status.stderr)
    assert.equal(cli(dir, 'net').code, 0)
    assert.equal(cliText(dir, 'status').code, 0)
    assert.ok(alive(daemon))
    // Writes still work beside the poison rows.
    ok(dir, 'ledger', 'append', 'team', '{"n":3}')
    assert.deepEqual((ok(dir, 'ledger', 'list', 'team') as unknown[]).at(-1), { n: 3 })
  })

  test('a feed whose stored head is an entry today\'s decoder refuses goes on: the next entry is taken, the views skip the poison one alike', async () => {
    const next = signEntry(member, { space: spaceBytes(space), author: member.publicKey, epoch: 1, seq: 1, prev: poisonId, clock: { wallMs: Date.now(), counter: 0 }, body: { t: 'kv.put', key: 'after-poison', value: 'ok' } })
    const h = await hostilePeer(peers)
    const lp = await syncStream(h, daemon)
    await lp.write(encodeMessage({ m: 'entries', space: spaceBytes(space), run: [[next.bytes, next.sig]] }))
    await eventually('the next entry of the feed is stored', () => ok(dir, 'kv', 'get', 'team', 'after-poison').value, v => v === 'ok')
    assert.ok(!(ok(dir, 'misbehaviour') as Misbehaviour[]).some(m => m.peer === h.peerId.toString()), 'the sender of an honest entry is not scored')
    assert.ok(alive(daemon))
    // A rebuild of the views from the stored entries (what an ACL change that reaches back or a fork runs) skips the poison entry.
    await stop(daemon)
    const store = SqliteStore.open(path.join(dir, 'store.db'))
    try {
      const replica = SpaceReplica.open(store, parseSpaceKey(space))
      assert.equal(typeof recomputedViewHash(store, parseSpaceKey(space)), 'string')
      assert.deepEqual(replica.kvGet('after-poison')?.value, 'ok')
    } finally {
      store.close()
    }
    daemon = await startDaemon(dir)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'after-poison').value, 'ok', 'and the daemon opens the space again')
  })
})

describe('a member\'s hostile status record', { timeout: TIMEOUT_MS }, () => {
  const root = tempRoot()
  const daemons: Daemon[] = []
  const peers: Libp2p[] = []
  const reporter = keyPairFromSeed(new Uint8Array(32).fill(23))
  let dep = ''

  before(async () => {
    const aDir = path.join(root, 'a')
    const bDir = path.join(root, 'b')
    fs.mkdirSync(bDir, { recursive: true })
    // B always has an open alert (less than 100% memory free): the alert the hostile record must not hide.
    fs.writeFileSync(path.join(bDir, 'config.json'), JSON.stringify({ name: 'honest-b', alerts: { memoryFreePercent: 100 } }))
    daemons.push(await startDaemon(aDir), await startDaemon(bDir))
    const [a, b] = daemons as [Daemon, Daemon]
    ok(a.dir, 'space', 'create', 'team')
    ok(b.dir, 'space', 'join', ok(a.dir, 'space', 'invite', 'team', '--role', 'writer').token as string)
    dep = (ok(a.dir, 'status') as { deployment: string[] }).deployment[0] as string
    ok(a.dir, 'acl', 'grant', dep, peerIdOf(reporter.publicKey), 'reader')
    await eventually('A sees B up with its alert', () => ok(a.dir, 'net') as { nodes: { peerId: string, up: boolean }[], alerts: { peerId: string }[] },
      m => m.nodes.some(n => n.peerId === b.peerId && n.up) && m.alerts.some(x => x.peerId === b.peerId), 120_000)
  })
  after(async () => {
    for (const p of peers) await p.stop()
    for (const d of daemons) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('times of 9e15, absurd numbers and markup in a status record: the node and every other node and alert are still shown', async () => {
    const [a, b] = daemons as [Daemon, Daemon]
    const h = await hostilePeer(peers)
    const lp = await syncStream(h, a)
    const evil = '<img src=x onerror="window.pwned=1">\u001b[2J\u202eevil'
    const body = {
      v: 1, n: evil, ver: 'v'.repeat(4000), st: 9e15, p: 9e15, ld: [9e15, 1.5, -1], cpu: 9e15, mem: [9e15, 9e15, 9e15], dk: [1, 9e15], t: 9e15,
      ln: [[b.peerId, 9e15, 9e15, 9e15]], sp: [['<script>', evil, 9e15, 9e15]], fo: [[1, 2, 3]], io: [9e15, 9e15, 9e15, 9e15],
      mb: [[new Uint8Array(32), evil, 9e15, 9e15]], al: [['overheating', evil, evil, 9e15], ['<b>bogus</b>', 'x', 'y', 1]]
    }
    const record = signStatus(reporter, { space: spaceBytes(dep), author: reporter.publicKey, clock: { wallMs: Date.now(), counter: 0 }, body })
    await lp.write(encodeMessage({ m: 'status', space: spaceBytes(dep), record: [record.bytes, record.sig] }))
    const hostileId = peerIdOf(reporter.publicKey)
    const map = await eventually('A holds the hostile record', () => ok(a.dir, 'net') as any, m => m.nodes.some((n: any) => n.peerId === hostileId && n.report !== null))
    const node = map.nodes.find((n: any) => n.peerId === hostileId)
    assert.doesNotMatch(node.name, /[\u0000-\u001f\u202e]/, 'control and bidi characters are gone from its name')
    assert.ok(node.report.startedMs <= TIME_MS_MAX && node.report.alerts.every((x: any) => x.sinceMs <= TIME_MS_MAX), 'every time is one a Date can hold')
    assert.equal(node.report.temperatureC, null)
    assert.ok(node.report.version.length <= 64, 'a 4,000-character string is cut')
    assert.match(node.reasons.join('; '), /malformed status fields: .*st/)
    assert.ok(map.nodes.some((n: any) => n.peerId === b.peerId && n.up), 'B is still shown up')
    assert.ok(map.alerts.some((x: any) => x.peerId === b.peerId && x.kind === 'memory-low'), 'B\'s alert is still listed')
    // The CLI's text views, which format times as dates.
    for (const args of [['alerts'], ['net'], ['status']]) {
      const r = cliText(a.dir, ...args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      assert.doesNotMatch(r.stdout, /\u001b/, `${args.join(' ')} prints no terminal escape of a peer's`)
    }
    assert.match(cliText(a.dir, 'alerts').stdout, /memory-low/)
    // Every time in the API's answers is Date-safe.
    const times: number[] = []
    JSON.stringify(map, (k, v) => { if (/Ms$/.test(k) && typeof v === 'number') times.push(v); return v })
    assert.ok(times.every(t => Math.abs(t) <= 8.64e15), 'no time a Date cannot hold')
    const misbehaviour = ok(a.dir, 'misbehaviour') as Misbehaviour[]
    assert.ok(!misbehaviour.some(m => m.peer === b.peerId), 'the honest node B is not scored')
    assert.ok(daemons.every(alive))
  })

  test('a status record from the future is refused, and one stored earlier never makes its author look up', async () => {
    const [a] = daemons as [Daemon]
    const h = await hostilePeer(peers)
    const lp = await syncStream(h, a)
    const ahead = signStatus(reporter, { space: spaceBytes(dep), author: reporter.publicKey, clock: { wallMs: Date.now() + 3600_000, counter: 0 }, body: { v: 1, n: 'from-the-future' } })
    await lp.write(encodeMessage({ m: 'status', space: spaceBytes(dep), record: [ahead.bytes, ahead.sig] }))
    // Make the daemon's handling observable: a record it must store right after, on the same stream.
    const marker = keyPairFromSeed(new Uint8Array(32).fill(24))
    ok(a.dir, 'acl', 'grant', dep, peerIdOf(marker.publicKey), 'reader')
    const after = signStatus(marker, { space: spaceBytes(dep), author: marker.publicKey, clock: { wallMs: Date.now(), counter: 0 }, body: { v: 1, n: 'marker' } })
    await lp.write(encodeMessage({ m: 'status', space: spaceBytes(dep), record: [after.bytes, after.sig] }))
    const map = await eventually('the record after it is held', () => ok(a.dir, 'net') as any, m => m.nodes.some((n: any) => n.name === 'marker'))
    const node = map.nodes.find((n: any) => n.peerId === peerIdOf(reporter.publicKey))
    assert.notEqual(node.name, 'from-the-future', 'the record from the future was not taken')
    assert.ok(node.lastSeenMs <= Date.now() + 60_000)
    // The map's rule, on the real code path: a record far ahead of the clock is never counted fresh.
    const report = decodeReport({ v: 1, n: 'ahead', p: 3000 }).report
    const now = Date.now()
    const m = buildNetworkMap([
      { peerId: 'self', wallMs: now, report, problems: [] },
      { peerId: 'ahead', wallMs: now + 10 * 365 * 86_400_000, report, problems: [] },
      { peerId: 'fresh', wallMs: now - 1000, report, problems: [] }
    ], 'self', now)
    const byId = new Map(m.nodes.map(n => [n.peerId, n]))
    assert.equal(byId.get('ahead')?.up, false)
    assert.match(byId.get('ahead')?.reasons.join(' ') ?? '', /ahead of this node's/)
    assert.equal(byId.get('fresh')?.up, true)
    assert.ok(m.nodes.every(n => n.ageMs === null || n.ageMs >= 0))
  })

  test('the dashboard in Chromium shows every node and the alerts beside the hostile record, with its markup as text', { skip: !fs.existsSync('/usr/bin/chromium') && 'Chromium is not installed' }, async () => {
    const { chromium } = await import('playwright-core')
    const [a, b] = daemons as [Daemon, Daemon]
    const url = ok(a.dir, 'dashboard').url as string
    const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'chromium-')), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
      timeout: 60_000
    })
    try {
      context.setDefaultTimeout(60_000)
      const page = context.pages()[0] ?? await context.newPage()
      const pageErrors: string[] = []
      page.on('pageerror', err => pageErrors.push(err.message))
      const read = async (): Promise<any> => await page.evaluate(() => {
        const d = (globalThis as any).document
        return {
          rows: [...d.querySelectorAll('[data-testid="node-table"] tr[data-peer]')].map((tr: any) => tr.dataset.peer),
          alerts: d.querySelector('[data-testid="alerts"]')?.textContent ?? '',
          banner: d.querySelector('[data-testid="error"]')?.hidden === false ? d.querySelector('[data-testid="error"]').textContent : '',
          imgs: d.querySelectorAll('img').length,
          pwned: (globalThis as any).pwned === 1,
          unreadable: d.querySelectorAll('[data-testid="unreadable-row"]').length
        }
      })
      const hostileId = peerIdOf(reporter.publicKey)
      await page.goto(url)
      const v = await eventually('the page shows A, B, the hostile node and B\'s alert', read, v =>
        v.rows.includes(a.peerId) && v.rows.includes(b.peerId) && v.rows.includes(hostileId) && /memory-low/.test(v.alerts), 60_000)
      assert.equal(v.imgs, 0, 'the peer\'s markup is text, not an element')
      assert.equal(v.pwned, false)
      assert.equal(v.banner, '', 'the page does not say the daemon is gone')

      // An answer the daemon would never give today (an older daemon's, or one a bug lets through): the page still shows the rest.
      const real = await (await fetch(new URL('/v1/net', url), { headers: { authorization: `Bearer ${new URL(url).searchParams.get('token') ?? ''}` } })).json() as any
      const poisoned = structuredClone(real)
      poisoned.nodes.push({ peerId: 'bad-node', name: { toString: 1 }, health: '<b>', reasons: 'not a list', lastSeenMs: 9e15, ageMs: 9e15, report: { load: 'x', startedMs: 9e15, alerts: [{ sinceMs: 9e15 }] } })
      poisoned.alerts.unshift({ peerId: 'bad-node', kind: { x: 1 }, subject: [1], detail: null, sinceMs: 9e15 })
      poisoned.misbehaviour = [{ peer: 'bad-node', reason: evilText(), points: 9e15, atMs: 9e15, seenBy: 'bad-node' }]
      await page.route('**/v1/net', route => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(poisoned) }))
      await page.route('**/v1/alerts', async route => {
        const r = await route.fetch()
        const alerts = await r.json() as any
        alerts.alerts.unshift({ peerId: 'bad-node', kind: 'overheating', subject: 'host', detail: 'x', sinceMs: 9e15 })
        await route.fulfill({ response: r, body: JSON.stringify(alerts) })
      })
      await page.reload()
      const w = await eventually('the poisoned page still shows every real node and B\'s alert', read, v =>
        v.rows.includes(a.peerId) && v.rows.includes(b.peerId) && v.rows.includes('bad-node') && /memory-low/.test(v.alerts), 60_000)
      assert.equal(w.banner, '', 'a bad record never makes the page say the daemon is gone')
      assert.equal(w.imgs, 0)
      assert.deepEqual(pageErrors, [], 'no script error in the page')
    } finally {
      await context.close().catch(() => {})
    }
  })
})

describe('hostile values in pure code paths', () => {
  test('decodeReport never throws and names every bad field; toJson never throws on what a row can hold', () => {
    for (const body of [{}, { v: { toString: 1 } }, { ld: 'x', mem: null, al: [null, 1, ['overheating', {}, [], -1]], ln: [[1, 2]], t: -9e15 }, { st: 2 ** 60 }]) {
      const { report, problems } = decodeReport(body as Record<string, unknown>)
      assert.ok(problems.length > 0)
      assert.ok(report.startedMs >= 0 && report.startedMs <= TIME_MS_MAX)
    }
    assert.equal(toJson({ a: 2n ** 63n, b: new Uint8Array([1]) }), '{"a":"9223372036854775808","b":{"/":{"bytes":"AQ=="}}}')
    const cyclic: any[] = [1]
    cyclic.push(cyclic)
    const out = JSON.parse(toJson([1, cyclic, 3])) as unknown[]
    assert.deepEqual([out[0], out[2]], [1, 3], 'the other elements are kept')
    assert.match(JSON.stringify(out[1]), /unreadable/)
    assert.ok(CBOR_DEPTH_MAX >= VALUE_DEPTH_MAX + 2)
  })
})

test('the dashboard\'s formatting (format.js, as the page runs it) never throws on hostile values and escapes every text', async () => {
  const f = await import('../../src/api/dashboard/format.js')
  const hostile = [9e15, -9e15, Infinity, NaN, 2 ** 80, -0, '9e15', null, undefined, { toString: 1, valueOf: 2 }, [1, [2]], '<img src=x onerror=alert(1)>', true]
  for (const v of hostile) {
    for (const fn of ['text', 'esc', 'bytes', 'rate', 'duration'] as const) assert.equal(typeof f[fn](v), 'string', `${fn}(${String(typeof v)})`)
    assert.equal(typeof f.fixed(v, 2), 'string')
    assert.doesNotMatch(f.esc(v), /[<>"']/)
  }
  assert.equal(f.dateOk(9e15), false, 'a time Date cannot hold is not shown')
  assert.equal(f.dateOk(Date.now()), true)
  assert.equal(f.esc('<b a="1">'), '&lt;b a=&quot;1&quot;&gt;')
  // One row that fails to draw is shown as such; the others are drawn.
  const html = f.rowsHtml([{ n: 'a' }, { n: { toString: 1 } }, { n: 'c' }], (r: any) => { if (typeof r.n !== 'string') throw new Error('bad <row>'); return `<tr><td>${r.n}</td></tr>` }, 3)
  assert.match(html, /<td>a<\/td>.*unreadable.*bad &lt;row&gt;.*<td>c<\/td>/s)
  assert.equal(f.rowsHtml('not a list', () => 'x', 1), '')
})

test('the dashboard shows a time ahead of the daemon\'s clock (beyond the skew) or of 1970 as unknown, not "0 s ago"', async () => {
  const f = await import('../../src/api/dashboard/format.js')
  const now = 1_700_000_000_000
  assert.equal(f.agoAt(now + 3_600_000, now), '—')
  assert.equal(f.agoAt(TIME_MS_MAX, now), '—')
  assert.equal(f.agoAt(0, now), '—', 'what the daemon makes of a bad time')
  assert.equal(f.agoAt(now - 5_000, now), '5 s ago')
  assert.equal(f.agoAt(now + 1_000, now), '0 s ago', 'within the skew a record may have')
})

test('the dashboard shows peer text as the CLI does: control and bidi characters as U+FFFD; attr() keeps a key exact', async () => {
  const f = await import('../../src/api/dashboard/format.js')
  // The page's character class is a copy of ids/printable.ts's (the browser runs no TypeScript): held equal here.
  for (let c = 0; c <= 0x3000; c++) {
    const ch = String.fromCharCode(c)
    assert.equal(f.shown(ch), printable(ch, 2), `U+${c.toString(16).padStart(4, '0')}`)
  }
  assert.equal(f.esc('invoice\u202Egnp.exe'), 'invoice\ufffdgnp.exe')
  assert.equal(f.esc('a\u001b[31m<b>'), 'a\ufffd[31m&lt;b&gt;')
  assert.equal(f.attr('dir/x\u202E"y'), 'dir/x\u202E&quot;y', 'a path sent back to the API is the one the daemon knows')
})

function evilText (): string {
  return '<script>window.pwned=1</script>'
}

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeStatus, STATUS_BYTES_MAX } from '../../src/codec/index.ts'
import { generateKeyPair, peerIdOf, publicKeyFromPeerId } from '../../src/identity/index.ts'
import { buildNetworkMap, decodeReport, encodeReport, REPORT_LIMITS } from '../../src/telemetry/index.ts'
import type { NodeReport, StatusSample } from '../../src/telemetry/index.ts'
import { netText } from '../../src/cli/net-view.ts'
import { edgeData } from '../../src/api/dashboard/edges.js'

/**
 * Relayed links in the status record, the network map, `samepage net` and the
 * dashboard's graph: the relay travels as a fifth link-tuple item, which an
 * older node neither writes (its links read as direct) nor reads.
 */
type LinkReport = NodeReport['links'][number]
const peer = (): string => peerIdOf(generateKeyPair().publicKey)

function report (links: readonly LinkReport[], name = 'n'): NodeReport {
  return {
    name, version: '0.1.0', startedMs: 1_000, periodMs: 3000, load: [0, 0, 0], cpus: 1,
    memory: { totalBytes: 1, freeBytes: 1, rssBytes: 1 }, disk: null, temperatureC: null, links,
    spaces: [], folders: [], traffic: { bytesIn: 0, bytesOut: 0, inBps: 0, outBps: 0 }, misbehaviour: [], alerts: [], addrs: []
  }
}
const linkTo = (p: string, relayedBy?: string): LinkReport =>
  ({ peer: p, rttMs: 4, inBps: 10, outBps: 20, ...(relayedBy === undefined ? {} : { relayedBy }) })
const tuples = (body: Record<string, unknown>): unknown[][] => body.ln as unknown[][]

describe('a relayed link in the status record', () => {
  test('round-trips; a direct link keeps its four items, so older nodes read both alike', () => {
    const [b, c, r] = [peer(), peer(), peer()]
    const sent = report([linkTo(b, r), linkTo(c)])
    const body = encodeReport(sent)
    assert.deepEqual(tuples(body).map(t => t.length), [5, 4])
    assert.deepEqual(tuples(body)[0]?.[4], publicKeyFromPeerId(r), 'the relay as its 32-byte key')
    assert.deepEqual(decodeReport(body), { report: sent, problems: [] })
  })

  test('a record from before relays (four items a link) reads as direct links, without problems', () => {
    const b = peer()
    const old = { ...encodeReport(report([])), ln: [[publicKeyFromPeerId(b), 4, 10, 20]] }
    const { report: back, problems } = decodeReport(old)
    assert.deepEqual(problems, [])
    assert.equal(back.links[0]?.relayedBy, undefined)
    assert.deepEqual(back.links, [{ peer: b, rttMs: 4, inBps: 10, outBps: 20 }])
  })

  test('a hostile relay is named and the link read as direct; nothing throws', () => {
    const b = peer()
    const bKey = publicKeyFromPeerId(b)
    const hostile: unknown[] = [
      'not a key', 7, new Uint8Array(31), new Uint8Array(33), { key: 1 }, [new Uint8Array(32)], bKey, true
    ]
    const body = { ...encodeReport(report([])), ln: hostile.map(relay => [bKey, 4, 10, 20, relay]) }
    const { report: back, problems } = decodeReport(body)
    assert.equal(back.links.length, hostile.length, 'the link itself stays')
    assert.ok(back.links.every(l => l.relayedBy === undefined && l.peer === b), JSON.stringify(back.links))
    assert.deepEqual(problems, hostile.slice(0, 8).map((_, i) => `ln[${i}].relay`), 'the far end as its own relay too')
    const nullRelay = decodeReport({ ...encodeReport(report([])), ln: [[bKey, 4, 10, 20, null]] })
    assert.deepEqual([nullRelay.problems, nullRelay.report.links[0]?.relayedBy], [[], undefined], 'null is direct')
  })

  test('the fullest record, every link relayed, still fits in one status record', () => {
    const long = 'x'.repeat(500)
    const full: NodeReport = {
      ...report(Array.from({ length: 500 }, () => ({ ...linkTo(peer(), peer()), rttMs: 999, inBps: 1e12, outBps: 1e12 })), long),
      version: long,
      disk: { totalBytes: 1e15, freeBytes: 1e15 },
      temperatureC: 99,
      spaces: Array.from({ length: 100 }, (_, i) => ({ id: `bafy${i}${long}`, name: long, entries: 1e12, members: 1e6 })),
      folders: Array.from({ length: 100 }, (_, i) => ({
        space: `bafy${i}${long}`, name: long, state: long, needFiles: 1e9, needBytes: 1e15, bytesPerSecond: 1e10, conflicts: 1e6, errors: 1e6
      })),
      misbehaviour: Array.from({ length: 100 }, () => ({ peer: peer(), reason: long, points: 100, atMs: 1e13 })),
      alerts: Array.from({ length: 100 }, () => ({ kind: 'folder-stuck' as const, subject: long, detail: long, sinceMs: 1e13 })),
      addrs: Array.from({ length: 100 }, (_, i) => `/ip6/fd00::${i}/tcp/4815/`.padEnd(REPORT_LIMITS.addrChars, 'x'))
    }
    const body = encodeReport(full)
    const clock = { wallMs: Date.now(), counter: 0 }
    const bytes = encodeStatus({ space: new Uint8Array(36), author: new Uint8Array(32), clock, body })
    assert.ok(bytes.length <= STATUS_BYTES_MAX, `${bytes.length} bytes`)
    const back = decodeReport(body)
    assert.deepEqual(back.problems, [])
    assert.equal(back.report.links.filter(l => l.relayedBy !== undefined).length, REPORT_LIMITS.links)
  })
})

describe('relayed links on the map, in `samepage net`, and in the dashboard graph', () => {
  const now = 1_000_000
  const sample = (peerId: string, r: NodeReport): StatusSample => ({ peerId, wallMs: now, report: r, problems: [] })
  const pair = (x: string, y: string): [string, string] => x < y ? [x, y] : [y, x]

  test('the map carries the relay; direct when either end says direct; the lower id when the ends disagree', () => {
    const [a, b, c, d, r, s] = [peer(), peer(), peer(), peer(), peer(), peer()]
    const map = buildNetworkMap([
      sample(a, report([linkTo(b, r), linkTo(c, r), linkTo(d, r), linkTo(r)], 'alpha')),
      sample(b, report([linkTo(a, r), linkTo(r)])),
      sample(c, report([linkTo(a)])), // c holds a direct connection to a
      sample(d, report([linkTo(a, s)])),
      sample(r, report([linkTo(a), linkTo(b)], 'relay-1'))
    ], a, now)
    const relayOf = (x: string, y: string): string | null | undefined => {
      const [lo, hi] = pair(x, y)
      return map.links.find(l => l.a === lo && l.b === hi)?.relayedBy
    }
    assert.equal(relayOf(a, b), r)
    assert.equal(relayOf(a, r), null)
    assert.equal(relayOf(a, c), null, 'one end direct: direct')
    assert.equal(relayOf(a, d), [r, s].sort()[0], 'two relays named: the lower peer id, on every node alike')
    assert.equal(map.summary.partitions, 1, 'a relayed link joins its ends like any other')

    const text = netText(map)
    const short = (p: string): string => `…${p.slice(-10)}`
    const [lo, hi] = pair(a, b)
    assert.ok(text.includes(`${short(lo)} ⇢ ${short(hi)} via ${short(r)} (relay-1)`), text)
    const [lo2, hi2] = pair(a, r)
    assert.ok(text.includes(`${short(lo2)} — ${short(hi2)}`), text)
  })

  test('an end naming itself or the far end as relay does not make the link relayed', () => {
    const [a, b] = [peer(), peer()]
    const map = buildNetworkMap([sample(a, report([linkTo(b, a)])), sample(b, report([linkTo(a, a)]))], a, now)
    assert.equal(map.links[0]?.relayedBy, null)
  })

  test('the graph dashes a relayed edge and says through whom; a direct or old-daemon edge stays plain', () => {
    const [a, b, r] = [peer(), peer(), peer()]
    const nodes = new Map<unknown, unknown>([[r, { peerId: r, name: 'relay-1' }]])
    const relayed = edgeData({ a, b, rttMs: 12, bytesPerSecond: 2048, both: true, relayedBy: r }, nodes)
    assert.equal(relayed.cls, 'relayed')
    assert.equal(relayed.relayedBy, r)
    assert.equal(relayed.label, `via relay-1 …${r.slice(-6)}`)
    assert.match(relayed.title, new RegExp(`relayed via relay-1 …${r.slice(-6)}`))
    const direct = edgeData({ a, b, rttMs: 12, bytesPerSecond: 0, both: false, relayedBy: null }, nodes)
    assert.deepEqual([direct.cls, direct.label, direct.relayedBy], ['half', '', null])
    assert.match(direct.title, /direct, reported by one end only$/)
    const old = edgeData({ a, b, rttMs: 12, bytesPerSecond: 0, both: true }, nodes)
    assert.deepEqual([old.cls, old.relayedBy], ['', null], 'a map without relayedBy draws direct')
    for (const hostile of [7, '', { x: 1 }, ['r']]) {
      assert.equal(edgeData({ a, b, both: true, relayedBy: hostile }, nodes).cls, '', JSON.stringify(hostile))
    }
  })
})

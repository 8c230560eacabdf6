import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeCbor, encodeStatus, STATUS_BYTES_MAX, TIME_MS_MAX } from '../../src/codec/index.ts'
import { generateKeyPair, peerIdOf } from '../../src/identity/index.ts'
import {
  alertsChanged, buildNetworkMap, decodeReport, DEFAULT_THRESHOLDS, downAfterMs, encodeReport, evaluateAlerts, jittered, REPORT_LIMITS, statusPeriodMs
} from '../../src/telemetry/index.ts'
import type { NodeReport, StatusSample } from '../../src/telemetry/index.ts'
import { STATUS_CLOCK_AHEAD_MAX_MS } from '../../src/telemetry/period.ts'

const peer = (): string => peerIdOf(generateKeyPair().publicKey)

function report (over: Partial<NodeReport> = {}): NodeReport {
  return {
    name: 'rack-1', version: '0.1.0', startedMs: 1_000, periodMs: 3000, load: [0.5, 0.25, 0.1], cpus: 4,
    memory: { totalBytes: 8 * 2 ** 30, freeBytes: 4 * 2 ** 30, rssBytes: 150 * 2 ** 20 }, disk: { totalBytes: 100 * 2 ** 30, freeBytes: 50 * 2 ** 30 },
    temperatureC: null, links: [], spaces: [], folders: [], traffic: { bytesIn: 10, bytesOut: 20, inBps: 1, outBps: 2 }, misbehaviour: [], alerts: [],
    addrs: [],
    ...over
  }
}

describe('status report', () => {
  test('round-trips through its wire form, peers as keys and numbers as integers', () => {
    const a = peer()
    const r = report({
      temperatureC: 61.3,
      links: [{ peer: a, rttMs: 3, inBps: 1000, outBps: 2000 }],
      spaces: [{ id: 'bafyreiexample', name: 'team', entries: 42, members: 3 }],
      folders: [{ space: 'bafyreiexample', name: 'team', state: 'syncing', needFiles: 2, needBytes: 2048, bytesPerSecond: 512, conflicts: 1, errors: 0 }],
      misbehaviour: [{ peer: a, reason: 'bad status record', points: 10, atMs: 5 }],
      alerts: [{ kind: 'disk-full', subject: '/data', detail: '1% free', sinceMs: 7 }]
    })
    const { report: back, problems } = decodeReport(encodeReport(r))
    assert.deepEqual(problems, [])
    assert.deepEqual(back, r)
  })

  test('a time in the body later than the record\'s own clock (beyond the skew allowed) is a named bad field', () => {
    const a = peer()
    const wallMs = 1_700_000_000_000
    const late = wallMs + STATUS_CLOCK_AHEAD_MAX_MS + 1
    const r = report({
      startedMs: late,
      misbehaviour: [{ peer: a, reason: 'forged', points: 100, atMs: TIME_MS_MAX }],
      alerts: [{ kind: 'disk-full', subject: '/data', detail: 'x', sinceMs: late }]
    })
    const { report: back, problems } = decodeReport(encodeReport(r), wallMs)
    assert.deepEqual(problems, ['st (after the record)', 'mb[0].at (after the record)', 'al[0].since (after the record)'])
    assert.deepEqual([back.startedMs, back.misbehaviour[0]?.atMs, back.alerts[0]?.sinceMs], [0, 0, 0], 'dropped, not kept as now')
    const skewed = report({ startedMs: wallMs + STATUS_CLOCK_AHEAD_MAX_MS, alerts: [{ kind: 'disk-full', subject: '/', detail: 'x', sinceMs: wallMs }] })
    assert.deepEqual(decodeReport(encodeReport(skewed), wallMs), { report: skewed, problems: [] }, 'within the skew: kept')
  })

  test('a node with everything at its caps still fits in one status record', () => {
    const long = 'x'.repeat(500)
    const r = report({
      name: long,
      links: Array.from({ length: 500 }, () => ({ peer: peer(), rttMs: 999, inBps: 1e12, outBps: 1e12 })),
      spaces: Array.from({ length: 100 }, (_, i) => ({ id: `bafy${i}${long}`, name: long, entries: 1e12, members: 1e6 })),
      folders: Array.from({ length: 100 }, () => ({ space: long, name: long, state: long, needFiles: 1e9, needBytes: 1e15, bytesPerSecond: 1e10, conflicts: 1e6, errors: 1e6 })),
      misbehaviour: Array.from({ length: 100 }, () => ({ peer: peer(), reason: long, points: 100, atMs: 1e13 })),
      alerts: Array.from({ length: 100 }, () => ({ kind: 'folder-stuck' as const, subject: long, detail: long, sinceMs: 1e13 })),
      addrs: Array.from({ length: 100 }, (_, i) => `/ip6/fd00::${i}/tcp/4815/`.padEnd(REPORT_LIMITS.addrChars, 'x'))
    })
    const body = encodeReport(r)
    const bytes = encodeStatus({ space: new Uint8Array(36), author: new Uint8Array(32), clock: { wallMs: Date.now(), counter: 0 }, body })
    assert.ok(bytes.length <= STATUS_BYTES_MAX, `${bytes.length} bytes`)
    const back = decodeReport(body).report
    assert.equal(back.links.length, REPORT_LIMITS.links)
    assert.equal(back.name.length, REPORT_LIMITS.text)
    assert.equal(back.addrs.length, REPORT_LIMITS.addrs)
  })

  test('listen addresses (peer exchange) round-trip; a hostile list is cut, bad items dropped and named', () => {
    const addrs = ['/ip4/10.0.0.7/tcp/4815', '/ip6/fd00::7/tcp/4815']
    assert.deepEqual(decodeReport(encodeReport(report({ addrs }))), { report: report({ addrs }), problems: [] })
    const { report: old, problems: none } = decodeReport(encodeReport(report()))
    assert.deepEqual([old.addrs, none], [[], []], 'a record without addresses (a node from before) is fine')
    const junk = [7, 'a b', '/ip4/1.2.3.4/tcp/1\n', 'x'.repeat(REPORT_LIMITS.addrChars + 1), '/ip4/1.2.3.4/tcp/1', new Uint8Array(4)]
    const { report: r, problems } = decodeReport({ ...encodeReport(report()), ad: junk })
    assert.deepEqual(r.addrs, ['/ip4/1.2.3.4/tcp/1'], 'printable ASCII of bounded length only')
    assert.deepEqual(problems, ['ad[0]', 'ad[1]', 'ad[2]', 'ad[3]', 'ad[5]'])
    const many = Array.from({ length: 10_000 }, (_, i) => `/ip4/10.0.${i >> 8}.${i & 255}/tcp/1`)
    const cut = decodeReport({ ...encodeReport(report()), ad: many })
    assert.equal(cut.report.addrs.length, REPORT_LIMITS.addrs)
    assert.deepEqual(cut.problems, [`ad (over ${REPORT_LIMITS.addrs})`])
    assert.deepEqual(decodeReport({ ...encodeReport(report()), ad: 'everywhere' }).problems, ['ad'])
  })

  test('a malformed body from a member is read defensively: defaults, and the bad fields named', () => {
    const { report: r, problems } = decodeReport({ v: 1, n: 7, ld: 'high', ln: [[new Uint8Array(3), -1, 'x', 0], 'junk'], al: [['meltdown', 'a', 'b', 1]], t: 1.5 })
    assert.equal(r.name, '')
    assert.deepEqual(r.load, [0, 0, 0])
    assert.equal(r.links.length, 1)
    assert.equal(r.links[0]?.peer, '?')
    assert.deepEqual(r.alerts, [], 'unknown alert kinds are dropped')
    assert.equal(r.temperatureC, null)
    assert.ok(problems.length > 0 && problems.length <= 8)
    assert.ok(problems.includes('n'))
  })

  test('a space id given as bytes is a key (32 bytes) or a bad field, never a hex string of any length', () => {
    // 7,000 bytes became a 14,000-character id that /v1/net, the dashboard and peer exchange carried (a review's probe).
    const big = new Uint8Array(7000)
    const { report: r } = decodeReport({ v: 1, sp: [[big, 'n', 0, 0]], fo: [[big, 'n', 'idle', 0, 0, 0, 0, 0]] })
    assert.deepEqual([r.spaces[0]?.id, r.folders[0]?.space], ['?', '?'])
    const key = new Uint8Array(32).fill(7)
    assert.equal(decodeReport({ v: 1, sp: [[key, 'n', 0, 0]] }).report.spaces[0]?.id, '07'.repeat(32))
  })
})

describe('status period', () => {
  test('grows with the network so that a node receives at most about 100 records per second', () => {
    assert.equal(statusPeriodMs(5, 1), 3000)
    assert.equal(statusPeriodMs(300, 1), 3000)
    for (const [nodes, copies] of [[1000, 1], [1000, 3], [10_000, 2], [100_000, 1.5]] as const) {
      const period = statusPeriodMs(nodes, copies)
      const perSecond = nodes * copies / (period / 1000)
      assert.ok(perSecond <= 100 + 1e-9, `${nodes} nodes × ${copies} copies: ${perSecond}/s`)
      assert.ok(perSecond >= 99 || period === 3_600_000, 'and not much slower than the budget allows')
    }
  })

  test('jitter stays within ±20%, and silence means down only after three periods', () => {
    assert.equal(jittered(10_000, 0), 8000)
    assert.equal(jittered(10_000, 0.999999), 12_000)
    assert.ok(downAfterMs(3000) > 3 * 1.2 * 3000)
    assert.equal(downAfterMs(1), downAfterMs(3000), 'a record cannot declare a period shorter than the base')
    assert.equal(downAfterMs(1e15), downAfterMs(3_600_000), 'nor one longer than an hour')
  })
})

describe('alerts', () => {
  const calm = { temperatureC: null, disks: [{ path: '/d', totalBytes: 100, freeBytes: 50 }], memory: { totalBytes: 100, freeBytes: 50 }, unreachable: [], waiting: [] }

  test('each threshold raises its alert, which keeps the time it opened', () => {
    const hot = { ...calm, temperatureC: 90, disks: [{ path: '/d', totalBytes: 100, freeBytes: 2 }], unreachable: [{ peer: 'P', sinceMs: 0 }], waiting: [{ name: 'f', needBytes: 5, needFiles: 1, lastProgressMs: 0 }] }
    const first = evaluateAlerts(hot, DEFAULT_THRESHOLDS, [], 400_000)
    assert.deepEqual(first.map(a => a.kind).sort(), ['disk-full', 'folder-stuck', 'overheating', 'peer-unreachable'])
    assert.equal(first.find(a => a.kind === 'peer-unreachable')?.sinceMs, 0)
    const later = evaluateAlerts(hot, DEFAULT_THRESHOLDS, first, 500_000)
    assert.equal(later.find(a => a.kind === 'overheating')?.sinceMs, 400_000)
    assert.equal(alertsChanged(first, later), false, 'a detail that moved is not a new alert')
    assert.deepEqual(evaluateAlerts(calm, DEFAULT_THRESHOLDS, later, 600_000), [])
  })

  test('a folder named by a peer (its space\'s genesis name) is printable and cut in its alert, which keeps its time', () => {
    const name = 'team\x1b]0;pwned\x07\x1b[2J\x1b[31mFAKE LINE\ninjected' + 'x'.repeat(200)
    const stuck = { ...calm, waiting: [{ name, needBytes: 5, needFiles: 1, lastProgressMs: 0 }] }
    const first = evaluateAlerts(stuck, DEFAULT_THRESHOLDS, [], 400_000)
    const subject = first.find(a => a.kind === 'folder-stuck')?.subject ?? ''
    assert.doesNotMatch(subject, /[\u0000-\u001f\u007f-\u009f]/)
    assert.ok(subject.startsWith('team\ufffd]0;pwned\ufffd\ufffd[2J') && subject.length === REPORT_LIMITS.text, subject)
    const later = evaluateAlerts(stuck, DEFAULT_THRESHOLDS, first, 500_000)
    assert.equal(later[0]?.sinceMs, 400_000, 'the same alert, matched by its printable subject')
  })

  test('below the thresholds nothing is raised; a low threshold raises at once', () => {
    assert.deepEqual(evaluateAlerts(calm, DEFAULT_THRESHOLDS, [], 0), [])
    const raised = evaluateAlerts(calm, { ...DEFAULT_THRESHOLDS, diskFreePercent: 90 }, [], 0)
    assert.equal(raised[0]?.kind, 'disk-full')
    assert.equal(alertsChanged([], raised), true)
  })
})

describe('network map', () => {
  const now = 1_000_000
  const sample = (peerId: string, over: Partial<NodeReport> = {}, ageMs = 0): StatusSample => ({ peerId, wallMs: now - ageMs, report: report(over), problems: [] })

  test('links, health, down after silence, and a split network as partitions', () => {
    const [a, b, c, d, e] = [peer(), peer(), peer(), peer(), peer()] as [string, string, string, string, string]
    const link = (p: string, rttMs: number | null = 2): NodeReport['links'][number] => ({ peer: p, rttMs, inBps: 10, outBps: 10 })
    const samples: StatusSample[] = [
      sample(a, { links: [link(b, 5)] }),
      sample(b, { links: [link(a, 3), link(e)], alerts: [{ kind: 'disk-full', subject: '/', detail: '1%', sinceMs: 0 }] }),
      sample(c, { links: [link(d)], load: [9, 9, 9], cpus: 2 }),
      sample(d, { links: [link(c)] }),
      sample(e, { links: [link(b)] }, 60_000),
      { peerId: peer(), wallMs: null, report: null, problems: [] }
    ]
    const map = buildNetworkMap(samples, a, now)
    const health = Object.fromEntries(map.nodes.map(n => [n.peerId, n.health]))
    assert.equal(health[a], 'ok')
    assert.equal(health[b], 'alert')
    assert.equal(health[c], 'hot')
    assert.equal(health[e], 'down')
    assert.equal(map.nodes.filter(n => n.health === 'unknown').length, 1)
    assert.equal(map.nodes[0]?.peerId, a, 'self first')
    assert.deepEqual(map.links.map(l => [l.a, l.b].sort().join()).sort(), [[a, b].sort().join(), [c, d].sort().join()].sort(), 'no link to a down node')
    const ab = map.links.find(l => l.a === [a, b].sort()[0])
    assert.equal(ab?.rttMs, 3, 'the lower of the two ends\' round trips')
    assert.equal(ab?.both, true)
    assert.equal(map.summary.partitions, 2)
    assert.deepEqual(map.partitions.map(p => p.length), [2, 2])
    assert.deepEqual(map.alerts.map(x => x.peerId), [b])
    assert.deepEqual(map.hot, [c])
  })

  test('a link reported by one end only is shown as such', () => {
    const [a, b] = [peer(), peer()]
    const map = buildNetworkMap([sample(a, { links: [{ peer: b, rttMs: null, inBps: 0, outBps: 0 }] }), sample(b)], a, now)
    assert.equal(map.links.length, 1)
    assert.equal(map.links[0]?.both, false)
    assert.equal(map.links[0]?.rttMs, null)
  })

  test('10,000 nodes: every one up, one partition, every link once', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `p${String(i).padStart(5, '0')}`)
    const samples = ids.map((id, i) => ({ peerId: id, wallMs: now, report: report({ links: [1, 2, 3].map(k => ({ peer: ids[(i + k) % ids.length] as string, rttMs: 1, inBps: 1, outBps: 1 })) }), problems: [] }))
    const map = buildNetworkMap(samples, ids[0] as string, now)
    assert.equal(map.summary.up, 10_000)
    assert.equal(map.summary.partitions, 1)
    assert.equal(map.links.length, 30_000)
  })
})

test('encodeCbor keeps a report body canonical (integers only)', () => {
  assert.doesNotThrow(() => encodeCbor(encodeReport(report({ load: [0.333333, 1 / 7, 2.5] }))))
})

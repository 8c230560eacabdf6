/**
 * "Alerts are published at once (at most once a second)": an alert that opens less than ALERT_SPACING_MS after a
 * publication is published at the first check the spacing allows, not a whole period later.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeReport, DEFAULT_THRESHOLDS, StatusPublisher } from '../../src/telemetry/index.ts'
import type { TelemetryHost } from '../../src/telemetry/index.ts'

test('an alert opening within a second of a publication is published a second after it, not a period later', t => {
  t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 })
  let stuck = false
  const published: { atMs: number, alerts: string[] }[] = []
  const host: TelemetryHost = {
    name: 'n', version: 'v', startedMs: 0,
    disks: () => [], links: () => [], spaces: () => [],
    folders: () => stuck
      ? [{ space: 's', name: 'docs', state: 'syncing', needFiles: 1, needBytes: 100, bytesPerSecond: 0, conflicts: 0, errors: 0 }]
      : [],
    traffic: () => ({ bytesIn: 0, bytesOut: 0 }), misbehaviour: () => [], addrs: () => [],
    members: () => 10_000, // a period of 100 s
    statusCounters: () => ({ messagesIn: 0, stored: 0 }),
    publish: body => { published.push({ atMs: Date.now(), alerts: decodeReport(body).report.alerts.map(a => a.kind) }) }
  }
  // Only the folder can raise an alert, whatever this machine's temperature and memory.
  const thresholds = { ...DEFAULT_THRESHOLDS, folderStuckSeconds: 0, temperatureC: Infinity, memoryFreePercent: 0 }
  // random 0.5025: the periodic publication comes at 100.1 s, between two alert checks (each whole second).
  const p = new StatusPublisher(host, { thresholds, now: () => Date.now(), random: () => 0.5025 })
  p.start()
  t.after(() => { p.stop() })
  // Mock ticks run every due timer with Date.now() at the tick's end: advance in steps of 100 ms.
  const advance = (ms: number): void => { for (let i = 0; i < ms / 100; i++) t.mock.timers.tick(100) }
  advance(100_100)
  assert.equal(published.at(-1)?.atMs, 100_100, 'the periodic publication')
  advance(300)
  stuck = true
  advance(600) // 101.0 s: the check opens the alert, 0.9 s after the publication: held back
  assert.deepEqual(p.alerts.map(a => a.kind), ['folder-stuck'])
  assert.equal(published.at(-1)?.atMs, 100_100, 'not published within a second of the last')
  advance(1000) // 102.0 s: the next check
  assert.deepEqual(published.at(-1), { atMs: 102_000, alerts: ['folder-stuck'] }, JSON.stringify(published))
  advance(5000)
  assert.equal(published.length, 3, 'once: nothing more until the period comes round')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { DEFAULT_THRESHOLDS, StatusPublisher } from '../../src/telemetry/index.ts'
import type { AlertReport, TelemetryHost } from '../../src/telemetry/index.ts'

test('the publisher tells its host the open alerts at start and when they change (the node logs them once)', () => {
  const told: (readonly AlertReport[])[] = []
  const host: TelemetryHost = {
    name: 'n', version: '0', startedMs: 0,
    disks: () => [os.tmpdir()],
    links: () => [], spaces: () => [], folders: () => [], traffic: () => ({ bytesIn: 0, bytesOut: 0 }),
    misbehaviour: () => [], addrs: () => [], members: () => 1,
    statusCounters: () => ({ messagesIn: 0, stored: 0 }),
    publish: () => {},
    alertsChanged: alerts => { told.push(alerts) }
  }
  // Every disk has less than 100% free: a disk-full alert from the first check on.
  const publisher = new StatusPublisher(host, { thresholds: { ...DEFAULT_THRESHOLDS, diskFreePercent: 100 } })
  publisher.start()
  publisher.stop()
  assert.equal(told.length, 1)
  assert.ok(told[0]?.some(a => a.kind === 'disk-full'), JSON.stringify(told))
})

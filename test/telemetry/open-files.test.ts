/**
 * Review L3: at its open-file limit a node died within a second. The alert check (every second) read the RSS with
 * process.memoryUsage.rss(), which libuv reads from /proc and so needs a descriptor: EMFILE, thrown out of the
 * timer, ended the process. Now the reading is unknown for that check, and the node raises an `open-files` alert
 * naming its limit, and publishes it. Run in a child process under `prlimit --nofile` that takes every
 * descriptor it has left (this file, run with SAMEPAGE_OPEN_FILES_CHILD set): the test runner keeps its own.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import readline from 'node:readline'
import { decodeReport, DEFAULT_THRESHOLDS, StatusPublisher } from '../../src/telemetry/index.ts'
import type { AlertReport, TelemetryHost } from '../../src/telemetry/index.ts'

const LIMIT = 48
const CHILD = 'SAMEPAGE_OPEN_FILES_CHILD'

/** The child: a publisher, then every descriptor taken; it says what it sees, one JSON line each, and exits. */
function child (): void {
  const say = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`) }
  let full = false
  const host: TelemetryHost = {
    name: 'n', version: 'v', startedMs: 0,
    disks: () => [], links: () => [], spaces: () => [], folders: () => [],
    traffic: () => ({ bytesIn: 0, bytesOut: 0 }), misbehaviour: () => [], addrs: () => [],
    members: () => 1,
    statusCounters: () => ({ messagesIn: 0, stored: 0 }),
    publish: body => {
      const { report } = decodeReport(body)
      if (full) say({ published: report.alerts.map(a => a.kind), rssBytes: report.memory.rssBytes })
    },
    alertsChanged: alerts => { if (full) say({ alerts }) },
    tickFailed: (what, err) => { say({ failed: what, error: String(err) }) }
  }
  // Only the open-file alert can open here, whatever this machine's temperature and memory.
  const thresholds = { ...DEFAULT_THRESHOLDS, temperatureC: Infinity, memoryFreePercent: 0 }
  const p = new StatusPublisher(host, { thresholds })
  p.start()
  const taken: number[] = []
  try {
    for (;;) taken.push(fs.openSync('/dev/null', 'r'))
  } catch (err) {
    full = true
    say({ full: (err as NodeJS.ErrnoException).code })
  }
  // Kept running by this interval until the parent has seen what it waits for and kills it.
  setInterval(() => {}, 1000)
}

if (process.env[CHILD] === '1') {
  child()
} else {
  const prlimit = spawnSync('prlimit', ['--version'])
  const skip = prlimit.error === undefined ? false : 'prlimit is not installed (util-linux)'

  test('at its open-file limit the node keeps checking, raises an open-files alert naming the limit, publishes it',
    { skip, timeout: 120_000 }, async () => {
      const c = spawn('prlimit', [`--nofile=${LIMIT}:${LIMIT}`, process.execPath, import.meta.filename], {
        env: { ...process.env, [CHILD]: '1' }, stdio: ['ignore', 'pipe', 'pipe']
      })
      let stderr = ''
      c.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
      const seen: { full?: string, alerts?: AlertReport[], published?: string[], rssBytes?: number }[] = []
      const exited = new Promise<string>(resolve => c.once('exit', (code, signal) => { resolve(`${code} ${signal}`) }))
      try {
        const lines = readline.createInterface({ input: c.stdout })
        // Waits for the publication of the alert (or the child's end: the check's EMFILE killed it).
        const done = new Promise<void>(resolve => {
          lines.on('line', line => {
            const o = JSON.parse(line) as (typeof seen)[number]
            seen.push(o)
            if (o.published?.includes('open-files') === true) resolve()
          })
        })
        const outcome = await Promise.race([done.then(() => 'published'), exited])
        assert.equal(outcome, 'published', `the child ended: ${JSON.stringify(seen)}\n${stderr}`)
        assert.equal(seen[0]?.full, 'EMFILE', 'the child took every descriptor it had')
        const alert = seen.find(o => o.alerts !== undefined)?.alerts?.find(a => a.kind === 'open-files')
        assert.ok(alert !== undefined, JSON.stringify(seen))
        assert.equal(alert.subject, 'host')
        assert.equal(alert.detail, `at its open-file limit (${LIMIT}): raise LimitNOFILE / ulimit -n`)
        assert.equal(seen.find(o => o.published !== undefined)?.rssBytes, 0, 'the RSS it could not read: unknown')
      } finally {
        c.kill()
        await exited
      }
    })

  test('a check or a publication that throws is that tick\'s failure, told to tickFailed; the next tick comes', t => {
    t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 })
    let broken = false
    const failed: string[] = []
    let published = 0
    const host: TelemetryHost = {
      name: 'n', version: 'v', startedMs: 0,
      disks: () => [], links: () => [], spaces: () => [],
      folders: () => { if (broken) throw new Error('EMFILE somewhere below'); return [] },
      traffic: () => ({ bytesIn: 0, bytesOut: 0 }), misbehaviour: () => [], addrs: () => [],
      members: () => 1,
      statusCounters: () => ({ messagesIn: 0, stored: 0 }),
      publish: () => { published++ },
      tickFailed: (what, err) => { failed.push(`${what}: ${(err as Error).message}`) }
    }
    const p = new StatusPublisher(host, { thresholds: DEFAULT_THRESHOLDS, now: () => Date.now(), random: () => 0.5 })
    p.start()
    t.after(() => { p.stop() })
    broken = true
    t.mock.timers.tick(1000)
    assert.deepEqual(failed, ['checking alerts: EMFILE somewhere below'])
    p.publishNow() // as a command asking for a publication (a join) would: it fails, the command does not
    assert.deepEqual(failed.at(-1), 'publishing this node\'s status: EMFILE somewhere below')
    broken = false
    const before = published
    t.mock.timers.tick(3000) // the period (3 s, jittered from 0.5) comes round all the same
    assert.ok(published > before, 'published again once it can')
  })
}

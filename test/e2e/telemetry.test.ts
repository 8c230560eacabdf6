import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * Five real daemons on 127.0.0.1, joined by invites from the first (each
 * invite carries the deployment's status space). From every node the API
 * lists all five with fresh status; a SIGKILLed node is shown down on every
 * other within its timeout; an alert raised on one node (a threshold set
 * low in its config.json) shows on every node's API.
 */
interface MapNode { peerId: string, name: string, up: boolean, health: string, ageMs: number | null, downAfterMs: number, alerts: { kind: string }[] }
interface NetMap { nodes: MapNode[], links: { a: string, b: string }[], summary: { nodes: number, up: number, down: number, partitions: number } }

describe('telemetry across five nodes', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const daemons: Daemon[] = []
  const dirs = [1, 2, 3, 4, 5].map(i => path.join(root, `n${i}`))
  const net = (d: Daemon): NetMap => ok(d.dir, 'net') as NetMap

  before(async () => {
    for (const [i, dir] of dirs.entries()) {
      fs.mkdirSync(dir, { recursive: true })
      const alerts = i === 2 ? { alerts: { diskFreePercent: 100 } } : {} // node 3 thinks every disk is nearly full
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ name: `node-${i + 1}`, ...alerts }))
      daemons.push(await startDaemon(dir))
    }
    const first = daemons[0] as Daemon
    ok(first.dir, 'space', 'create', 'team')
    for (const d of daemons.slice(1)) ok(d.dir, 'space', 'join', ok(first.dir, 'space', 'invite', 'team', '--role', 'writer').token)
  })
  after(async () => {
    for (const d of daemons) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('every node lists all five, each with fresh status and its links', async () => {
    for (const d of daemons) {
      const map = await eventually(`${d.dir} sees five nodes up`, () => net(d), m => m.summary.up === 5, 60_000)
      assert.deepEqual(map.nodes.map(n => n.peerId).sort(), daemons.map(x => x.peerId).sort())
      for (const n of map.nodes) {
        assert.ok(n.ageMs !== null && n.ageMs < n.downAfterMs, `${n.name} is fresh: ${n.ageMs} ms old`)
        assert.match(n.name, /^node-\d$/)
      }
      assert.ok(map.links.length >= 4, 'the four joins are links')
      assert.equal(map.summary.partitions, 1)
    }
    const status = ok(daemons[1]!.dir, 'status') as { report: { links: unknown[], spaces: { name: string }[] }, network: { up: number } }
    assert.equal(status.network.up, 5)
    assert.deepEqual(status.report.spaces.map(s => s.name), ['team'], 'the status space itself is not listed')
    assert.deepEqual((ok(daemons[1]!.dir, 'space', 'list') as { name: string }[]).map(s => s.name), ['team'])
  })

  test('an alert raised on one node shows on every node\'s API', async () => {
    const alerting = daemons[2] as Daemon
    for (const d of daemons) {
      const alerts = await eventually(`${d.dir} shows node 3's alert`, () => ok(d.dir, 'alerts') as { peerId: string, kind: string, detail: string }[],
        l => l.some(a => a.peerId === alerting.peerId && a.kind === 'disk-full'), 30_000)
      assert.ok(alerts.every(a => a.peerId === alerting.peerId), 'only node 3 alerts')
      assert.equal(net(d).nodes.find(n => n.peerId === alerting.peerId)?.health, 'alert')
    }
  })

  test('a node SIGKILLed is shown down on every other node within its timeout', async () => {
    const victim = daemons[4] as Daemon
    const timeout = net(daemons[0] as Daemon).nodes.find(n => n.peerId === victim.peerId)?.downAfterMs as number
    await stop(victim, 'SIGKILL')
    const killedAt = Date.now()
    const took: number[] = []
    await Promise.all(daemons.slice(0, 4).map(async d => {
      // Polled every 200 ms by eventually(); allowed the timeout plus one period of slack for a record in flight.
      await eventually(`${d.dir} shows the killed node down`, () => net(d).nodes.find(n => n.peerId === victim.peerId)?.health, h => h === 'down', timeout + 10_000)
      took.push(Date.now() - killedAt)
    }))
    assert.equal(took.length, 4)
    for (const d of daemons.slice(0, 4)) {
      const map = net(d)
      assert.equal(map.summary.up, 4)
      assert.equal(map.summary.down, 1)
      assert.ok(!map.links.some(l => l.a === victim.peerId || l.b === victim.peerId), 'no link to a dead node')
    }
  })

  test('status, net and alerts print for people too; /metrics speaks Prometheus', async () => {
    const d = daemons[0] as Daemon
    const text = (args: string[]): string => {
      const r = cli(d.dir, ...args)
      assert.equal(r.code, 0, r.stderr)
      return r.stdout
    }
    const plain = (args: string[]): string => {
      const r = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', '..', 'bin', 'samepage.js'), '--dir', d.dir, ...args], { encoding: 'utf8', timeout: 180_000 })
      assert.equal(r.status, 0, r.stderr)
      return r.stdout
    }
    assert.ok(text(['status']).length > 0)
    assert.match(plain(['status']), /network: 4 of 5 nodes up, 1 down/)
    assert.match(plain(['net']), /node-3 +alert/)
    assert.match(plain(['alerts']), /disk-full/)
    const api = JSON.parse(fs.readFileSync(path.join(d.dir, 'api.json'), 'utf8')) as { url: string, token: string }
    const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
    const body = await res.text()
    assert.match(body, /^samepage_network_nodes\{health="down"\} 1$/m)
    assert.match(body, /^samepage_alerts_open\{kind="disk-full"\} 1$/m)
    assert.match(body, /^libp2p_/m, 'libp2p\'s own metrics are there too')
    assert.equal((await fetch(`${api.url}/metrics`)).status, 401, 'and only with the token')
  })
})

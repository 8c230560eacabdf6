/**
 * Nothing in telemetry publishes, arms a timer or touches the store once it stopped. Node.stop stops telemetry
 * first, then waits for its folders and the sync flush while peers' entries are still stored (until the network
 * quiesces): an entry admitting us into a deployment space in that window (entriesStored), or a `space join` whose
 * deployment join runs after its awaits (joined), used to publish and arm a period timer no stop cleared; a period
 * later it published into the closed store ("statement has been finalized"), and again every period (about 170 times
 * in ten minutes).
 */
import { after, test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { authorKeyOf } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { NodeTelemetry } from '../../src/node/telemetry.ts'
import { DeploymentSpaces } from '../../src/node/deployment.ts'
import { DEFAULT_THRESHOLDS, StatusPublisher } from '../../src/telemetry/index.ts'
import type { TelemetryHost } from '../../src/telemetry/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const o = seededKey('tstop', 'owner'); const b = seededKey('tstop', 'b')
const TEN_MINUTES_S = 600
const dirs: string[] = []
after(() => { for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true }) })

const quietHost = {
  name: 'x', version: '0', startedMs: 0, disks: () => [], links: () => [], spaces: () => [], folders: () => [],
  traffic: () => ({ bytesIn: 0, bytesOut: 0 }), misbehaviour: () => [], addrs: () => []
}

/** b's telemetry, in a deployment of one status space owned by o (b a member only once granted). */
function setUp (): { t: NodeTelemetry, replica: SpaceReplica, published: () => number } {
  const replica = SpaceReplica.create(new MemoryStore(), o, 'samepage-status', T0)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-tstop-'))
  dirs.push(dir)
  fs.writeFileSync(path.join(dir, 'deployment.json'), JSON.stringify({ spaces: [replica.key] }))
  let n = 0
  const t = new NodeTelemetry({
    self: authorKeyOf(b.publicKey),
    deployment: new DeploymentSpaces(dir),
    host: { ...quietHost, statusMessagesIn: () => 0 },
    replica: k => k === replica.key ? replica : undefined,
    publish: () => { n++ }
  })
  return { t, replica, published: () => n }
}

function grantB (replica: SpaceReplica): void {
  replica.append(o, { t: 'acl.grant', member: b.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
}

function tenMinutes (ctx: TestContext): void {
  for (let i = 0; i < TEN_MINUTES_S; i++) ctx.mock.timers.tick(1_000)
}

test('entries admitting us into the deployment while the node stops publish nothing after the stop', ctx => {
  ctx.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 })
  const { t, replica, published } = setUp()
  t.start() // b holds no role yet: nothing published
  t.stop() // Node.stop: telemetry first, then folders and the sync flush, while peers' entries are still stored
  grantB(replica)
  t.entriesStored(replica.key) // the grant (an invite's redemption) stored in that window
  tenMinutes(ctx)
  assert.equal(published(), 0, `published ${published()} times into the stopped node's store`)
})

test('a deployment joined as the node stops publishes nothing after the stop', ctx => {
  ctx.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 })
  const { t, replica, published } = setUp()
  grantB(replica)
  t.start()
  t.stop()
  const atStop = published()
  t.joined(replica.key) // OwnJoins.joinDeployment from a `space join` whose awaits outlived the stop
  assert.ok(t.deployment.has(replica.key), 'the deployment space is kept: the next start publishes into it')
  tenMinutes(ctx)
  assert.equal(published() - atStop, 0, `published ${published() - atStop} times into the stopped node's store`)
})

test('a publisher stopped during a publication, or asked to publish once stopped, arms no period', ctx => {
  ctx.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 })
  let published = 0
  let stopInside = false
  const host: TelemetryHost = {
    ...quietHost,
    members: () => 1,
    statusCounters: () => ({ messagesIn: 0, stored: 0 }),
    publish: () => { published++; if (stopInside) p.stop() }
  }
  const p = new StatusPublisher(host, { thresholds: DEFAULT_THRESHOLDS, now: () => Date.now(), random: () => 0.5 })
  p.start()
  stopInside = true
  p.publishNow()
  assert.equal(published, 2, 'the start\'s publication and this one')
  p.publishNow()
  tenMinutes(ctx)
  assert.equal(published, 2, `published ${published - 2} times after the stop`)
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Metrics } from '../../src/api/metrics.ts'
import { ApiServer } from '../../src/api/server.ts'
import { Node } from '../../src/node/index.ts'

/**
 * /metrics as the API serves it (the Metrics class, without the HTTP server)
 * from two real nodes in one process sharing a folder: the process metrics
 * under their standard names beside libp2p's, the per-folder counters and
 * state, the entries per space, every label set at zero from the moment its
 * folder exists, and a misbehaviour counter that does not stop at the log's
 * 1,000 records; and the scrape token, which opens /metrics and nothing
 * else. promtool reads a real daemon's in test/e2e/metrics.test.ts.
 */
interface Sample { name: string, labels: Record<string, string>, value: number }

/** The samples of a Prometheus text exposition (what these tests need of the format: no escapes in values). */
function samples (text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string
    out.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return out
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if there is none. */
function value (all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = all.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} names one sample, not ${hits.length}`)
  return hits[0]?.value
}

/** Polls the scrape until `check` holds: waits for the event itself; the limit is only a safety net. */
async function scrapeUntil (m: Metrics, what: string, check: (s: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 180_000
  for (;;) {
    const s = samples(await m.text())
    if (check(s)) return s
    if (Date.now() > deadline) throw new Error(`not within 180 s: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-metrics-'))
let a: Node
let b: Node
let space: string
const fa = path.join(root, 'fa')
const fb = path.join(root, 'fb')

before(async () => {
  a = Node.open({ dir: path.join(root, 'a') })
  b = Node.open({ dir: path.join(root, 'b') })
  await a.start()
  await b.start()
  space = a.createSpace('docs').id
  const { token } = a.invite(space, 'writer', 1, 3_600_000)
  await b.join(token)
  fs.mkdirSync(fa)
  fs.mkdirSync(fb)
})

after(async () => {
  await a?.stop()
  await b?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

describe('/metrics', { timeout: 600_000 }, () => {
  test('process metrics under the standard names, beside libp2p\'s', async () => {
    const text = await new Metrics(a).text()
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is there`)
    }
    assert.doesNotMatch(text, /samepage_process_/, 'not renamed any more')
    assert.match(text, /^libp2p_/m, 'libp2p\'s own metrics are there too')
  })

  test('libp2p\'s families under their names and kinds, counted from start, for each node of a process', async () => {
    // b joined a's space in before(): the join and sync streams have moved bytes both ways since.
    for (const node of [a, b]) {
      const m = new Metrics(node)
      const text = await m.text()
      assert.match(text, /^# TYPE libp2p_data_transfer_bytes_total counter$/m)
      assert.match(text, /^# TYPE nodejs_memory_total_bytes gauge$/m)
      assert.match(text, /^# TYPE libp2p_connection_manager_connections gauge$/m)
      const s = samples(text)
      for (const direction of ['sent', 'received']) {
        const global = value(s, 'libp2p_data_transfer_bytes_total', { protocol: `global ${direction}` }) ?? 0
        // Before TLS takes the socket's handle (net/tls-direct.ts): the protocol negotiation only.
        assert.ok(global > 0, `${node.peerId}: bytes ${direction} over its connections: ${global}`)
      }
      const protocols = s.filter(x => x.name === 'libp2p_data_transfer_bytes_total' &&
        (x.labels['protocol'] ?? '').startsWith('/samepage/'))
      assert.ok(protocols.some(x => x.value > 0), 'samepage\'s own protocols are counted')
    }
  })

  test('a folder\'s label sets are there at zero as soon as it is added', async () => {
    await a.folderAdd(space, fa)
    const s = samples(await new Metrics(a).text())
    const folder = { space, name: 'docs' }
    for (const name of ['samepage_folder_bytes_total', 'samepage_folder_files_total']) {
      for (const direction of ['in', 'out']) assert.equal(value(s, name, { ...folder, direction }), 0, `${name} ${direction}`)
    }
    assert.equal(value(s, 'samepage_folder_errors', folder), 0)
    assert.notEqual(value(s, 'samepage_folder_last_sync_timestamp_seconds', folder), undefined)
    const states = s.filter(x => x.name === 'samepage_folder_state' && x.labels['space'] === space)
    assert.deepEqual(states.map(x => x.labels['state']).sort(), ['idle', 'scanning', 'starting', 'stopped', 'syncing'])
    assert.equal(states.filter(x => x.value === 1).length, 1, 'one state is 1, the others 0')
    assert.ok((value(s, 'samepage_space_entries', folder) ?? 0) > 0, 'the space\'s genesis and membership are held')
    for (const direction of ['in', 'out']) {
      assert.notEqual(value(s, 'samepage_sync_messages_total', { direction, type: 'fork' }), undefined, 'every type')
    }
    assert.equal(value(s, 'samepage_alerts_open', { kind: 'overheating' }), 0, 'every alert kind')
  })

  test('a file shared counts out where it was written and in where it arrived', async () => {
    await b.folderAdd(space, fb)
    const bytes = crypto.randomBytes(300_000)
    fs.writeFileSync(path.join(fa, 'report.bin'), bytes)
    const folder = { space, name: 'docs' }
    const mb = new Metrics(b)
    const atB = await scrapeUntil(mb, 'b counts the file in', s =>
      (value(s, 'samepage_folder_files_total', { ...folder, direction: 'in' }) ?? 0) >= 1)
    assert.ok((value(atB, 'samepage_folder_bytes_total', { ...folder, direction: 'in' }) ?? 0) >= bytes.length)
    assert.deepEqual(fs.readFileSync(path.join(fb, 'report.bin')), bytes)
    const atA = samples(await new Metrics(a).text())
    assert.ok((value(atA, 'samepage_folder_files_total', { ...folder, direction: 'out' }) ?? 0) >= 1)
    assert.ok((value(atA, 'samepage_folder_bytes_total', { ...folder, direction: 'out' }) ?? 0) >= bytes.length)
    const synced = await scrapeUntil(mb, 'b was in sync', s =>
      (value(s, 'samepage_folder_last_sync_timestamp_seconds', folder) ?? 0) > 0)
    const at = value(synced, 'samepage_folder_last_sync_timestamp_seconds', folder) as number
    assert.ok(Math.abs(at - Date.now() / 1000) < 3600, `unix seconds, not milliseconds: ${at}`)
  })

  test('the misbehaviour counter does not stop at the log\'s 1,000 records', async () => {
    const m = new Metrics(b)
    const before = value(samples(await m.text()), 'samepage_misbehaviour_events_total') as number
    for (let i = 0; i < 1_001; i++) b.emit('disconnect', { peer: 'p', reason: 'test', atMs: Date.now() })
    assert.equal(value(samples(await m.text()), 'samepage_misbehaviour_events_total'), before + 1_001)
  })

  test('the scrape token opens /metrics, in the header only, and nothing else; the API token still does', async () => {
    const api = new ApiServer({ node: a, host: '127.0.0.1', port: 0 })
    const { url, token } = await api.start()
    try {
      const file = path.join(a.dir, 'metrics-token')
      const scrape = fs.readFileSync(file, 'utf8').trim()
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'readable by the node\'s user only')
      assert.notEqual(scrape, token)
      const get = async (route: string, bearer?: string): Promise<Response> =>
        await fetch(`${url}${route}`, bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } })
      const metrics = await get('/metrics', scrape)
      assert.equal(metrics.status, 200)
      assert.match(await metrics.text(), /^samepage_info\{/m)
      for (const route of ['/v1/id', '/v1/status', '/dashboard']) {
        const r = await get(route, scrape)
        assert.equal(r.status, 401, `${route} is not the scrape token's`)
        await r.body?.cancel()
      }
      const stop = await fetch(`${url}/v1/stop`, { method: 'POST', headers: { authorization: `Bearer ${scrape}` } })
      assert.equal(stop.status, 401)
      await stop.body?.cancel()
      const query = await get(`/metrics?token=${scrape}`)
      assert.equal(query.status, 401, 'never in the query string')
      await query.body?.cancel()
      const byApiToken = await get('/metrics', token)
      assert.equal(byApiToken.status, 200)
      await byApiToken.body?.cancel()
    } finally {
      await api.stop()
    }
  })
})

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import type { Metric, MetricGroup, Stream } from '@libp2p/interface'
import { Libp2pMetrics, LABELS_PER_FAMILY_MAX, OBSERVATIONS_KEPT_MAX } from '../../src/net/libp2p-metrics.ts'
import type { Libp2pMetricFamily } from '../../src/net/libp2p-metrics.ts'

/**
 * libp2p's metrics kept without prom-client (net/libp2p-metrics.ts): what libp2p's components call, what a scrape
 * collects, the semantics @libp2p/prometheus-metrics gave calculated families, the bounds, and the byte counts taken
 * from a stream without a `message` listener. The rendering by prom-client and real nodes' counts are in
 * test/api/metrics.test.ts.
 */
async function families (m: Libp2pMetrics): Promise<Map<string, Libp2pMetricFamily>> {
  return new Map((await m.collect()).map(f => [f.name, f]))
}

async function values (m: Libp2pMetrics, name: string): Promise<Record<string, number>> {
  const f = (await families(m)).get(name)
  assert.ok(f !== undefined, `${name} is collected`)
  return Object.fromEntries(f.values)
}

const metrics = (): Libp2pMetrics => new Libp2pMetrics({ statfsDir: os.tmpdir() })

describe('Libp2pMetrics', () => {
  test('what it holds from its start: bytes moved, the process\'s memory, the data directory\'s disk', async () => {
    const f = await families(metrics())
    assert.equal(f.get('libp2p_data_transfer_bytes_total')?.kind, 'counter')
    assert.equal(f.get('libp2p_data_transfer_bytes_total')?.label, 'protocol')
    assert.deepEqual(Object.fromEntries(f.get('nodejs_memory_total_bytes')?.values ?? []), { '': os.totalmem() })
    assert.ok((f.get('nodejs_memory_usage_bytes')?.values.get('rss') ?? 0) > 0)
    assert.ok((f.get('nodejs_fs_usage_bytes')?.values.get('total') ?? 0) > 0)
  })

  test('a gauge and a gauge group: set, added to, taken from, reset; names made Prometheus\'s', async () => {
    const m = metrics()
    const g = m.registerMetric('libp2p-some.gauge') as Metric
    g.update(5)
    g.increment()
    g.decrement(3)
    assert.deepEqual(await values(m, 'libp2p_some_gauge'), { '': 3 })
    const group = m.registerMetricGroup('libp2p_group', { label: 'kind of thing' }) as MetricGroup
    group.update({ a: 2 })
    group.increment({ a: true, b: 4 })
    group.decrement({ b: 1 })
    const f = (await families(m)).get('libp2p_group')
    assert.equal(f?.label, 'kind_of_thing')
    assert.deepEqual(Object.fromEntries(f?.values ?? []), { a: 3, b: 3 })
    group.reset()
    assert.deepEqual(await values(m, 'libp2p_group'), {})
    g.update(Number.NaN)
    assert.deepEqual(await values(m, 'libp2p_some_gauge'), { '': 3 }, 'a value that is not a number is not kept')
  })

  test('a second registration by the same name gets the first one\'s family', async () => {
    const m = metrics()
    const one = m.registerCounterGroup('libp2p_dials_total')
    const two = m.registerCounterGroup('libp2p_dials_total')
    one?.increment({ tcp: true })
    two?.increment({ tcp: 2 })
    assert.deepEqual(await values(m, 'libp2p_dials_total'), { tcp: 3 })
  })

  test('a name asked again as another kind gets a family of its own that is never collected', async () => {
    const m = metrics()
    m.registerCounter('libp2p_thing')?.increment(5)
    const gauge = m.registerMetric('libp2p_thing') as Metric
    gauge.decrement(100)
    const f = (await families(m)).get('libp2p_thing')
    assert.equal(f?.kind, 'counter')
    assert.deepEqual(Object.fromEntries(f?.values ?? []), { '': 5 })
  })

  test('counters only go up', async () => {
    const m = metrics()
    const c = m.registerCounter('libp2p_packets_total')
    c?.increment()
    c?.increment(-5)
    c?.increment(Number.POSITIVE_INFINITY)
    c?.increment(2)
    assert.deepEqual(await values(m, 'libp2p_packets_total'), { '': 3 })
  })

  test('calculated: a gauge takes what it returns, a counter adds it at each collect; one that fails is left out',
    async () => {
      const m = metrics()
      let n = 0
      m.registerMetricGroup('libp2p_calc_gauge', { label: 'what', calculate: () => ({ [`k${++n}`]: n }) })
      m.registerCounter('libp2p_calc_counter_total', { calculate: async () => 10 })
      m.registerMetric('libp2p_calc_failing', { calculate: () => { throw new Error('cannot tell') } })
      m.registerMetricGroup('libp2p_calc_nothing', { calculate: () => null as unknown as Record<string, number> })
      const first = await families(m)
      assert.deepEqual(Object.fromEntries(first.get('libp2p_calc_gauge')?.values ?? []), { k1: 1 })
      assert.deepEqual(Object.fromEntries(first.get('libp2p_calc_counter_total')?.values ?? []), { '': 10 })
      assert.equal(first.has('libp2p_calc_failing'), false)
      assert.equal(first.has('libp2p_calc_nothing'), false, 'one that returns nothing usable is left out too')
      assert.ok(first.has('libp2p_data_transfer_bytes_total'), 'the others are still collected')
      const second = await families(m)
      assert.deepEqual(Object.fromEntries(second.get('libp2p_calc_gauge')?.values ?? []), { k2: 2 }, 'replaced')
      assert.deepEqual(Object.fromEntries(second.get('libp2p_calc_counter_total')?.values ?? []), { '': 20 }, 'added')
    })

  test('a family keeps at most LABELS_PER_FAMILY_MAX label values; those it has still change', async () => {
    const m = metrics()
    const group = m.registerMetricGroup('libp2p_many') as MetricGroup
    for (let i = 0; i < LABELS_PER_FAMILY_MAX + 10; i++) group.update({ [`k${i}`]: i })
    group.update({ k0: 99 })
    const v = await values(m, 'libp2p_many')
    assert.equal(Object.keys(v).length, LABELS_PER_FAMILY_MAX)
    assert.equal(v['k0'], 99)
    assert.equal(v[`k${LABELS_PER_FAMILY_MAX}`], undefined)
  })

  test('histograms and summaries: observations handed to one collect, at most OBSERVATIONS_KEPT_MAX', async () => {
    const m = metrics()
    const h = m.registerHistogram('libp2p_latency_seconds', { buckets: [0.1, 1] })
    const s = m.registerSummaryGroup('libp2p_sizes', { label: 'protocol', percentiles: [0.5] })
    for (let i = 0; i < OBSERVATIONS_KEPT_MAX + 5; i++) h?.observe(i)
    s?.observe({ '/a': 3, '/b': 4 })
    const f = await families(m)
    assert.equal(f.get('libp2p_latency_seconds')?.observed.length, OBSERVATIONS_KEPT_MAX)
    assert.deepEqual(f.get('libp2p_latency_seconds')?.options['buckets'], [0.1, 1])
    assert.deepEqual(f.get('libp2p_sizes')?.observed, [['/a', 3], ['/b', 4]])
    assert.equal((await families(m)).get('libp2p_sizes')?.observed.length, 0, 'each observation is collected once')
  })

  test('a stream\'s bytes counted per protocol and for all connections, with no `message` listener added', async () => {
    const m = metrics()
    const sent: Uint8Array[] = []
    const stream = Object.assign(new EventTarget(), {
      protocol: '/samepage/sync/1.0.0',
      send: (buf: Uint8Array): boolean => { sent.push(buf); return true }
    })
    let heard = 0
    const added: string[] = []
    const addEventListener = stream.addEventListener.bind(stream)
    stream.addEventListener = (...args: Parameters<typeof addEventListener>) => {
      added.push(args[0])
      addEventListener(...args)
    }
    const listen = (): void => { stream.addEventListener('message', () => { heard++ }) }
    m.trackProtocolStream(stream as unknown as Stream)
    assert.deepEqual(added, [], 'tracking adds no listener')
    stream.send(new Uint8Array(7))
    stream.dispatchEvent(Object.assign(new Event('message'), { data: new Uint8Array(11) }))
    listen()
    stream.dispatchEvent(Object.assign(new Event('message'), { data: new Uint8Array(5) }))
    stream.dispatchEvent(new Event('close'))
    assert.equal(sent.length, 1, 'the send went through')
    assert.equal(heard, 1, 'a listener added later hears what comes after it, as without the count')
    const totals = { '/samepage/sync/1.0.0 sent': 7, '/samepage/sync/1.0.0 received': 16 }
    assert.deepEqual(await values(m, 'libp2p_data_transfer_bytes_total'), totals)
    assert.deepEqual(await values(m, 'libp2p_data_transfer_bytes_total'), totals, 'collected again: the same totals')
    stream.send(new Uint8Array(3))
    assert.deepEqual(await values(m, 'libp2p_data_transfer_bytes_total'), { ...totals, '/samepage/sync/1.0.0 sent': 10 })
    const unnegotiated = Object.assign(new EventTarget(), { protocol: '', send: () => true })
    m.trackProtocolStream(unnegotiated as unknown as Stream)
    assert.equal(Object.keys(await values(m, 'libp2p_data_transfer_bytes_total')).length, 2, 'no protocol: not counted')
  })
})

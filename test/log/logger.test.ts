import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger, LogLimiter } from '../../src/log/index.ts'
import type { LogFormat, LogLevel } from '../../src/log/index.ts'
import { NodeLog } from '../../src/node/node-log.ts'

function collect (level: LogLevel, format: LogFormat): { lines: string[], log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return { lines, log: createLogger({ level, format, sink: { write: line => { lines.push(line) } } }) }
}

test('JSON format: one object a line, with the level by name, an ISO time, the message and the fields', () => {
  const { lines, log } = collect('info', 'json')
  log.info({ peer: 'P', space: 'S' }, 'member joined')
  assert.equal(lines.length, 1)
  assert.ok(lines[0]?.endsWith('\n'))
  const o = JSON.parse(lines[0] as string) as Record<string, unknown>
  assert.deepEqual({ ...o, time: undefined }, { level: 'info', time: undefined, msg: 'member joined', peer: 'P', space: 'S' })
  assert.ok(!Number.isNaN(Date.parse(o.time as string)), 'an ISO time')
})

test('levels: a line below the level is not written', () => {
  const { lines, log } = collect('warn', 'json')
  log.debug({}, 'd')
  log.info({}, 'i')
  log.warn({}, 'w')
  log.error({}, 'e')
  assert.deepEqual(lines.map(l => (JSON.parse(l) as { msg: string }).msg), ['w', 'e'])
  const silent = collect('silent', 'json')
  silent.log.error({}, 'e')
  assert.deepEqual(silent.lines, [])
  const debug = collect('debug', 'json')
  debug.log.debug({}, 'd')
  assert.equal(debug.lines.length, 1)
})

test('human format: the daemon\'s "samepage: TIME" form, the level, the message, then key=value', () => {
  const { lines, log } = collect('info', 'human')
  log.warn({ peer: '12D3KooWabc', points: 10, spaces: ['team'] }, 'peer misbehaved')
  assert.match(lines[0] as string, /^samepage: \d{4}-\d\d-\d\dT[\d:.]+Z WARN peer misbehaved peer=12D3KooWabc points=10 spaces=\["team"\]\n$/)
})

test('human format: what a peer chose (a file name, a reason) cannot forge a line or drive the terminal', () => {
  const { lines, log } = collect('info', 'human')
  log.warn({ path: 'a\nsamepage: forged INFO line', reason: 'x\u001b[2J\u009b2J', empty: '' }, 'folder error')
  assert.equal(lines.length, 1)
  const line = lines[0] as string
  assert.equal(line.split('\n').length, 2, 'one line')
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(line), `no control character: ${JSON.stringify(line)}`)
  assert.match(line, / path="a\\nsamepage: forged INFO line" /)
  assert.match(line, / empty=""/)
})

test('the limiter: once per key a window, with a count of what it held back, and a cap for all keys', () => {
  const limiter = new LogLimiter({ windowMs: 60_000, perKey: 1, total: 3, maxKeys: 4 })
  assert.deepEqual(limiter.allow('p1 bad', 0), { held: 0 })
  for (let i = 0; i < 50; i++) assert.equal(limiter.allow('p1 bad', 1 + i), undefined)
  assert.deepEqual(limiter.allow('p2 bad', 100), { held: 0 })
  assert.deepEqual(limiter.allow('p3 bad', 100), { held: 0 })
  assert.equal(limiter.allow('p4 bad', 100), undefined, 'the cap for all keys')
  assert.deepEqual(limiter.allow('p1 bad', 60_000), { held: 50 }, 'a new window: the count of what was held back')
  // Fresh keys (free peer identities) never grow the table past its bound, and it still answers.
  for (let i = 0; i < 10_000; i++) limiter.allow(`stranger-${i}`, 120_000 + i * 60_000)
  assert.deepEqual(limiter.allow('p1 bad', 10_000 * 60_000 + 200_000), { held: 0 })
})

test('the node\'s log: nothing without a logger; a peer\'s repeated misbehaviour once a minute; a connection once', () => {
  const quiet = new NodeLog({ spacesOf: () => { throw new Error('not asked without a logger') } })
  quiet.connected('P', 'inbound')
  quiet.misbehaviour('P', 'garbage', 10, 10)
  const { lines, log } = collect('info', 'json')
  let nowMs = 0
  const node = new NodeLog({ logger: log, spacesOf: () => ['team'], now: () => nowMs })
  const read = (): Record<string, unknown>[] => lines.splice(0).map(l => JSON.parse(l) as Record<string, unknown>)
  node.connected('P', 'inbound')
  node.connected('P', 'outbound') // a second session replacing the first: the same connection
  assert.deepEqual(read().map(o => [o.msg, o.peer, o.spaces]), [['peer connected', 'P', ['team']]])
  for (let i = 0; i < 1000; i++) node.misbehaviour('P', 'garbage', 1, i)
  node.misbehaviour('P', 'bad status record', 10, 1010)
  assert.deepEqual(read().map(o => [o.msg, o.reason]), [['peer misbehaved', 'garbage'], ['peer misbehaved', 'bad status record']])
  nowMs = 60_000
  node.misbehaviour('P', 'garbage', 1, 1011)
  assert.deepEqual(read().map(o => [o.reason, o.repeated]), [['garbage', 999]])
  node.disconnected('P')
  node.disconnected('P')
  assert.deepEqual(read().map(o => o.msg), ['peer disconnected'])
})

test('the node\'s log: a folder\'s new conflicts and errors once each, alerts when they open and clear', () => {
  const { lines, log } = collect('info', 'json')
  const node = new NodeLog({ logger: log, spacesOf: () => [] })
  const read = (): unknown[][] => lines.splice(0).map(l => JSON.parse(l) as Record<string, unknown>).map(o => [o.msg, o.path ?? o.alert ?? o.conflicts])
  const status = (conflicts: number, errors: { path: string, error: string }[]): Parameters<NodeLog['folder']>[2] =>
    ({ conflicts, errors } as unknown as Parameters<NodeLog['folder']>[2])
  node.folder('S', 'team', status(0, []))
  node.folder('S', 'team', status(1, [{ path: 'a.txt', error: 'EACCES' }]))
  node.folder('S', 'team', status(1, [{ path: 'a.txt', error: 'EACCES' }])) // every half second during a transfer
  assert.deepEqual(read(), [['folder conflict', 1], ['folder error', 'a.txt']])
  const many = Array.from({ length: 10_000 }, (_, i) => ({ path: `f${i}`, error: 'not written: its name is too long' }))
  node.folder('S', 'team', status(1, many))
  const flood = read()
  assert.equal(flood.length, 10, 'ten errors a minute one by one (a.txt was the first), then one line for the rest')
  assert.deepEqual(flood.at(-1), ['folder errors', undefined])
  const alert = { kind: 'disk-full', subject: '/srv', detail: '3% free', sinceMs: 0 } as const
  node.alerts([alert])
  node.alerts([alert])
  node.alerts([])
  assert.deepEqual(read(), [['alert', 'disk-full'], ['alert cleared', 'disk-full']])
})

test('the node\'s log: a periodic task\'s failure once a minute per task and error, with a count held back', () => {
  const { lines, log } = collect('info', 'json')
  let nowMs = 0
  const node = new NodeLog({ logger: log, spacesOf: () => [], now: () => nowMs })
  const read = (): Record<string, unknown>[] => lines.splice(0).map(l => JSON.parse(l) as Record<string, unknown>)
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' })
  // At the open-file limit the alert check fails every second: one line, not sixty a minute.
  for (let i = 0; i < 60; i++) node.tickFailed('checking alerts', emfile)
  node.tickFailed('publishing this node\'s status', emfile)
  assert.deepEqual(read().map(o => [o.msg, o.task, o.error]), [
    ['periodic task failed; it runs again', 'checking alerts', 'EMFILE: too many open files'],
    ['periodic task failed; it runs again', 'publishing this node\'s status', 'EMFILE: too many open files']
  ])
  nowMs = 60_000
  node.tickFailed('checking alerts', emfile)
  assert.deepEqual(read().map(o => [o.task, o.repeated]), [['checking alerts', 59]])
})

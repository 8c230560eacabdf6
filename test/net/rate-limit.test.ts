import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimit } from '../../src/net/index.ts'

/**
 * --max-up / --max-down: a token bucket shared by every stream. Checked on
 * the real timer with bounds loose enough for a busy machine: what matters
 * is that the limit holds over a second, not the exact wait.
 */
test('a rate limit holds its rate over a second, in order, and no limit passes at once', { timeout: 600_000 }, async () => {
  const limit = new RateLimit(1_000_000) // 1 MB/s
  const started = performance.now()
  const order: number[] = []
  await Promise.all(Array.from({ length: 12 }, (_, i) => limit.take(128 * 1024).then(() => order.push(i))))
  const seconds = (performance.now() - started) / 1000
  // 1.5 MiB at 1 MB/s, less the first tenth of a second's burst: at least ~1.4 s.
  assert.ok(seconds > 1.3, `12 × 128 KiB passed in ${seconds.toFixed(2)} s`)
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'callers are served in the order they asked')
  const none = new RateLimit(0)
  assert.equal(none.limited, false)
  const t = performance.now()
  for (let i = 0; i < 1000; i++) await none.take(1024 * 1024)
  assert.ok(performance.now() - t < 1000)
})

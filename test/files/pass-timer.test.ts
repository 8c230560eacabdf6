import { afterEach, beforeEach, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_SETTLE_MS, PassTimer } from '../../src/files/pass-timer.ts'

/**
 * When a folder's pass runs (files/pass-timer.ts), on mocked timers: a burst is waited out, but a steady trickle
 * of calls cannot put the pass off for more than MAX_SETTLE_MS; a pass asked for now is not put off.
 */
describe('the pass timer', () => {
  beforeEach(() => { mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }) })
  afterEach(() => { mock.timers.reset() })

  function timer (): { runs: number[], timer: PassTimer } {
    const runs: number[] = []
    return { runs, timer: new PassTimer(() => { runs.push(Date.now()) }, () => Date.now()) }
  }

  test('a burst of calls closer than the delay runs one pass, after the burst settled', () => {
    const { runs, timer: t } = timer()
    for (let i = 0; i < 4; i++) { t.schedule(200); mock.timers.tick(100) }
    assert.deepEqual(runs, [], 'still within the burst')
    mock.timers.tick(100)
    assert.deepEqual(runs, [500], '200 ms after the last call')
  })

  test('a call every 150 ms with a settle of 200 ms: a pass at least every MAX_SETTLE_MS', () => {
    const { runs, timer: t } = timer()
    for (let i = 0; i < 40; i++) { t.schedule(200); mock.timers.tick(150) }
    // The old timer reset at every call: no pass at all in these 6 s.
    assert.ok(runs.length >= 5, `passes at ${runs.join(', ')}`)
    // (The mocked clock reads the end of the tick in which a timer fires: up to 150 ms late here.)
    assert.ok(runs[0]! <= MAX_SETTLE_MS + 150, `first pass at ${runs[0]}`)
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]! - runs[i - 1]! <= MAX_SETTLE_MS + 150, `gap before pass ${i}`)
  })

  test('a pass asked for now is not put off by a settle asked for after it', () => {
    const { runs, timer: t } = timer()
    t.schedule(0)
    t.schedule(250)
    mock.timers.tick(0)
    assert.deepEqual(runs, [0])
  })

  test('a sooner call brings a later pass forward; cancel leaves none due', () => {
    const { runs, timer: t } = timer()
    t.schedule(5_000)
    mock.timers.tick(100)
    t.schedule(250)
    mock.timers.tick(250)
    assert.deepEqual(runs, [350])
    t.schedule(250)
    t.cancel()
    mock.timers.tick(10_000)
    assert.deepEqual(runs, [350])
  })
})

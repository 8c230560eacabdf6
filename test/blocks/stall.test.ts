import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockScheduler } from '../../src/blocks/index.ts'
import type { SchedulerAction } from '../../src/blocks/index.ts'
import { blocksOf, runTransfer } from './transfer-sim.ts'

/**
 * A peer that takes requests and never answers (decision 16): past its
 * deadline it is stalled, dropped without blame, asked nothing more, and
 * what only it held becomes an orphan, so the caller can give up on it and
 * the transfer ends. In virtual time: the scheduler takes the time.
 */
const CHUNK = 64 * 1024
const MB = 1_000_000

describe('block scheduler: a stalled peer', () => {
  test('a silent seeder is dropped without blame after the deadline and every block comes from the honest one', () => {
    const blocks = blocksOf(256, CHUNK)
    const r = runTransfer(blocks, [{ id: 'silent', bytesPerMs: 100 * MB / 1000, stopAtMs: 0 }, { id: 'honest', bytesPerMs: 20 * MB / 1000, latencyMs: 1 }], { stallMs: 30_000 })
    assert.equal(r.arrivals.size, blocks.length)
    assert.deepEqual(r.penalized, [], 'silence is not proven hostility')
    assert.equal(r.validFrom.get('silent'), undefined)
    assert.equal(r.sourceOf.size, blocks.length)
  })

  test('what only the stalled peer held becomes an orphan after the deadline, never before; it is asked nothing more', () => {
    const s = new BlockScheduler({ stallMs: 30_000 })
    const blocks = blocksOf(4, CHUNK)
    s.want(blocks)
    s.has('silent', blocks.map(b => b.hash), 0)
    const first = s.poll(0)
    assert.ok(first.some(a => a.type === 'request' && a.peer === 'silent'))
    assert.deepEqual(s.orphans(), [])
    const deadline = s.nextDeadline()
    assert.equal(deadline, 30_000, 'a peer of unknown rate gets the floor')
    s.tick(29_999)
    assert.deepEqual(s.poll(29_999).filter(a => a.type !== 'request'), [], 'not before its deadline')
    s.tick(30_000)
    const after: SchedulerAction[] = s.poll(30_000)
    assert.deepEqual(after.filter(a => a.type === 'drop').map(a => a.type === 'drop' ? [a.peer, a.cause] : []), [['silent', 'stalled']])
    assert.deepEqual(after.filter(a => a.type === 'penalize'), [])
    assert.deepEqual(new Set(s.orphans()), new Set(blocks.map(b => b.hash)), 'nobody else holds them: the caller gives up on them')
    // It says again that it holds them (a later want in the same pass): still not asked.
    s.has('silent', blocks.map(b => b.hash), 30_001)
    s.want(blocksOf(2, CHUNK, 'late'))
    s.has('silent', blocksOf(2, CHUNK, 'late').map(b => b.hash), 30_001)
    assert.deepEqual(s.poll(30_001).filter(a => a.type === 'request'), [])
    assert.equal(s.nextDeadline(), null, 'no timer left')
  })

  test('a peer with a measured rate gets four times its queue at that rate, never less than the floor', () => {
    const s = new BlockScheduler({ stallMs: 2_000, pipelineMin: 1, pipelineMax: 1 })
    const blocks = blocksOf(3, 1_000_000)
    s.want(blocks)
    s.has('slow', blocks.map(b => b.hash), 0)
    const asked = s.poll(0).find(a => a.type === 'request')
    assert.ok(asked !== undefined && asked.type === 'request')
    // 1 MB in 1 s: 1,000 bytes per ms.
    s.received('slow', asked.hash, true, 1_000)
    const next = s.poll(1_000).find(a => a.type === 'request')
    assert.ok(next !== undefined)
    // Its queue (one 1 MB block) takes 1 s at its rate: the deadline is 4 s after the ask, above the 2 s floor.
    s.tick(1_000 + 3_000)
    assert.deepEqual(s.poll(4_000).filter(a => a.type === 'drop'), [])
    s.tick(1_000 + 4_000)
    assert.deepEqual(s.poll(5_000).filter(a => a.type === 'drop').map(a => a.peer), ['slow'])
  })
})

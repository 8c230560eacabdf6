import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockScheduler } from '../../src/blocks/index.ts'
import { blocksOf, runTransfer } from './transfer-sim.ts'
import type { Seeder } from './transfer-sim.ts'

/**
 * The block scheduler's promises, in virtual time (test/blocks/transfer-sim.ts):
 * rate shares from seeders of different speeds, a seeder dying mid-transfer,
 * a corrupt seeder, rarest first, and an endgame so a slow peer never holds
 * the last piece. Figures are of the scheduler alone; the real transfer is
 * measured by npm run bench.
 */
const MB = 1_000_000
const perMs = (mbPerSecond: number): number => mbPerSecond * MB / 1000
const FOUR: Seeder[] = [10, 20, 40, 80].map(r => ({ id: `seed-${r}`, bytesPerMs: perMs(r), latencyMs: 1 }))
const CHUNK = 64 * 1024

describe('block scheduler', () => {
  test('four seeders capped at 10, 20, 40 and 80 MB/s give at least 85% of their 150 MB/s together', () => {
    const blocks = blocksOf(4096, CHUNK) // 256 MiB
    const r = runTransfer(blocks, FOUR)
    const rate = blocks.length * CHUNK / r.doneAtMs * 1000 / MB
    assert.ok(rate >= 0.85 * 150, `${rate.toFixed(1)} MB/s of 150`)
    // Each seeder carried about its share: the fastest the most.
    const share = FOUR.map(p => (r.validFrom.get(p.id) ?? 0) / blocks.length)
    assert.ok(share[3]! > share[2]! && share[2]! > share[1]! && share[1]! > share[0]!, JSON.stringify(share))
    assert.ok(r.duplicates <= 16, `endgame copies stay few: ${r.duplicates}`)
  })

  test('the slowest seeder stopping mid-transfer: the rest finish at the rate the others give', () => {
    const blocks = blocksOf(4096, CHUNK)
    const seeders = FOUR.map(p => p.id === 'seed-10' ? { ...p, stopAtMs: 500 } : p)
    const r = runTransfer(blocks, seeders)
    const rate = blocks.length * CHUNK / r.doneAtMs * 1000 / MB
    assert.equal(r.arrivals.size, blocks.length)
    assert.ok(rate >= 0.85 * 140, `${rate.toFixed(1)} MB/s of the 140 left`)
  })

  test('a seeder sending corrupt blocks is penalized and dropped; every block still arrives valid from the others', () => {
    const blocks = blocksOf(512, CHUNK)
    const seeders: Seeder[] = [...FOUR.slice(0, 3), { id: 'liar', bytesPerMs: perMs(200), latencyMs: 1, corrupt: true }]
    const r = runTransfer(blocks, seeders)
    assert.deepEqual(r.dropped, ['liar'])
    assert.deepEqual(r.penalized, ['liar'])
    assert.equal(r.arrivals.size, blocks.length)
    assert.equal(r.validFrom.get('liar'), undefined)
  })

  test('endgame: a seeder that slows to a crawl never holds the last piece', () => {
    const blocks = blocksOf(1024, CHUNK)
    const fast: Seeder = { id: 'fast', bytesPerMs: perMs(100), latencyMs: 1 }
    // As fast as the other at first (its early blocks set its rate), then 1,000 times slower.
    const crawl: Seeder = { id: 'crawl', bytesPerMs: perMs(100), latencyMs: 1, slowAfterMs: 300, slowBytesPerMs: perMs(0.1) }
    const r = runTransfer(blocks, [fast, crawl])
    // What the fast one alone would need for all of it; a block stuck at the crawler would take 650 ms more.
    const alone = blocks.length * CHUNK / perMs(100)
    assert.ok(r.doneAtMs < alone * 1.2, `done at ${r.doneAtMs.toFixed(0)} ms; the fast seeder alone needs ${alone.toFixed(0)} ms`)
    assert.ok(r.duplicates <= 64, `copies: ${r.duplicates}`)
  })

  test('rarest first: blocks only one seeder holds are asked for early', () => {
    const blocks = blocksOf(400, CHUNK)
    const rare = new Set(blocks.slice(300).map(b => b.hash))
    const everyone = new Set(blocks.slice(0, 300).map(b => b.hash))
    const seeders: Seeder[] = [
      { id: 'a', bytesPerMs: perMs(40), latencyMs: 1, holds: new Set([...everyone, ...rare]) },
      { id: 'b', bytesPerMs: perMs(40), latencyMs: 1, holds: everyone },
      { id: 'c', bytesPerMs: perMs(40), latencyMs: 1, holds: everyone }
    ]
    const r = runTransfer(blocks, seeders)
    const when = (hashes: Iterable<string>): number[] => [...hashes].map(h => r.firstRequestMs.get(h) as number).sort((x, y) => x - y)
    const rareMedian = when(rare)[50] as number
    const commonMedian = when(everyone)[150] as number
    assert.ok(rareMedian <= commonMedian, `rare blocks asked at ${rareMedian} ms (median), common at ${commonMedian} ms`)
    assert.equal(r.arrivals.size, blocks.length)
  })

  test('a seeder that does not have a block says so, and another is asked without blame', () => {
    const blocks = blocksOf(64, CHUNK)
    const lacks = new Set(blocks.filter((_, i) => i % 2 === 0).map(b => b.hash))
    const r = runTransfer(blocks, [{ id: 'x', bytesPerMs: perMs(50), lacks }, { id: 'y', bytesPerMs: perMs(20) }])
    assert.equal(r.arrivals.size, 64)
    assert.deepEqual(r.penalized, [])
    assert.deepEqual(r.dropped, [])
    for (const h of lacks) assert.equal(r.sourceOf.get(h), 'y', 'what x lacks comes from y')
    assert.ok((r.validFrom.get('x') ?? 0) > 0, 'x still serves what it has')
  })

  test('a member that holds nothing yet (a fellow receiver) rests after refusals, and is not asked for every block', () => {
    const blocks = blocksOf(4096, CHUNK) // 256 MiB: ~3.4 s from the sender at 80 MB/s
    const all = new Set(blocks.map(b => b.hash))
    const seeders: Seeder[] = [
      { id: 'sender', bytesPerMs: perMs(80), latencyMs: 1 },
      { id: 'fellow', bytesPerMs: perMs(80), latencyMs: 1, lacks: all }
    ]
    const r = runTransfer(blocks, seeders)
    assert.equal(r.validFrom.get('sender'), blocks.length)
    assert.deepEqual(r.penalized, [])
    assert.deepEqual(r.dropped, [])
    // Two at first, then after rests of 0.1, 0.2, 0.4... up to 3 s: 7 in 3.4 s (without the rests, ~4,000).
    const refused = r.refusedBy.get('fellow') ?? 0
    assert.ok(refused > 0 && refused <= 24, `the fellow was asked ${refused} times`)
    const rate = blocks.length * CHUNK / r.doneAtMs * 1000 / MB
    assert.ok(rate >= 0.9 * 80, `${rate.toFixed(1)} MB/s of the sender's 80`)
  })

  test('a resting member that comes to hold the blocks is asked again, and carries its share', () => {
    const blocks = blocksOf(2048, CHUNK) // 134 MB: 13.4 s from the slow sender alone
    const all = new Set(blocks.map(b => b.hash))
    const seeders: Seeder[] = [
      { id: 'sender', bytesPerMs: perMs(10), latencyMs: 1 },
      { id: 'fellow', bytesPerMs: perMs(80), latencyMs: 1, lacks: all, lacksUntilMs: 1_000 }
    ]
    const r = runTransfer(blocks, seeders)
    assert.equal(r.arrivals.size, blocks.length)
    // It holds everything from 1 s; asked again within a rest of at most 3 s, it then serves at 80 MB/s.
    assert.ok(r.doneAtMs < 6_000, `done at ${r.doneAtMs} ms`)
    assert.ok((r.validFrom.get('fellow') ?? 0) > blocks.length / 2, `the fellow sent ${r.validFrom.get('fellow')}`)
  })

  test('when every holder refuses (a file that moved on), each block is given up at once, resting or not', () => {
    // Two peers said to hold all 256 blocks; both answer "I do not have it" 1 ms after each request. Before the rest
    // rule every block was an orphan after ~128 round trips; a resting peer must not hold that up for seconds.
    const blocks = blocksOf(256, CHUNK)
    const s = new BlockScheduler()
    s.want(blocks)
    for (const id of ['moved-on', 'fellow']) s.has(id, blocks.map(b => b.hash), 0)
    let now = 0
    let asked: { peer: string, hash: string }[] = []
    for (let steps = 0; s.orphans().length < blocks.length; steps++) {
      assert.ok(steps < 10_000, 'bounded')
      for (const a of s.poll(now)) if (a.type === 'request') asked.push(a)
      if (asked.length === 0) {
        const next = s.nextDeadline()
        assert.ok(next !== null, `nothing asked and nothing to wait for, with ${s.orphans().length} given up`)
        now = Math.max(now + 1, next)
        s.tick(now)
        continue
      }
      now += 1
      for (const a of asked) s.refused(a.peer, a.hash, now)
      asked = []
    }
    assert.ok(now <= 300, `every block given up after ${now} ms (virtual)`)
  })
})

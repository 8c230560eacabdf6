/**
 * A pass that stops (the folder stops, its space is left, the node stops)
 * takes back what it asked for and no writer will take: src/files/write-jobs.ts
 * releases the chunks of the jobs it never started and then the pass closes
 * its BlockFetch. The release only queued the scheduler's cancels (they go
 * out at the next pump) and close() pumps no more, so nothing was taken back:
 * each peer read from disk and uploaded every chunk still in flight (its
 * whole pipeline of the pass's window) to a fetcher that drops them on
 * arrival, on block links that outlive the pass (the next pass's answers
 * wait behind them).
 *
 * In-memory links (as test/net/block-fetch.test.ts): a peer that holds its
 * answers until the test lets them go; the link records what is cancelled.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { BlockFetch } from '../../src/net/index.ts'
import type { BlockAnswer, BlockLink } from '../../src/net/index.ts'
import type { FileChunk } from '../../src/codec/index.ts'

const chunkOf = (bytes: Uint8Array): FileChunk => [crypto.hash('sha256', bytes, 'buffer'), bytes.length] as unknown as FileChunk

test('a fetcher closed with requests in flight takes them back from the peers (a stopped pass uploads nothing more)',
  async () => {
    const chunks = Array.from({ length: 8 }, () => chunkOf(crypto.randomBytes(1024)))
    const asked: string[] = []
    const cancelled: string[] = []
    const answers: Array<(a: BlockAnswer) => void> = []
    const link = {
      closed: false,
      waiting: 0,
      request: async (_space: string, hash: Uint8Array) => {
        asked.push(Buffer.from(hash).toString('hex'))
        return await new Promise<BlockAnswer>(resolve => { answers.push(resolve) })
      },
      cancel: (_space: string, hash: Uint8Array) => { cancelled.push(Buffer.from(hash).toString('hex')) },
      close: () => {}
    } as unknown as BlockLink
    const fetch = new BlockFetch({ space: 's', peers: ['peer'], link: async () => link, onCorrupt: () => {} })
    fetch.plan(chunks)
    // The pass's writers never took any (the folder stopped first): released, then closed, as write-jobs.ts does.
    const deadline = Date.now() + 30_000
    while (asked.length === 0 && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
    assert.ok(asked.length > 0, 'no request went out')
    fetch.release(chunks)
    fetch.close()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual([...cancelled].sort(), [...asked].sort(),
      `${asked.length} requests in flight when the pass stopped, ${cancelled.length} taken back`)
    for (const answer of answers) answer('cancelled')
  })

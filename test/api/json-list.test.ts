/**
 * A list answered a row at a time (api/json-list.ts, review A defect 4): the
 * JSON array is never one string, the writer waits while the socket is full,
 * and it stops reading pages once the client is gone. Tested with a small
 * chunk size in place of the ~2^29 characters that broke the whole-list
 * answer, so the mechanism is seen at a bound a test can reach.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { JsonList, writeJsonList } from '../../src/api/json-list.ts'

/** Pages of `n` rows each, `pages` of them: what the node hands out, counting the pages read. */
function pagedRows (pages: number, n: number): { list: JsonList, all: unknown[], read: () => number } {
  const all = Array.from({ length: pages * n }, (_, i) => ({ i, text: '\u0001'.repeat(i % 7), big: BigInt(i) ** 5n }))
  let read = 1
  const page = (p: number): { rows: unknown[], next: string | null } =>
    ({ rows: all.slice(p * n, (p + 1) * n), next: p + 1 < pages ? String(p + 1) : null })
  return { list: new JsonList(page(0), next => { read++; return page(Number(next)) }), all, read: () => read }
}

/** A socket that takes one chunk at a time, late (its buffer full after each write): the writer must wait. */
class SlowSocket extends Writable {
  readonly chunks: string[] = []
  inFlight = 0
  maxInFlight = 0
  constructor () { super({ highWaterMark: 1, decodeStrings: false }) }
  override _write (chunk: string, _enc: BufferEncoding, done: (err?: Error) => void): void {
    this.chunks.push(chunk)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    setImmediate(() => { this.inFlight--; done() })
  }
}

/** JSON as the API gives it: bigints as strings. */
const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? x.toString() : x)
const expected = (rows: unknown[]): unknown => JSON.parse(json(rows))

test('the array is written in bounded chunks, waiting for the socket, and reads back as the whole list', async () => {
  const { list, all, read } = pagedRows(5, 40)
  const socket = new SlowSocket()
  const chunkChars = 256
  assert.equal(await writeJsonList(socket, list, chunkChars), true)
  assert.equal(read(), 5, 'every page read')
  assert.deepEqual(JSON.parse(socket.chunks.join('')), expected(all), 'the chunks make the list, bigints as strings')
  const longestRow = Math.max(...all.map(r => json(r).length))
  assert.ok(socket.chunks.length > 10, `many chunks, not one string (${socket.chunks.length})`)
  for (const c of socket.chunks) assert.ok(c.length <= chunkChars + longestRow + 1, `a chunk of ${c.length} characters`)
  assert.equal(socket.maxInFlight, 1, 'never more than the socket took: each write waited for the one before')
})

test('empty and one-page lists are plain JSON arrays', async () => {
  for (const [pages, n] of [[1, 0], [1, 1], [1, 3]] as const) {
    const { list, all } = pagedRows(pages, n)
    const socket = new SlowSocket()
    assert.equal(await writeJsonList(socket, list), true)
    assert.equal(socket.chunks.join(''), JSON.stringify(expected(all)))
  }
})

test('a client that goes away stops the list: no more pages are read', async () => {
  const { list, read } = pagedRows(50, 40)
  const socket = new SlowSocket()
  const writing = writeJsonList(socket, list, 64)
  await new Promise(resolve => socket.once('drain', resolve))
  socket.destroy()
  assert.equal(await writing, false)
  assert.ok(read() < 50, `it stopped reading (${read()} of 50 pages)`)
})

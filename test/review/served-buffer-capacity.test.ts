/**
 * Review (served chunks read into reused buffers, 0b923e7): the memory an answer holds while it waits to be sent
 * is its buffer's capacity, not its size. takeServedBuffer gives a buffer of its own of at least 64 KiB (a power of
 * two), or the smallest free one that fits, whatever its size: a 20 KB chunk (a small file) holds 64 KiB, a 70 KB
 * one a free 16 MiB buffer. Answers queued for a slow peer then hold many times the bytes they carry. Expected: an
 * answer holds at most about twice its bytes (or a slab Node shares among small buffers).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { giveBackServedBuffer, takeServedBuffer } from '../../src/blocks/index.ts'

/** What an answer of `size` bytes may hold: twice its bytes, or Node's own slab (shared by many small buffers). */
function heldMax (size: number): number {
  return Math.max(2 * size, Buffer.poolSize)
}

test('a small chunk does not hold a buffer many times its size', () => {
  for (const size of [1, 100, 3000, 20_000]) {
    const bytes = takeServedBuffer(size)
    assert.equal(bytes.length, size)
    assert.ok(bytes.buffer.byteLength <= heldMax(size), `${size} bytes held ${bytes.buffer.byteLength}`)
  }
})

test('a free big buffer is not given to a small chunk', () => {
  const big = takeServedBuffer(16 * 1024 * 1024)
  giveBackServedBuffer(big)
  const small = takeServedBuffer(70 * 1024)
  assert.ok(small.buffer.byteLength <= heldMax(small.length), `${small.length} bytes held ${small.buffer.byteLength}`)
  giveBackServedBuffer(small)
})

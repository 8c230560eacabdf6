import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import zlib from 'node:zlib'
import { chunkCheck } from '../../src/files/chunk-check.ts'

const linuxX64 = process.platform === 'linux' && process.arch === 'x64'

/**
 * The check a scan takes of each chunk and serving compares with is zlib's CRC-32, whichever code computes it:
 * a scan's checks and a serve's must agree in one process, and a fallback to node:zlib must give the same.
 */
test('on Linux x64 the chunk check runs in @node-rs/crc32, loaded at the first check', { skip: !linuxX64 }, () => {
  const addon = /crc32\.linux-x64-gnu\.node/
  // Runs first in its own process (node --test): nothing has checked a chunk yet.
  assert.doesNotMatch(fs.readFileSync('/proc/self/maps', 'utf8'), addon)
  chunkCheck(new Uint8Array(1))
  assert.match(fs.readFileSync('/proc/self/maps', 'utf8'), addon)
})

test('a chunk check is the CRC-32 of exactly the bytes of the view given', () => {
  const bytes = new Uint8Array(300_000)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff
  for (const [start, end] of [[0, 0], [0, 1], [3, 70_003], [12_345, 300_000], [0, 300_000]] as const) {
    const view = bytes.subarray(start, end)
    assert.equal(chunkCheck(view), zlib.crc32(view), `bytes [${start}, ${end})`)
  }
  assert.equal(chunkCheck(new TextEncoder().encode('123456789')), 0xcbf43926)
})

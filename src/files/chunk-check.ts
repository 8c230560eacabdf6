import { createRequire } from 'node:module'
import zlib from 'node:zlib'

/**
 * The CRC-32 a scan takes of each chunk and serving compares a chunk read again with (chunk-index.ts): the IEEE
 * polynomial, zlib's value. Computed by `@node-rs/crc32` (carry-less multiplication, about 3× node:zlib's crc32
 * here: 256 MiB in 37 ms against 122), which checked every byte a 1 GiB sender served twice, once scanning and
 * once serving. Loaded at the first chunk checked (an idle daemon maps no addon for it); where its prebuilt
 * binary cannot load, node:zlib's gives the same value.
 */
type Crc32 = (bytes: Uint8Array) => number

let crc32: Crc32 | undefined

export function chunkCheck (bytes: Uint8Array): number {
  crc32 ??= loadCrc32()
  return crc32(bytes)
}

function loadCrc32 (): Crc32 {
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as { crc32: (input: Uint8Array) => number }
    return bytes => native.crc32(bytes)
  } catch {
    return bytes => zlib.crc32(bytes)
  }
}

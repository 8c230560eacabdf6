import { createRequire } from 'node:module'

/**
 * The CRC-32 a scan takes of each chunk and serving compares a chunk read again with (chunk-index.ts): the IEEE
 * polynomial, zlib's value. A sender takes it of every byte it serves twice, scanning and serving, so it is computed
 * by `@node-rs/crc32` (carry-less multiplication): 256 MiB out of the cache in 37 ms here against node:zlib's 122,
 * a GiB of one 256 KiB buffer in the cache in 0.04 s against 0.18. Loaded at the first chunk checked (an idle
 * daemon maps no addon for it); where its prebuilt binary cannot load, node:zlib's gives the same value (loaded
 * only then: an idle daemon loads no zlib).
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
    const zlib = process.getBuiltinModule('node:zlib')
    return bytes => zlib.crc32(bytes)
  }
}

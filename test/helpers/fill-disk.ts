import assert from 'node:assert/strict'
import fs from 'node:fs'

/** Appends to `file` until the disk under it refuses even one more byte (ENOSPC). */
export function fillDisk (file: string): void {
  const fd = fs.openSync(file, 'a')
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const block = Buffer.alloc(size, 1)
      try {
        for (;;) fs.writeSync(fd, block)
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
      }
    }
  } finally {
    fs.closeSync(fd)
  }
}

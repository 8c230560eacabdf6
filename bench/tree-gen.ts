/**
 * The folder benchmarks' data, the same bytes every run: every byte comes
 * from a seeded keystream (AES-128-CTR over zeros, the key from SHA-256 of a
 * label), incompressible like random data and several GB/s to make; sizes
 * and places from a seeded xorshift32. Same seed, same tree, bit for bit.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const MIB = 1024 * 1024

/** A seeded keystream: each call returns the next `n` bytes. */
export function seededBytes (label: string): (n: number) => Buffer {
  const key = crypto.createHash('sha256').update(`samepage-bench/${label}`).digest().subarray(0, 16)
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return n => cipher.update(Buffer.alloc(n))
}

/** xorshift32 (Marsaglia 2003): floats in [0, 1) from a nonzero seed. */
function xorshift (seed: number): () => number {
  let x = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

export async function writeSeeded (file: string, bytes: number, label: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  const next = seededBytes(label)
  const fd = await fs.promises.open(file, 'w')
  try {
    for (let done = 0; done < bytes; done += MIB) await fd.write(next(Math.min(MIB, bytes - done)))
  } finally {
    await fd.close()
  }
}

/** `count` files of 4 KiB in 100 directories. */
export async function writeSmallFiles (dir: string, count: number): Promise<void> {
  const next = seededBytes('small')
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `dir${String(i % 100).padStart(2, '0')}`)
    if (i < 100) await fs.promises.mkdir(sub, { recursive: true })
    await fs.promises.writeFile(path.join(sub, `file${i}.bin`), next(4096))
  }
}

export interface TreeFile { readonly rel: string, readonly size: number }

/**
 * The mixed tree: files of 1 KiB to 8 MiB (log-uniform: as many of 1–8 KiB
 * as of 1–8 MiB, about 0.9 MB on average) at depths 0 to 4, in directories
 * that several files share, until `totalBytes` is reached. Only the list;
 * writeTree() makes it.
 */
export function mixedTree (seed: number, totalBytes: number): TreeFile[] {
  const random = xorshift(seed)
  const files: TreeFile[] = []
  for (let total = 0; total < totalBytes;) {
    const size = Math.round(2 ** (10 + 13 * random()))
    const depth = Math.floor(random() * 5)
    const dirs = Array.from({ length: depth }, (_, level) => `d${level}-${Math.floor(random() * 4)}`)
    files.push({ rel: path.join(...dirs, `f${files.length}.bin`), size })
    total += size
  }
  return files
}

export async function writeTree (dir: string, files: readonly TreeFile[], seed: number): Promise<void> {
  for (const f of files) await writeSeeded(path.join(dir, f.rel), f.size, `mixed/${seed}/${f.rel}`)
}

/** `bytes` of new data over the file at `offset` (same size). */
export async function rewriteAt (file: string, offset: number, bytes: number): Promise<void> {
  const fd = await fs.promises.open(file, 'r+')
  try {
    await fd.write(seededBytes(`rewrite/${offset}`)(bytes), 0, bytes, offset)
  } finally {
    await fd.close()
  }
}

/** `bytes` of new data inserted at `offset` (the rest shifted), through a copy renamed over the file. */
export async function insertAt (file: string, offset: number, bytes: number): Promise<void> {
  const tmp = `${file}.edit`
  const from = await fs.promises.open(file, 'r')
  const to = await fs.promises.open(tmp, 'w')
  try {
    const buf = Buffer.alloc(8 * MIB)
    const copy = async (start: number, end: number): Promise<void> => {
      for (let at = start; at < end;) {
        const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, end - at), at)
        if (bytesRead === 0) break
        await to.write(buf.subarray(0, bytesRead))
        at += bytesRead
      }
    }
    const size = (await from.stat()).size
    await copy(0, offset)
    await to.write(seededBytes(`insert/${offset}`)(bytes))
    await copy(offset, size)
  } finally {
    await from.close()
    await to.close()
  }
  await fs.promises.rename(tmp, file)
}

export async function copyKeepingMtime (from: string, to: string): Promise<void> {
  await fs.promises.copyFile(from, to)
  const { atime, mtime } = await fs.promises.stat(from)
  await fs.promises.utimes(to, atime, mtime)
}

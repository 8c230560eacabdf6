import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { toHex } from '../codec/index.ts'
import type { ScannedFile } from './scanner.ts'

/**
 * Where each chunk of a shared folder sits on this node's disk: hash ->
 * (file, offset, size), from the latest scan. The bytes stay in the files
 * themselves (no second copy on disk); a read hashes what it got, so a file
 * changed since the scan gives null, never wrong bytes. Used to copy chunks
 * locally instead of fetching them (another file, the old version, data
 * that moved) and to serve peers.
 */
export interface ChunkLocation { readonly path: string, readonly offset: number, readonly size: number }

export class ChunkIndex {
  readonly #root: string
  readonly #where = new Map<string, ChunkLocation[]>()

  constructor (root: string) {
    this.#root = root
  }

  /** Forget everything and index these files (a scan's result). */
  rebuild (files: Iterable<ScannedFile>): void {
    this.#where.clear()
    for (const f of files) this.add(f)
  }

  /** Index one file (just written, or just scanned). Its earlier locations stay until the next rebuild; reads check them. */
  add (file: Pick<ScannedFile, 'path' | 'chunks'>): void {
    let offset = 0
    for (const [hash, size] of file.chunks) {
      const key = toHex(hash)
      let list = this.#where.get(key)
      if (list === undefined) this.#where.set(key, list = [])
      if (!list.some(l => l.path === file.path && l.offset === offset)) list.push({ path: file.path, offset, size })
      offset += size
    }
  }

  has (hashHex: string): boolean {
    return this.#where.has(hashHex)
  }

  get size (): number {
    return this.#where.size
  }

  /** The chunk's bytes from any local file that still holds them, or null. */
  async read (hashHex: string, size?: number): Promise<Uint8Array | null> {
    for (const loc of this.#where.get(hashHex) ?? []) {
      if (size !== undefined && loc.size !== size) continue
      const bytes = await readRegion(path.join(this.#root, loc.path), loc.offset, loc.size)
      if (bytes !== null && crypto.hash('sha256', bytes, 'hex') === hashHex) return bytes
    }
    return null
  }
}

async function readRegion (abs: string, offset: number, size: number): Promise<Uint8Array | null> {
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(abs, 'r')
  } catch {
    return null // gone or unreadable since the scan
  }
  try {
    const buf = Buffer.allocUnsafe(size)
    const { bytesRead } = await handle.read(buf, 0, size, offset)
    return bytesRead === size ? buf : null
  } finally {
    await handle.close()
  }
}

import fs from 'node:fs'
import path from 'node:path'
import { toHex } from '../codec/index.ts'
import type { ScannedFile } from './scanner.ts'

/**
 * Where each chunk of a shared folder sits on this node's disk: hash ->
 * (file, offset, size), from the latest scan. The bytes stay in the files
 * themselves (no second copy on disk). A read first checks that the file
 * it reads is the one scanned (size, mtime and inode of the open file), so a
 * file changed since gives null; the bytes are not hashed again here (on the
 * hot path of serving a big file), because every user of them hashes them
 * anyway: the safe writer before it copies, a peer before it keeps them.
 * Used to copy chunks locally instead of fetching them (another file, the
 * old version, data that moved) and to serve peers.
 */
export interface ChunkLocation { readonly path: string, readonly offset: number, readonly size: number }
type FileStat = Pick<ScannedFile, 'size' | 'mtimeMs' | 'ino'>

/** Files kept open for reads (serving a big file is many reads of one file). */
const OPEN_FILES_MAX = 16

export class ChunkIndex {
  readonly #root: string
  readonly #where = new Map<string, ChunkLocation[]>()
  readonly #open = new Map<string, Promise<fs.promises.FileHandle | null>>()
  /** The stat each indexed file had when its chunks were found. */
  readonly #stats = new Map<string, FileStat>()

  constructor (root: string) {
    this.#root = root
  }

  /** Forget everything and index these files (a scan's result). */
  rebuild (files: Iterable<ScannedFile>): void {
    this.#where.clear()
    this.#stats.clear()
    this.close()
    for (const f of files) this.add(f)
  }

  /** Index one file (just written, or just scanned). Its earlier locations stay until the next rebuild; reads check them. */
  add (file: Pick<ScannedFile, 'path' | 'chunks' | 'size' | 'mtimeMs' | 'ino'>): void {
    this.#stats.set(file.path, { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino })
    this.#forget(file.path)
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


  /** The chunk's bytes from a local file that is still as scanned, or null. */
  async read (hashHex: string, size?: number): Promise<Uint8Array | null> {
    for (const loc of this.#where.get(hashHex) ?? []) {
      if (size !== undefined && loc.size !== size) continue
      const bytes = await this.#readRegion(loc)
      if (bytes !== null) return bytes
    }
    return null
  }

  /** Closes the files kept open. */
  close (): void {
    for (const h of this.#open.values()) void h.then(x => x?.close()).catch(() => {})
    this.#open.clear()
  }

  async #readRegion (loc: ChunkLocation): Promise<Uint8Array | null> {
    const scanned = this.#stats.get(loc.path)
    if (scanned === undefined) return null
    let opening = this.#open.get(loc.path)
    if (opening === undefined) {
      opening = fs.promises.open(path.join(this.#root, loc.path), 'r').catch(() => null) // gone or unreadable since the scan
      this.#open.set(loc.path, opening)
      if (this.#open.size > OPEN_FILES_MAX) this.#forget(this.#open.keys().next().value as string)
    }
    const handle = await opening
    if (handle === null) { this.#open.delete(loc.path); return null }
    try {
      // The open file itself, not the path: a file replaced since keeps its old inode open here, unchanged.
      const st = await handle.stat()
      if (st.size !== scanned.size || Math.floor(st.mtimeMs) !== scanned.mtimeMs || st.ino !== scanned.ino) { this.#forget(loc.path); return null }
      const buf = Buffer.allocUnsafe(loc.size)
      const { bytesRead } = await handle.read(buf, 0, loc.size, loc.offset)
      return bytesRead === loc.size ? buf : null
    } catch {
      this.#forget(loc.path)
      return null
    }
  }

  #forget (p: string): void {
    const h = this.#open.get(p)
    this.#open.delete(p)
    void h?.then(x => x?.close()).catch(() => {})
  }
}

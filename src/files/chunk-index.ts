import { constants as C } from 'node:fs'
import path from 'node:path'
import { giveBackServedBuffer, takeServedBuffer } from '../blocks/index.ts'
import { sha256, toHex } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import { nodeFolderFs } from './folder-fs.ts'
import type { FolderFs, FsFileHandle } from './folder-fs.ts'
import type { ScannedFile } from './scanner.ts'
import { chunkCheck } from './chunk-check.ts'

/**
 * Where each chunk of a shared folder sits on this node's disk: hash ->
 * (file, offset, size), from the latest scan. The bytes stay in the files
 * themselves (no second copy on disk). A read first checks that the file
 * it reads is the one scanned (size, mtime and inode of the open file), so a
 * file changed since gives null. Used to copy chunks locally instead of
 * fetching them (another file, the old version, data that moved: `read`,
 * whose bytes the safe writer hashes before it copies them) and to serve
 * peers (`serve`, which checks the bytes it read before anyone gets them:
 * the stat check cannot see a file rewritten in place during the read, or
 * within the same millisecond, and a peer blames whoever sends bytes that
 * do not hash right). That check is the chunk's CRC-32 from the scan that
 * found it, where this process scanned it: it only has to notice a local
 * change (the receiver verifies the SHA-256 of everything it is sent), and
 * it cost the sender a quarter of SHA-256's time (measured: 5.2 against
 * 1.6 GB/s; SHA-256 took a third of a sender's main thread serving a mixed
 * tree). A change it misses (a 2^-32 chance per changed chunk) costs one
 * chunk answer the receiver refuses and fetches again. Syncthing likewise
 * validates a served block against its 32-bit weak hash. A chunk with no
 * CRC (a file this node wrote, or one known from before a restart) is
 * hashed, on the main thread: measured, a trip to the hashing thread per
 * chunk cost the main thread as much as the hash itself (64 KiB chunks),
 * and more CPU in all.
 */
type FileStat = Pick<ScannedFile, 'size' | 'mtimeMs' | 'ino'>
/**
 * One indexing of a file: its stat then, and the chunks it was indexed with (a rebuild keeps it if both hold), with
 * their CRC-32s if the scan that found them gave them.
 */
interface Indexing extends FileStat {
  readonly chunks: ScannedFile['chunks']
  readonly checks: ScannedFile['checks']
}
/**
 * `stat` is the file's indexing it was found in (the object itself: a location of an earlier indexing of the path is
 * never read).
 */
interface ChunkLocation {
  readonly path: string
  readonly offset: number
  readonly size: number
  readonly stat: Indexing
  /** The chunk's CRC-32, if its scan gave it. */
  readonly check: number | undefined
}

/**
 * Files kept open for reads (serving a big file is many reads of one file), the least recently read closed first.
 * A file closed so is closed once the reads already using it are done: closing it under them failed them, and a
 * failed read is answered as a changed file (the peer told "changed", the file scanned again) or fetched anew.
 */
const OPEN_FILES_MAX = 16

/** An open file and the reads using it; `dropped`: no longer kept, so closed when the last of them is done. */
interface OpenFile {
  readonly handle: Promise<FsFileHandle | null>
  users: number
  dropped: boolean
}
/**
 * Chunks up to this size of a file this process read or wrote (warm: its pages are most likely cached) are read on
 * the main thread (FolderFs.readNow, fstatNow): a read from the page cache costs less there. Any other file (unchanged
 * since a scan of an earlier run, so never read since the start) and bigger chunks (files over 16 GiB) go through the
 * thread pool: a cold read took 4 ms a MiB here, up to 120, and a file on a hung mount would hold the whole daemon.
 */
const READ_NOW_MAX_BYTES = 1024 * 1024

/** Whether `bytes`, read from `loc`, are still the chunk its scan found there (its CRC-32 if known, else its hash). */
function asScanned (loc: ChunkLocation, bytes: Uint8Array, hashHex: string): boolean {
  return loc.check !== undefined ? chunkCheck(bytes) === loc.check : toHex(sha256(bytes)) === hashHex
}

export class ChunkIndex {
  readonly #root: string
  readonly #fs: FolderFs
  /** Per chunk hash, its locations by offset and path: one file may hold a chunk many times (a record of 80,000 copies
   * of one chunk cost a findIndex over them all for each: minutes of a blocked main thread). */
  readonly #where = new Map<string, Map<string, ChunkLocation>>()
  /** In order of last use: the first is the least recently read. */
  readonly #open = new Map<string, OpenFile>()
  /**
   * The stat each indexed file had when its chunks were found (its latest indexing); gone once the file is found
   * changed.
   */
  #stats = new Map<string, Indexing>()
  /** The indexings of files this process read (scanned) or wrote since their stat: read on the main thread. */
  readonly #warm = new WeakSet<Indexing>()

  readonly #onChanged: (path: string) => void

  /** `onChanged`: a file no longer holds what its scan found (it is scanned again). */
  constructor (root: string, onChanged: (path: string) => void = () => {}, fs: FolderFs = nodeFolderFs) {
    this.#root = root
    this.#onChanged = onChanged
    this.#fs = fs
  }

  /**
   * Index these files (a scan's result), and nothing else. `read`: the files the scan read; a file it found
   * unchanged stays warm if it was before (read or written by this process under the same stat).
   * A file indexed already under the same stat with the same chunks (the scan found it unchanged, or handed it over
   * while it went on: scan-records.ts) keeps that indexing and its open handle: a peer's read of it under way, or
   * about to start from a location it was given, is not turned into "changed" by the rebuild.
   */
  rebuild (files: Iterable<ScannedFile>, read: ReadonlySet<string>): void {
    const before = this.#stats
    this.#where.clear()
    this.#stats = new Map()
    for (const f of files) {
      const was = before.get(f.path)
      const same = was !== undefined && was.size === f.size && was.mtimeMs === f.mtimeMs && was.ino === f.ino
      if (same && was.chunks === f.chunks) this.#index(f.path, was)
      else this.add(f, read.has(f.path) || (same && this.#warm.has(was)))
    }
    for (const p of [...this.#open.keys()]) if (!this.#stats.has(p)) this.#forget(p)
  }

  /**
   * Index one file (just written, or just scanned). Its earlier locations stay until the next rebuild, never read
   * again. `warm`: this process just read or wrote its bytes.
   */
  add (file: Pick<ScannedFile, 'path' | 'chunks' | 'checks' | 'size' | 'mtimeMs' | 'ino'>, warm: boolean): void {
    // Only checks that go with these chunks, one each.
    const checks = file.checks?.length === file.chunks.length ? file.checks : undefined
    const stat: Indexing = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino, chunks: file.chunks, checks }
    if (warm) this.#warm.add(stat)
    this.#forget(file.path)
    this.#index(file.path, stat)
  }

  #index (p: string, stat: Indexing): void {
    this.#stats.set(p, stat)
    let offset = 0
    for (let i = 0; i < stat.chunks.length; i++) {
      const [hash, size] = stat.chunks[i] as FileChunk
      const key = toHex(hash)
      let locations = this.#where.get(key)
      if (locations === undefined) this.#where.set(key, locations = new Map())
      // An earlier indexing's location of the same place is replaced where it stood (read in the same order).
      locations.set(`${offset}/${p}`, { path: p, offset, size, stat, check: stat.checks?.[i] })
      offset += size
    }
  }

  has (hashHex: string): boolean {
    return this.#where.has(hashHex)
  }

  /**
   * The size of the chunk of this hash as this node cut it from its own bytes or wrote it (each written chunk checked
   * against its record's size), or undefined: one hash names one size.
   */
  sizeOf (hashHex: string): number | undefined {
    for (const loc of this.#where.get(hashHex)?.values() ?? []) return loc.size
    return undefined
  }

  /**
   * The chunk's bytes from a local file that is still as scanned, or null. `alloc`: where they are read into (the safe
   * writer's reused buffers), asked only once a file holds a chunk of that size.
   */
  async read (hashHex: string, size?: number, alloc?: (size: number) => Uint8Array): Promise<Uint8Array | null> {
    for (const loc of this.#where.get(hashHex)?.values() ?? []) {
      if (size !== undefined && loc.size !== size) continue
      const bytes = await this.#readRegion(loc, alloc)
      if (bytes !== null) return bytes
    }
    return null
  }

  /**
   * The chunk's bytes for a peer, checked and found right; "changed" if this
   * node indexed the chunk but no file holds it any more as scanned (each
   * such file is reported to onChanged and no longer read from); null if it
   * never held it. The bytes lie in a served buffer (blocks/served-buffers.ts): the block stream that sends them gives
   * it back once they are out.
   */
  async serve (hashHex: string): Promise<Uint8Array | 'changed' | null> {
    const locations = this.#where.get(hashHex)
    if (locations === undefined) return null
    for (const loc of locations.values()) {
      const bytes = await this.#readRegion(loc, takeServedBuffer)
      if (bytes !== null && asScanned(loc, bytes, hashHex)) return bytes
      // Seen by nothing but the check: the buffer is free again.
      if (bytes !== null) giveBackServedBuffer(bytes)
      this.#changed(loc)
    }
    return 'changed'
  }

  /** Closes the files kept open. */
  close (): void {
    for (const p of [...this.#open.keys()]) this.#forget(p)
  }

  async #readRegion (loc: ChunkLocation,
    alloc: (size: number) => Uint8Array = size => Buffer.allocUnsafe(size)): Promise<Uint8Array | null> {
    const scanned = loc.stat
    if (this.#stats.get(loc.path) !== scanned) return null
    const file = this.#use(loc.path)
    try {
      const handle = await file.handle
      if (handle === null) { this.#forget(loc.path, file); return null }
      // The open file itself, not the path: a file replaced since keeps its old inode open here, unchanged.
      const now = this.#warm.has(scanned)
      const st = (now ? this.#fs.fstatNow?.(handle.fd) : undefined) ?? await handle.stat()
      if (st.size !== scanned.size || Math.floor(st.mtimeMs) !== scanned.mtimeMs || st.ino !== scanned.ino) {
        this.#forget(loc.path, file)
        return null
      }
      const buf = alloc(loc.size)
      const bytesRead = now && this.#fs.readNow !== undefined && loc.size <= READ_NOW_MAX_BYTES
        ? this.#fs.readNow(handle.fd, buf, loc.offset)
        : (await handle.read(buf, 0, loc.size, loc.offset)).bytesRead
      return bytesRead === loc.size ? buf : null
    } catch {
      this.#forget(loc.path, file)
      return null
    } finally {
      file.users--
      if (file.dropped && file.users === 0) closeFile(file)
    }
  }

  /** The path's open file, opened if it is not, counted as used until the caller's `finally`. */
  #use (p: string): OpenFile {
    let file = this.#open.get(p)
    if (file !== undefined) {
      this.#open.delete(p) // to the end: the most recently read
    } else {
      // Gone or unreadable since the scan. Never blocking: a FIFO put in the file's place would hold a thread-pool
      // thread until a writer came (and with it the WAL syncs queued behind); its fstat refuses it. No link
      // followed (a scanned file is none): opening a device it names may act (a tape rewinds, a watchdog arms).
      const flags = C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW
      file = { handle: this.#fs.open(path.join(this.#root, p), flags).catch(() => null), users: 0, dropped: false }
    }
    this.#open.set(p, file)
    file.users++
    if (this.#open.size > OPEN_FILES_MAX) this.#forget(this.#open.keys().next().value as string)
    return file
  }

  /** The file moved on since its scan: its locations are not read again until it is indexed anew. */
  #changed (loc: ChunkLocation): void {
    if (this.#stats.get(loc.path) !== loc.stat) return // an earlier indexing, or already found changed
    this.#stats.delete(loc.path)
    this.#forget(loc.path)
    this.#onChanged(loc.path)
  }

  /** No longer keeps `p` open (only if it is still `only`, when given); closed once no read uses it. */
  #forget (p: string, only?: OpenFile): void {
    const file = this.#open.get(p)
    if (file === undefined || (only !== undefined && file !== only)) return
    this.#open.delete(p)
    file.dropped = true
    if (file.users === 0) closeFile(file)
  }
}

function closeFile (file: OpenFile): void {
  void file.handle.then(h => h?.close()).catch(() => {})
}

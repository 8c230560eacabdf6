import crypto from 'node:crypto'
import { constants } from 'node:fs'
import path from 'node:path'
import { BufferPool } from '../blocks/index.ts'
import type { ChunkBytes } from '../blocks/index.ts'
import { bytesEqual, FILE_MODE_BITS } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import { SamepageError } from '../ids/index.ts'
import { nodeFolderFs } from './folder-fs.ts'
import type { FolderFs, FsFileHandle } from './folder-fs.ts'
import { WORK_AREA } from './scanner.ts'
import { hashRanges } from './hash-pool.ts'
import { checkWorkArea, inCheckedDir, nameRefusal } from './safe-path.ts'
import type { CaseCheck } from './safe-path.ts'

/**
 * Writes one version of a file so that a partial or unverified file never
 * appears under its real name, even if the process is killed at any moment:
 * the bytes are assembled in the folder's work area
 * (`.samepage/tmp/<version id>.part`), every chunk verified against its hash
 * before it is written (the very bytes handed to write(), each write checked
 * whole), the size checked, the whole fsynced, then renamed into place (and
 * the directory fsynced). Written chunks are not read back: a read right
 * after the write comes from the page cache, not the disk, so it proved only
 * what the hash before the write and the write's byte count already prove,
 * at the cost of a second read and hash of every byte. What a crash leaves
 * is never taken as complete: the rename comes only after every write and
 * the fsync succeeded, and a part file found later is trusted region by
 * region only where its bytes, read from the disk, hash right.
 *
 * Resuming is free: the part file is named by the version, and each chunk
 * sits at a known offset, so a chunk region that already hashes right is
 * kept; only the others are asked for, first of `local` (a copy of the same
 * bytes elsewhere on this node: another file, the old version, shifted
 * data), then of `fetch` (the network).
 *
 * Every file system call goes through `fs` (node:fs unless a test gives a fake).
 */
export interface FileVersionToWrite {
  /** Hex id of the version (its entry id): names the part file. */
  readonly id: string
  readonly path: string
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly chunks: readonly FileChunk[]
}

interface ChunkSources {
  /**
   * The chunk's bytes from this node's own files, or null (checked here anyway). `alloc` gives a buffer of this
   * writer's, taken back once the chunk is written: the bytes go into it (bytes elsewhere are written as well).
   */
  readonly local?: (hash: Uint8Array, size: number, alloc: (size: number) => Uint8Array) => Promise<Uint8Array | null>
  /** The chunks that will be fetched, in the order they will be: told once, before the first fetch. */
  readonly plan?: (chunks: readonly FileChunk[]) => void
  /** The chunk's bytes from peers (the block scheduler's job), in one buffer or in the pieces they arrived in. */
  readonly fetch: (hash: Uint8Array, size: number, index: number) => Promise<ChunkBytes>
  /**
   * `fetch` hashes every chunk itself before it answers (net/'s BlockFetch does, to blame the sender): not hashed
   * twice.
   */
  readonly fetchVerifies?: boolean
  /** A fetched chunk hashed right at another size than the record says (each one found, as it is found). */
  readonly refuted?: (wrong: RecordRefuted) => void
  /** This writer is done with bytes `fetch` answered (written, or given up): told once per answer. */
  readonly done?: (bytes: ChunkBytes) => void
  /**
   * Called just before the verified file takes its real name: throws to
   * keep it out (the file there changed since it was scanned). The part file
   * stays, so a later try costs nothing.
   */
  readonly beforeRename?: () => Promise<void>
}

interface WriteReport {
  /** Chunks already right in the part file from an earlier, interrupted try. */
  readonly resumed: number
  readonly copiedLocally: number
  readonly fetched: number
  readonly bytesFetched: number
}

/** A chunk whose bytes do not match its hash: not written; the chunks before it stay in the part file. */
export class ChunkMismatchError extends SamepageError<'CHUNK_MISMATCH'> {
  readonly index: number
  readonly source: 'local' | 'fetch'
  constructor (index: number, source: 'local' | 'fetch', message: string) {
    super('CHUNK_MISMATCH', message)
    this.index = index
    this.source = source
  }
}

/**
 * The record of the version is wrong: a chunk that hashes right is another size than the record says. Its writer's
 * doing, never the peer's that served the bytes; no try of this version can succeed.
 */
export class RecordRefuted extends SamepageError<'RECORD_REFUTED'> {
  readonly hash: Uint8Array
  /** The chunk's true size: its bytes hash right at this size. */
  readonly actual: number
  constructor (index: number, hash: Uint8Array, actual: number, recorded: number) {
    const name = Buffer.from(hash).toString('hex').slice(0, 16)
    super('RECORD_REFUTED', `its record is wrong: chunk ${index} (${name}…) is ${actual} bytes; the record says ` +
      `${recorded}`)
    this.hash = hash
    this.actual = actual
  }
}

const FLUSH_EVERY_BYTES = 64 * 1024 * 1024
/** A resumed chunk is read back and hashed in windows of this (regionMatches). */
const RESUME_WINDOW_BYTES = 1024 * 1024
/**
 * Chunks of one file asked of `fetch` and not yet written, in bytes: on a disk slower than the network a file's
 * arrived chunks wait for their writes, and asked all at once they were the whole file in memory (the fetcher's window
 * bounds only what arrived before its writer asked). A slow chunk holds up only its own share.
 */
export const FETCH_AHEAD_BYTES = 16 * 1024 * 1024
/**
 * Chunks copied locally read and not yet written, in bytes of their buffers: reads go on while earlier chunks are
 * written. Each copy had a buffer of its own, and an edit of a 1 GiB file copies ~4,000 chunks of 256 KiB: the
 * collector and the kernel's fresh pages for a GiB of buffers were most of the receiver's CPU (measured).
 */
const COPY_AHEAD_BYTES = 8 * 1024 * 1024
/**
 * The free copy buffers one writer keeps (blocks/buffer-pool.ts): with those in use, about 16 MiB held, what its
 * fetches may hold (FETCH_AHEAD_BYTES), so 32 writers at once copying big files hold no more than they fetch.
 */
const COPY_FREE_BYTES = COPY_AHEAD_BYTES

/**
 * Starts a datasync every FLUSH_EVERY_BYTES written (copied locally or fetched), without waiting for it:
 * the disk writes a big file while it arrives, so the last fsync has little
 * left to do (the kernel alone would hold it all until the end).
 */
class BackgroundFlush {
  readonly #handle: FsFileHandle
  #unflushed = 0
  #running: Promise<void> | null = null

  constructor (handle: FsFileHandle) {
    this.#handle = handle
  }

  wrote (bytes: number): void {
    this.#unflushed += bytes
    if (this.#unflushed < FLUSH_EVERY_BYTES || this.#running !== null) return
    this.#unflushed = 0
    this.#running = this.#handle.datasync().catch(() => {}).finally(() => { this.#running = null })
  }

  async idle (): Promise<void> {
    await this.#running
  }
}

/**
 * What a chunk's copy buffer counts against COPY_AHEAD_BYTES: the power of two it fits in, at least 64 KiB. The pool
 * may lend a free buffer of up to twice a chunk's size, so the buffers in use stay within twice the bound at worst.
 */
function bufferBytes (size: number): number {
  let n = 64 * 1024
  while (n < size) n *= 2
  return n
}

export function partPath (folder: string, versionId: string): string {
  return path.join(folder, WORK_AREA, 'tmp', `${versionId}.part`)
}

export async function writeFileVersion (
  folder: string,
  version: FileVersionToWrite,
  sources: ChunkSources,
  fs: FolderFs = nodeFolderFs,
  /** How the directories on the way are checked for twins by case (CaseConflictError); none without it. */
  cases?: CaseCheck
): Promise<WriteReport> {
  const part = partPath(folder, version.id)
  // The work area is a real directory of the folder, never a link to elsewhere (made, and the folder, when missing).
  await checkWorkArea(fs, folder, WORK_AREA)
  const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = constants
  // Made here (O_EXCL: the common case), the part file holds nothing to look at: no stat, and (below) its size is
  // what was written. One left by an earlier try is opened as it is, to resume.
  let created = true
  const handle = await fs.open(part, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
    .catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
      created = false
      return await fs.open(part, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
    })
  const report = { resumed: 0, copiedLocally: 0, fetched: 0, bytesFetched: 0 }
  try {
    const existing = created ? 0 : (await handle.stat()).size
    const offsets: number[] = []
    const missing: number[] = []
    let offset = 0
    for (let i = 0; i < version.chunks.length; i++) {
      const [hash, size] = version.chunks[i] as FileChunk
      offsets.push(offset)
      if (offset + size <= existing && await regionMatches(handle, offset, size, hash)) report.resumed++
      else missing.push(i)
      offset += size
    }
    const flusher = new BackgroundFlush(handle)
    const sizeOf = (i: number): number => (version.chunks[i] as FileChunk)[1]
    const copied = new Set<number>()
    const local = sources.local
    if (local !== undefined) {
      const buffers = new BufferPool(COPY_FREE_BYTES)
      // In order, up to COPY_AHEAD_BYTES ahead of the writes: each buffer back in the pool once its chunk is written.
      await eachBounded(missing, i => bufferBytes(sizeOf(i)), COPY_AHEAD_BYTES, async i => {
        const [hash, size] = version.chunks[i] as FileChunk
        const taken: Uint8Array[] = []
        try {
          const bytes = await local(hash, size, n => { const b = buffers.take(n); taken.push(b); return b })
          if (bytes === null || bytes.length !== size || !sameHash(bytes, hash)) return
          await writeWhole(handle, bytes, offsets[i] as number)
          copied.add(i)
          report.copiedLocally++
          flusher.wrote(size)
        } finally {
          for (const b of taken) buffers.giveBack(b)
        }
      })
    }
    const fromNetwork = missing.filter(i => !copied.has(i))
    // Said all at once, so that the fetcher can pipeline them over many peers; each is written at its
    // offset as it arrives, in any order, so a slow peer holding one chunk holds up nothing else.
    sources.plan?.(fromNetwork.map(i => version.chunks[i] as FileChunk))
    // The first refutation found, thrown ahead of any other failure (a chunk no peer holds listed before it hid it:
    // the record was then tried, and its real chunks fetched, at every pass; a review's probe). Fetches that have not
    // started by then do not start; those in flight finish (claimed sizes bound what is in flight, and a liar's
    // claims are small), and each chunk found wrong is told to `refuted`.
    let refutation: RecordRefuted | null = null
    await eachBounded(fromNetwork, sizeOf, FETCH_AHEAD_BYTES, async i => {
      if (refutation !== null) return
      const [hash, size] = version.chunks[i] as FileChunk
      const bytes = await sources.fetch(hash, size, i)
      try {
        const name = Buffer.from(hash).toString('hex').slice(0, 16)
        // The hash first: only bytes that are the chunk can say what size it is.
        if (sources.fetchVerifies !== true && !sameHash(bytes, hash)) {
          throw new ChunkMismatchError(i, 'fetch',
            `chunk ${i} (${name}…) arrived with bytes that do not match its hash`)
        }
        // Bytes that hash right but are not the size the record says: the record is wrong (its writer's doing), the
        // peer that served them is not.
        if (lengthOf(bytes) !== size) {
          const wrong = new RecordRefuted(i, hash, lengthOf(bytes), size)
          sources.refuted?.(wrong)
          refutation ??= wrong
          throw wrong
        }
        await writeWhole(handle, bytes, offsets[i] as number)
      } finally {
        // The write settled (or never began): nothing here reads the bytes any more.
        sources.done?.(bytes)
      }
      report.fetched++
      report.bytesFetched += size
      flusher.wrote(size)
    }).catch((err: unknown) => { throw refutation ?? err })
    // A part file made here and written chunk after chunk, each write checked whole, is exactly the chunks' size.
    const sized = created && offset === version.size
    if (!sized) await handle.truncate(version.size)
    await flusher.idle()
    const written = sized ? version.size : (await handle.stat()).size
    if (written !== version.size) {
      throw new Error(`safe writer: ${version.path} is ${written} bytes after writing, not ${version.size}`)
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
  // Into the directory of its path, each directory of which was opened without following a link (decision 19).
  await inCheckedDir(fs, folder, version.path, true, async (dir, name) => {
    await sources.beforeRename?.()
    await fs.chmod(part, version.mode & FILE_MODE_BITS)
    await fs.utimes(part, new Date(version.mtimeMs), new Date(version.mtimeMs))
    await dir.recheck()
    await fs.rename(part, dir.at(name)).catch((err: unknown) => { throw nameRefusal(err, name, false) })
    await dir.sync()
  }, cases)
  return report
}

/**
 * Writes all of `bytes` at `position`, pieces with one pwritev (not copied into one buffer first): a short write (a
 * disk filling up) is continued, and one of nothing fails.
 */
async function writeWhole (handle: FsFileHandle, bytes: ChunkBytes, position: number): Promise<void> {
  if (!(bytes instanceof Uint8Array)) {
    if (bytes.length === 1) return await writeWhole(handle, bytes[0] as Uint8Array, position)
    if (handle.writev === undefined) return await writeWhole(handle, Buffer.concat(bytes), position)
    let pieces = bytes
    let at = position
    while (pieces.length > 0) {
      const { bytesWritten } = await handle.writev(pieces, at)
      if (bytesWritten <= 0) throw Object.assign(new Error('a write wrote nothing'), { code: 'EIO' })
      at += bytesWritten
      pieces = after(pieces, bytesWritten)
    }
    return
  }
  for (let done = 0; done < bytes.length;) {
    const result = await handle.write(bytes, done, bytes.length - done, position + done) as { bytesWritten?: number }
    const n = result?.bytesWritten ?? bytes.length - done
    if (n <= 0) throw Object.assign(new Error('a write wrote nothing'), { code: 'EIO' })
    done += n
  }
}

/**
 * `each` of the items in order, started as long as the sizes of those not yet settled stay within `bound` (one at
 * least). Every one settles before it returns; then the first failure, if any, is thrown.
 */
async function eachBounded (
  items: readonly number[], sizeOf: (item: number) => number, bound: number, each: (item: number) => Promise<void>
): Promise<void> {
  let open = 0
  let wake: (() => void) | null = null
  const all: Promise<void>[] = []
  for (const item of items) {
    const size = sizeOf(item)
    while (open > 0 && open + size > bound) await new Promise<void>(resolve => { wake = resolve })
    open += size
    const settled = each(item).finally(() => {
      open -= size
      const w = wake
      wake = null
      w?.()
    })
    // Its failure is read below, with the others'; not an unhandled rejection meanwhile.
    settled.catch(() => {})
    all.push(settled)
  }
  const failed = (await Promise.allSettled(all)).find(r => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}

/**
 * Whether the part file holds the chunk at `offset`, read and hashed a window at a time: the size is what a record
 * claims, never allocated whole (up to FILE_CHUNK_BYTES_MAX; a version naming more is written by no node, and one
 * claiming 768 MiB made a receiver allocate it at every pass).
 */
async function regionMatches (
  handle: FsFileHandle,
  offset: number,
  size: number,
  hash: Uint8Array
): Promise<boolean> {
  const window = Buffer.allocUnsafe(Math.min(size, RESUME_WINDOW_BYTES))
  if (size <= window.length) {
    const { bytesRead } = await handle.read(window, 0, size, offset)
    if (bytesRead !== size) return false
    const [digest] = (await hashRanges(window, [[0, size]])).digests
    return digest !== undefined && bytesEqual(digest, hash)
  }
  const h = crypto.createHash('sha256')
  for (let at = 0; at < size;) {
    const n = Math.min(window.length, size - at)
    const { bytesRead } = await handle.read(window, 0, n, offset + at)
    if (bytesRead !== n) return false
    h.update(window.subarray(0, n))
    at += n
  }
  return bytesEqual(h.digest(), hash)
}

/** The pieces past the first `n` bytes (a short write's rest). */
function after (pieces: readonly Uint8Array[], n: number): readonly Uint8Array[] {
  const rest: Uint8Array[] = []
  for (const p of pieces) {
    if (n >= p.length) { n -= p.length; continue }
    rest.push(n > 0 ? p.subarray(n) : p)
    n = 0
  }
  return rest
}

function lengthOf (bytes: ChunkBytes): number {
  if (bytes instanceof Uint8Array) return bytes.length
  let n = 0
  for (const p of bytes) n += p.length
  return n
}

function sameHash (bytes: ChunkBytes, hash: Uint8Array): boolean {
  const h = crypto.createHash('sha256')
  for (const p of bytes instanceof Uint8Array ? [bytes] : bytes) h.update(p)
  return bytesEqual(h.digest(), hash)
}

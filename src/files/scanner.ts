import path from 'node:path'
import ignore from 'ignore'
import type { Ignore } from 'ignore'
import { chunkingFor, cutPoint } from '../blocks/index.ts'
import type { ChunkerOptions } from '../blocks/index.ts'
import {
  FILE_CHUNKS_LIMIT, FILE_MODE_BITS, filePathProblem, FOLDER_WORK_AREA, localPathProblem
} from '../codec/index.ts'
import { nodeFolderFs } from './folder-fs.ts'
import type { FolderFs, FsDirent, FsStats } from './folder-fs.ts'
import { hashRanges, windowOf } from './hash-pool.ts'
import type { RangeHashes } from './hash-pool.ts'
import { fromTheSystem, refusalInWords } from './refusal-words.ts'
import type { FileChunk } from '../codec/index.ts'

/**
 * The scanner: what a shared folder holds now, as file records would say
 * it (path, size, permission bits, mtime, content-defined chunks with their
 * SHA-256). A file whose size, mtime and inode are what the previous scan
 * saw is not read again (as Syncthing does); every other regular file is
 * read once, in pieces, and chunked as it is read.
 *
 * Not shared, and said why: paths `.samepageignore` excludes (gitignore
 * syntax), the folder's own work area `.samepage/`, symbolic links and
 * special files, and names another node could not use (filePathProblem).
 *
 * Not read this time, and said why (`unread`): a file the system refused to read (EACCES, EIO...) or that changed
 * under every read, a directory it refused to list. That is a problem of the path, not of the scan: the rest of the
 * folder is scanned (as Syncthing does), and the folder keeps such a path as it knew it (unread-paths.ts).
 */
export const WORK_AREA = FOLDER_WORK_AREA
const IGNORE_FILE = '.samepageignore'
/**
 * Reads of at least 8 average chunks: a chunk that spans two reads is cut again from its start, so reads much bigger
 * than chunks keep that rare.
 */
const READ_BYTES_MIN = 1024 * 1024

export interface ScannedFile {
  /** Relative to the folder, '/'-separated. */
  readonly path: string
  readonly size: number
  /** Permission bits (0o777: setuid, setgid and sticky are never shared). */
  readonly mode: number
  readonly mtimeMs: number
  readonly ino: number
  readonly chunks: readonly FileChunk[]
  /**
   * The CRC-32 of each chunk, from the read that found them (the same bytes as the SHA-256s): what serving compares a
   * chunk read again with (chunk-index.ts). Absent where no read of this process found them (a file this node wrote,
   * or known from its saved state); serving then hashes.
   */
  readonly checks?: Uint32Array | undefined
}

/** A file's chunks and their CRC-32s, from one read of it. */
interface Chunked {
  readonly chunks: FileChunk[]
  readonly checks: Uint32Array
}

export interface ScanProblem { readonly path: string, readonly problem: string }

interface ScanResult {
  readonly files: ScannedFile[]
  /** Directories, relative, in walk order (empty ones too: they are part of the folder). */
  readonly dirs: string[]
  /** Paths not shared, and why. */
  readonly skipped: ScanProblem[]
  /** Files and directories that could not be read or listed this time, and why (nothing is known of them now). */
  readonly unread: ScanProblem[]
  /** Files read and chunked in this scan (paths); the rest were unchanged since `previous`. */
  readonly read: ReadonlySet<string>
  readonly filesRead: number
  readonly bytesRead: number
}

interface ScanOptions {
  /** The previous scan's files by path: unchanged ones keep their chunks without a read. */
  readonly previous?: ReadonlyMap<string, ScannedFile>
  /** Fixed chunk sizes (tests); by default they scale with each file's size (chunkingFor). */
  readonly chunking?: ChunkerOptions
  /** The file system the folder is on (node:fs unless a test gives a fake). */
  readonly fs?: FolderFs
  /**
   * Each file the result will list, as soon as it is scanned (in the order they finish; `read`: its bytes were read
   * in this scan): the folder records new files while the scan goes on (scan-records.ts).
   */
  readonly found?: (file: ScannedFile, read: boolean) => void
}

export async function scanFolder (root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const fs = opts.fs ?? nodeFolderFs
  const rules = await readIgnoreRules(root, fs)
  const result: { files: ScannedFile[], dirs: string[], skipped: ScanProblem[], unread: ScanProblem[],
    read: Set<string>, filesRead: number, bytesRead: number } =
    { files: [], dirs: [], skipped: [], unread: [], read: new Set(), filesRead: 0, bytesRead: 0 }
  const skip = (rel: string, problem: string): void => { result.skipped.push({ path: rel, problem }) }
  const walk = async (dirRel: string): Promise<void> => {
    const entries = await listed(fs, root, dirRel)
    if (typeof entries === 'string') { result.unread.push({ path: dirRel, problem: entries }); return }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const files: string[] = []
    for (const d of entries) {
      const rel = dirRel === '' ? d.name : `${dirRel}/${d.name}`
      if (rel === WORK_AREA) continue
      if (rules.ignores(d.isDirectory() ? `${rel}/` : rel)) { skip(rel, `ignored by ${IGNORE_FILE}`); continue }
      const problem = filePathProblem(rel) ?? localPathProblem(rel)
      if (problem !== null) { skip(rel, `its name cannot be shared: ${problem}`); continue }
      if (d.isSymbolicLink()) { skip(rel, 'a symbolic link (links are not followed or shared)'); continue }
      if (d.isDirectory()) {
        result.dirs.push(rel)
        await walk(rel)
        continue
      }
      if (!d.isFile()) { skip(rel, 'not a regular file'); continue }
      files.push(rel)
    }
    // The directory's files a few at once (a stat or a small read is mostly waiting), kept in name order.
    const scanned = await inParallel(files, SCAN_AT_ONCE, async rel => {
      const r = await scanFile(fs, root, rel, opts.previous?.get(rel), opts.chunking)
      if (r !== null && 'file' in r && r.file.chunks.length <= FILE_CHUNKS_LIMIT) opts.found?.(r.file, r.read)
      return r
    })
    scanned.forEach((r, i) => {
      const rel = files[i] as string
      if (r === null) return // gone between readdir and stat: the next scan sees the folder as it is then
      if ('unread' in r) { result.unread.push({ path: rel, problem: r.unread }); return }
      if (r.read) { result.read.add(rel); result.filesRead++; result.bytesRead += r.file.size }
      if (r.file.chunks.length > FILE_CHUNKS_LIMIT) {
        skip(rel, `too big to share: ${r.file.chunks.length} chunks, a file record lists at most ${FILE_CHUNKS_LIMIT}`)
        return
      }
      result.files.push(r.file)
    })
  }
  await walk('')
  return result
}

/** Files of one directory scanned at once. */
const SCAN_AT_ONCE = 16

async function inParallel<T, R> (items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await run(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** The folder's `.samepageignore` rules (none if it has no such file). */
export async function readIgnoreRules (root: string, fs: FolderFs = nodeFolderFs): Promise<Ignore> {
  const rules = ignore()
  try {
    rules.add(await fs.readFile(path.join(root, IGNORE_FILE), 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return rules
}

/** What a file whose content no read could take is kept as, said after why (the folder does so: unread-paths.ts). */
const KEPT = 'this node keeps it as it last knew it (no change or deletion recorded, nothing written over it)'
const CHANGING = 'not scanned: it kept changing while it was read (3 tries); it is scanned again at the next pass, ' +
  `and ${KEPT} until then`

/**
 * The entries of directory `dirRel`, or why it could not be listed: the folder itself not listed fails the scan (it
 * is the folder that cannot be read); a directory in it is one path of it. samepage's own errors fail it too.
 */
async function listed (fs: FolderFs, root: string, dirRel: string): Promise<FsDirent[] | string> {
  try {
    return await fs.readdir(path.join(root, dirRel), { withFileTypes: true })
  } catch (err) {
    if (dirRel === '' || !fromTheSystem(err as NodeJS.ErrnoException)) throw err
    const why = refusalInWords((err as NodeJS.ErrnoException).code)
    return `not listed: ${why}; until a scan lists it, this node keeps its files as it last knew them (no change or ` +
      'deletion recorded, nothing written over them)'
  }
}

/**
 * One file's record (`read`: its bytes were read); null if it is gone; `unread`: why it could not be read this time
 * (the system refused a stat or a read, or it changed under every read), which fails no more than this file.
 */
async function scanFile (
  fs: FolderFs,
  root: string,
  rel: string,
  previous: ScannedFile | undefined,
  chunking: ChunkerOptions | undefined
): Promise<{ file: ScannedFile, read: boolean } | { unread: string } | null> {
  try {
    return await readFile(fs, path.join(root, rel), rel, previous, chunking) ?? { unread: CHANGING }
  } catch (err) {
    // A refusal after a stat found it (ENOENT included: gone meanwhile) is not read, not taken as deleted.
    const e = err as NodeJS.ErrnoException
    if (!fromTheSystem(e)) throw err
    return { unread: `not scanned: ${refusalInWords(e.code)}; until a scan reads it, ${KEPT}` }
  }
}

/**
 * A file's record, read from disk unless its stat is `previous`'s; null if it is gone; undefined if it changed under
 * each of 3 reads. The stat is taken again between reads and after the last: a file that changed while it was read is
 * read again from its start (bounded), at once rather than after reading it to its end, so its chunks always match
 * one state of it.
 */
async function readFile (
  fs: FolderFs,
  abs: string,
  rel: string,
  previous: ScannedFile | undefined,
  chunking: ChunkerOptions | undefined
): Promise<{ file: ScannedFile, read: boolean } | null | undefined> {
  // Gone between readdir and a stat: the next scan sees the folder as it is then.
  const stat = async (): Promise<FsStats | null> => await fs.stat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  for (let attempt = 0; attempt < 3; attempt++) {
    const st = await stat()
    if (st === null) return null
    const mtimeMs = Math.floor(st.mtimeMs)
    const meta = { path: rel, size: st.size, mode: st.mode & FILE_MODE_BITS, mtimeMs, ino: st.ino }
    const unchanged = previous !== undefined &&
      previous.size === meta.size && previous.mtimeMs === meta.mtimeMs && previous.ino === meta.ino
    if (unchanged) {
      return { file: { ...meta, chunks: previous.chunks, checks: previous.checks }, read: false }
    }
    const same = (now: FsStats | null): boolean =>
      now !== null && now.size === st.size && now.mtimeMs === st.mtimeMs && now.ino === st.ino
    const holds = async (): Promise<boolean> => same(await fs.stat(abs).catch(() => null))
    // Read up to the stat's size, no further: the stat after the read says whether that was all of it (a file that
    // grew or shrank meanwhile is read again), so a small file costs one read, not a second one to meet its end.
    const chunked = chunking !== undefined
      ? await chunkWith(fs, abs, chunking, holds, st.size)
      : await chunkScaled(fs, abs, st.size, holds, st.size)
    const after = await stat()
    if (after === null) return null
    if (chunked !== null && same(after)) return { file: { ...meta, ...chunked }, read: true }
  }
  return undefined
}

/**
 * A file's chunks. Without fixed sizes, they scale with the file
 * (chunkingFor); in the unlikely case that a file still cuts into more
 * chunks than a file record lists even in parts, it is cut again with chunks twice as big.
 */
export async function chunkFile (
  abs: string,
  chunking?: ChunkerOptions,
  fs: FolderFs = nodeFolderFs
): Promise<FileChunk[]> {
  const chunked = chunking !== undefined
    ? await chunkWith(fs, abs, chunking, always)
    : await chunkScaled(fs, abs, (await fs.stat(abs)).size, always, undefined)
  return chunked?.chunks ?? []
}

const always = async (): Promise<boolean> => true

/** chunkFile's sizes scaled to a file whose size the caller already has; null and `upTo` as chunkWith. */
async function chunkScaled (
  fs: FolderFs, abs: string, size: number, holds: () => Promise<boolean>, upTo: number | undefined
): Promise<Chunked | null> {
  for (let tier = 0; ; tier++) {
    const chunked = await chunkWith(fs, abs, chunkingFor(size, tier), holds, upTo)
    if (chunked === null || chunked.chunks.length <= FILE_CHUNKS_LIMIT || tier >= 8) return chunked
  }
}

/**
 * The size of the windows a file is read into. Every window of a file that takes several reads has room for the
 * longest tail (a chunk cut short by the end of a read is under maxBytes) and a read, so that all are one size: the
 * hashing thread hands each back, and the next read reuses it. A file one read takes whole (`upTo`, its size from a
 * stat) gets its size rounded up to a power of two, so that spare windows fit files of about its size: with a full
 * window each, a scan of 10,000 files of 4 KiB took ~1.25 MiB outside V8's heap per file (16 read at once, 4 spares
 * kept), V8 collected for every ~64 MiB of those, and the scan took 2.7–4.4 s and 4.1–7.2 CPU-s against 0.85–1.15 s
 * and 1.0–1.5 CPU-s (measured).
 */
export function scanWindowBytes (chunking: ChunkerOptions, upTo?: number): number {
  const readBytes = readBytesFor(chunking)
  if (upTo === undefined || upTo > readBytes) return chunking.maxBytes + readBytes
  return 2 ** Math.ceil(Math.log2(Math.max(upTo, 1)))
}

/** What one read of a file asks for (READ_BYTES_MIN, or 8 of its average chunks). */
function readBytesFor (chunking: ChunkerOptions): number {
  return Math.max(READ_BYTES_MIN, 8 * chunking.avgBytes)
}

/**
 * The file's chunks; null as soon as `holds`, asked between reads, says the file changed (the rest is not read).
 * With `upTo`, reading stops there (the caller checks with a stat after that the file still has that size);
 * without, at the end of the file.
 */
async function chunkWith (
  fs: FolderFs, abs: string, chunking: ChunkerOptions, holds: () => Promise<boolean>, upTo?: number
): Promise<Chunked | null> {
  const sizes: number[] = []
  const hashes: Promise<RangeHashes>[] = []
  const handle = await fs.open(abs, 'r')
  try {
    const readBytes = readBytesFor(chunking)
    // A window is the tail of the last one and a read after it: cut here, hashed on the hashing thread
    // (the window moves there), while the next window is read and cut.
    const windowBytes = scanWindowBytes(chunking, upTo)
    let tail: Uint8Array = new Uint8Array(0)
    let left = upTo ?? Infinity
    for (let eof = false; !eof;) {
      const window = windowOf(windowBytes)
      window.set(tail, 0)
      let filled = tail.length
      const end = tail.length + readBytes
      while (filled < end) {
        if (left === 0) { eof = true; break }
        const { bytesRead } = await handle.read(window, filled, Math.min(end - filled, left), null)
        if (bytesRead === 0) { eof = true; break }
        filled += bytesRead
        left -= bytesRead
      }
      const ranges: [number, number][] = []
      let start = 0
      for (let cut = cutPoint(window, start, filled, chunking); cut >= 0;) {
        ranges.push([start, cut])
        start = cut
        cut = cutPoint(window, start, filled, chunking)
      }
      if (eof && start < filled) { ranges.push([start, filled]); start = filled }
      tail = Uint8Array.prototype.slice.call(window, start, filled)
      for (const [a, b] of ranges) sizes.push(b - a)
      hashes.push(hashRanges(window, ranges, true))
      // At most a few windows in flight: memory stays bounded whatever the file's size.
      if (hashes.length >= 3) await hashes[hashes.length - 3]
      if (!eof && !await holds()) {
        // The windows in flight come back to the pool before the file is read again.
        await Promise.allSettled(hashes)
        return null
      }
    }
  } finally {
    await handle.close()
  }
  const windows = await Promise.all(hashes)
  const digests = windows.flatMap(w => w.digests)
  const checks = new Uint32Array(digests.length)
  let at = 0
  for (const w of windows) { checks.set(w.checks, at); at += w.checks.length }
  return { chunks: digests.map((h, i) => [h, sizes[i] as number]), checks }
}

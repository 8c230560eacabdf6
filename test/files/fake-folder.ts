import crypto from 'node:crypto'
import { NoSourceError } from '../../src/blocks/index.ts'
import type { ChunkFetcher } from '../../src/blocks/index.ts'
import { toHex } from '../../src/codec/index.ts'
import { chunkFile, FolderSync } from '../../src/files/index.ts'
import type { FolderHost, FolderMode, NewVersion, RecordedFile, RecordedVersion } from '../../src/files/index.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import type { KnownFile, KnownStore } from '../../src/files/folder-state.ts'
import type { MemoryDisk } from './fake-fs.ts'

/**
 * A FolderSync with nothing real around it, for the exec-*.test.ts files:
 * its disk is a fake (fake-fs.ts), its space a map of file records
 * (MemorySpace, heads by path as the files view keeps them), its network a
 * map of chunk bytes (MemoryNetwork, which counts what it was asked), and
 * what it knows of its copy stays in memory. No libp2p, no store, no timer
 * that matters: a test calls `sync()` for each pass.
 */
export const ME = 'c'.repeat(64)
export const THEM = 'a'.repeat(64)

export class MemorySpace {
  readonly versions = new Map<string, RecordedVersion & { path: string, supersedes: string[] }>()
  #n = 0

  add (author: string, v: NewVersion): string {
    const id = crypto.createHash('sha256').update(`${author}/${this.#n++}`).digest('hex')
    const { path, size, mode, mtimeMs, deleted, chunks } = v
    this.versions.set(id, { id, author, path, size, mode, mtimeMs, deleted, chunks, supersedes: v.supersedes.map(toHex) })
    return id
  }

  files (): RecordedFile[] {
    const superseded = new Set([...this.versions.values()].flatMap(v => v.supersedes))
    const byPath = new Map<string, RecordedVersion[]>()
    for (const v of this.versions.values()) {
      if (!superseded.has(v.id)) byPath.set(v.path, [...byPath.get(v.path) ?? [], v])
    }
    return [...byPath].map(([p, heads]) => {
      const sorted = heads.sort((a, b) =>
        Number(a.deleted) - Number(b.deleted) || b.mtimeMs - a.mtimeMs || (a.id < b.id ? 1 : -1))
      return { path: p, current: sorted[0] as RecordedVersion, conflicts: sorted.slice(1) }
    })
  }

  /** The versions of `p` that another version supersedes (as the space's files view keeps them), deletions left out. */
  superseded (p: string): RecordedVersion[] {
    const superseded = new Set([...this.versions.values()].flatMap(v => v.supersedes))
    return [...this.versions.values()].filter(v => v.path === p && !v.deleted && superseded.has(v.id))
  }

  file (p: string): RecordedFile | undefined {
    return this.files().find(f => f.path === p)
  }
}

/** A fetcher of the chunks `held` holds (by hash, hex); anything else has no source. */
export function fetcherOf (held: ReadonlyMap<string, Uint8Array>, onGet: () => void = () => {}): ChunkFetcher {
  return {
    verifies: false,
    plan: () => {},
    get: async hash => {
      onGet()
      const bytes = held.get(toHex(hash))
      if (bytes === undefined) throw new NoSourceError(toHex(hash))
      return bytes
    },
    release: () => {},
    close: () => {},
    progress: () => ({ bytesReceived: 0, rateBytesPerSecond: 0, peers: [] })
  }
}

/** Chunks by hash that "peers" hold; anything else has no source. */
export class MemoryNetwork {
  readonly held = new Map<string, Uint8Array>()
  /** Chunks asked for, in all. */
  gets = 0

  fetcher (): ChunkFetcher {
    return fetcherOf(this.held, () => { this.gets++ })
  }
}

export interface FakeFolder {
  readonly sync: FolderSync
  readonly space: MemorySpace
  readonly net: MemoryNetwork
  /** The errors the folder shows, by path. */
  errors (): Record<string, string>
  /**
   * Another node's version of `p` holding `content`, recorded in the space and its chunks held by the network; its
   * chunks are cut as the scanner cuts them (on a scratch corner of the same fake disk).
   */
  theirs (p: string, content: Uint8Array | string, opts?: TheirOptions): Promise<string>
}

interface TheirOptions { readonly mtimeMs?: number, readonly mode?: number, readonly supersedes?: readonly string[] }

/**
 * A send-receive folder (or `mode`) at `root` on `fs` (`disk`'s, or a wrapper of it), started, its first pass run (so
 * no pass is due while the test lays out what comes next).
 */
export async function fakeFolder (
  disk: MemoryDisk,
  fs: FolderFs,
  root: string,
  mode: FolderMode = 'send-receive'
): Promise<FakeFolder> {
  const space = new MemorySpace()
  const net = new MemoryNetwork()
  const sync = memoryFolderSync(root, mode, space, net, fs)
  disk.vol.mkdirSync(root, { recursive: true })
  await sync.start()
  await sync.sync()
  const theirs = theirVersions(disk, space, net)
  return {
    sync,
    space,
    net,
    errors: () => Object.fromEntries(sync.status().errors.map(e => [e.path, e.error])),
    theirs
  }
}

/**
 * Records another node's versions in `space`, their chunks held by `net` (FakeFolder.theirs): cut as the scanner cuts
 * them, on a scratch corner of `disk`.
 */
export function theirVersions (
  disk: MemoryDisk, space: MemorySpace, net: MemoryNetwork
): FakeFolder['theirs'] {
  let scratch = 0
  return async (p, content, opts = {}) => {
    const bytes = Buffer.from(content)
    const file = `/scratch/${scratch++}`
    disk.put(file, bytes)
    const chunks = await chunkFile(file, undefined, disk.fs)
    let at = 0
    for (const [hash, size] of chunks) { net.held.set(toHex(hash), bytes.subarray(at, at + size)); at += size }
    return space.add(THEM, {
      path: p,
      size: bytes.length,
      mode: opts.mode ?? 0o644,
      mtimeMs: opts.mtimeMs ?? Date.UTC(2026, 0, 1),
      deleted: false,
      supersedes: (opts.supersedes ?? []).map(id => Buffer.from(id, 'hex')),
      chunks
    })
  }
}

/** What a folder knows of its copy, kept in memory (one store for the runs of a folder that restarts). */
export function memoryKnownStore (): KnownStore {
  let known = new Map<string, KnownFile>()
  let olderCopies: string[] = []
  return {
    load: () => ({ known: new Map(known), olderCopies: [...olderCopies] }),
    save: (k, o) => { known = new Map(k); olderCopies = [...o] }
  }
}

/** A FolderSync at `root` whose space, network and known files are in memory; no watcher, no rescan that matters. */
export function memoryFolderSync (
  root: string, mode: FolderMode, space: MemorySpace, net: MemoryNetwork, fs?: FolderFs,
  knownStore: KnownStore = memoryKnownStore()
): FolderSync {
  const host: FolderHost = {
    files: () => space.files(),
    record: versions => versions.map(v => space.add(ME, v)),
    fetcher: () => net.fetcher(),
    superseded: (p, size, mode) => space.superseded(p).filter(v => v.size === size && v.mode === mode),
    author: ME
  }
  return new FolderSync({
    root,
    mode,
    stateFile: '(in memory)',
    knownStore,
    host,
    ...fs === undefined ? {} : { fs },
    watch: false,
    rescanMs: 3_600_000
  })
}

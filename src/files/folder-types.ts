import type { ChunkFetcher, PeerTransfer } from '../blocks/index.ts'
import type { FileBody, FileChunk } from '../codec/index.ts'
import type { FolderFs } from './folder-fs.ts'
import type { KnownStore } from './folder-state.ts'
import type { ScanProblem, ScannedFile } from './scanner.ts'

/**
 * The words a shared folder is described in, shared by the planner
 * (plan.ts, pure) and the executor (folder.ts and its helpers, which do the
 * I/O): the modes, the versions the space records, what the folder needs of
 * its node (FolderHost), and the status it shows.
 */
export type FolderMode = 'send-receive' | 'send-only' | 'receive-only'
export const FOLDER_MODES: readonly FolderMode[] = ['send-receive', 'send-only', 'receive-only']

/** A version as the space's files view gives it. */
export interface RecordedVersion {
  readonly id: string
  readonly author: string
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly deleted: boolean
  readonly chunks: readonly FileChunk[]
  /** Why its chunk list cannot be read yet (a big file's part not held): it is not written, and waits. */
  readonly problem?: string | undefined
}
export interface RecordedFile {
  readonly path: string
  readonly current: RecordedVersion
  readonly conflicts: readonly RecordedVersion[]
}
export type NewVersion = Omit<FileBody, 't'>

/** What the folder needs of its node: the space's file records, and the network. */
export interface FolderHost {
  files (): readonly RecordedFile[]
  /**
   * Appends file records to the space in one commit; returns their entry ids (hex). Throws if this node may not write.
   */
  record (versions: readonly NewVersion[]): string[]
  fetcher (): ChunkFetcher
  /**
   * Whether the space's store holds version `id`, valid or not. What this node knew of its copy names versions its
   * store had; one the store lacks (a store put back from a backup) proves nothing about the file: it is forgotten.
   */
  holds? (id: string): boolean
  /**
   * The versions of `path` that later ones superseded, of that size and mode, newest first (a bounded number looked
   * at): a file this node knows nothing of that holds one is that old version, not a change made here.
   */
  superseded? (path: string, size: number, mode: number): readonly RecordedVersion[]
  /** This node's key (hex) in the space: names the conflict copy of a change made here that is not recorded. */
  readonly author?: string
}

export interface FolderOptions {
  readonly root: string
  readonly mode: FolderMode
  /** Where this node keeps what it knows of its copy (outside the folder). */
  readonly stateFile: string
  readonly host: FolderHost
  /** Watch the folder for changes (default true); a rescan runs every rescanMs anyway. */
  readonly watch?: boolean
  readonly rescanMs?: number
  /** Free bytes a write must leave on the folder's disk (disk-reserve.ts; default from the disk's size). */
  readonly diskReserveBytes?: number
  /** The file system the folder is on: node:fs by default; tests give a fake one (test/files/fake-fs.ts). */
  readonly fs?: FolderFs
  /** Where what this node knows of its copy is kept: by default the JSON file `stateFile`. */
  readonly knownStore?: KnownStore
}

interface FolderError { readonly path: string, readonly error: string }

export interface FolderStatus {
  readonly root: string
  readonly mode: FolderMode
  readonly state: 'starting' | 'scanning' | 'syncing' | 'idle' | 'stopped'
  readonly localFiles: number
  readonly localBytes: number
  /** Files (and conflict copies) this node still has to write, and their bytes. */
  readonly needFiles: number
  readonly needBytes: number
  /** Chunk bytes received from peers in the current (or last) pass, and the rate now. */
  readonly bytesReceived: number
  readonly rateBytesPerSecond: number
  /** The peers of the current (or last) transfer, fastest first as the scheduler sees them. */
  readonly peers: readonly PeerTransfer[]
  readonly etaSeconds: number | null
  readonly conflicts: number
  readonly errors: readonly FolderError[]
  readonly skipped: readonly ScanProblem[]
  /** Receive-only: the paths whose file this node changed or deleted, not sent (the folder is not in sync). */
  readonly localChanges: LocalChanges
  readonly lastSyncedMs: number | null
  /** What went through the folder since it started here (the daemon's start, or its `folder add`): only rises. */
  readonly totals: FolderTotals
}

/** A receive-only folder's own changes: how many paths, and the first LOCAL_CHANGES_LISTED of them by path. */
export interface LocalChanges {
  readonly count: number
  readonly paths: readonly LocalChange[]
}
export interface LocalChange { readonly path: string, readonly change: 'changed' | 'deleted' }

/**
 * Files in: written from peers' versions (conflict copies included); files out: versions recorded from changes in the
 * folder (new, changed, deleted); bytes in: chunk bytes fetched from peers; bytes out: chunk bytes served to them.
 */
export interface FolderTotals {
  readonly filesIn: number
  readonly filesOut: number
  readonly bytesIn: number
  readonly bytesOut: number
}

export interface VersionSummary {
  readonly id: string
  readonly author: string
  readonly mtimeMs: number
  readonly size: number
}

export interface ConflictInfo {
  readonly path: string
  /** The version under the name. */
  readonly current: VersionSummary
  /** Concurrent versions still unresolved in the space (each becomes a conflict copy). */
  readonly versions: readonly (VersionSummary & { readonly copy: string })[]
  /** Conflict copies of this path on disk. */
  readonly copies: readonly string[]
}

/**
 * One file to write: a version, where it goes, what must be there now (null: nothing), whether it is a conflict copy.
 */
export interface WriteJob {
  readonly version: RecordedVersion
  readonly path: string
  readonly expect: ScannedFile | null
  readonly copy: boolean
}

import crypto from 'node:crypto'
import type { FileChunk } from '../../src/codec/index.ts'
import type { KnownFile } from '../../src/files/folder-state.ts'
import type { RecordedFile, RecordedVersion } from '../../src/files/folder-types.ts'
import type { FolderView } from '../../src/files/plan.ts'
import type { ScannedFile } from '../../src/files/scanner.ts'

/**
 * Plain data for the planner's tests (plan-*.test.ts): files on "disk",
 * what the node knows, and the space's records, built from short strings.
 * No file system, no network, no clock: a folder is a few maps.
 */
export const T0 = Date.UTC(2026, 11, 1, 12, 0, 0)

/** One chunk per content: its hash and length. */
export function chunksOf (content: string): FileChunk[] {
  if (content === '') return []
  return [[crypto.createHash('sha256').update(content).digest(), Buffer.byteLength(content)]]
}

/** A file on disk holding `content`; a changed stat (mtime, inode) makes it another file to the planner. */
interface StatOptions { mtimeMs?: number, ino?: number, mode?: number }

export function onDisk (path: string, content: string, stat: StatOptions = {}): ScannedFile {
  const size = Buffer.byteLength(content)
  const chunks = chunksOf(content)
  return { path, size, mode: stat.mode ?? 0o644, mtimeMs: stat.mtimeMs ?? T0, ino: stat.ino ?? 1, chunks }
}

/** What the node knows: the file on disk is the version `id`. */
export function knownAs (file: ScannedFile, id: string): KnownFile {
  return { ...file, id }
}

/** A recorded version of `content` (id: 64 hex digits from `tag`). */
interface VersionOptions { author?: string, mtimeMs?: number, deleted?: boolean, mode?: number }

export function version (tag: string, content: string, opts: VersionOptions = {}): RecordedVersion {
  const deleted = opts.deleted ?? false
  return {
    id: idOf(tag),
    author: opts.author ?? 'a'.repeat(64),
    size: deleted ? 0 : Buffer.byteLength(content),
    mode: opts.mode ?? 0o644,
    mtimeMs: opts.mtimeMs ?? T0,
    deleted,
    chunks: deleted ? [] : chunksOf(content)
  }
}

export function idOf (tag: string): string {
  return crypto.createHash('sha256').update(tag).digest('hex')
}

export function recorded (path: string, current: RecordedVersion, ...conflicts: RecordedVersion[]): RecordedFile {
  return { path, current, conflicts }
}

/** A folder as the planner sees it. */
export function folder (parts: { disk?: ScannedFile[], known?: KnownFile[], records?: RecordedFile[] }): FolderView {
  return {
    scanned: new Map((parts.disk ?? []).map(f => [f.path, f])),
    known: new Map((parts.known ?? []).map(k => [k.path, k])),
    views: new Map((parts.records ?? []).map(r => [r.path, r]))
  }
}

export const noIgnores = (): boolean => false

export const hex = (ids: readonly Uint8Array[]): string[] => ids.map(id => Buffer.from(id).toString('hex')).sort()

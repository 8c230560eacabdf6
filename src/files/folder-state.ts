import fs from 'node:fs'
import path from 'node:path'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'
import { fromHex, toHex } from '../codec/index.ts'
import { FolderProblem } from './folder-errors.ts'
import type { ScannedFile } from './scanner.ts'

/**
 * What this node knows of its own copy of a folder: for each file on disk,
 * the version (entry id) it is, and the stat it had then. A file whose stat
 * is still that one is unchanged since it was synced; any other is a local
 * change, to be recorded as a version that supersedes the known one. The
 * chunks are kept too, so a restart does not read every file again.
 *
 * Saved as one JSON file beside the node's store, replaced atomically.
 */
export interface KnownFile extends Omit<ScannedFile, 'chunks'> {
  readonly id: string
  readonly chunks: ScannedFile['chunks']
}

/**
 * Where the known files are kept between runs: by default the JSON file
 * below (FolderOptions.stateFile); a test may keep them in memory.
 */
export interface KnownStore {
  load (): FolderState
  save (known: ReadonlyMap<string, KnownFile>, olderCopies: readonly string[]): void
}

/** The known files, and the paths the older-copy rule still applies to (unread-paths.ts OlderCopyPaths). */
interface FolderState {
  readonly known: Map<string, KnownFile>
  readonly olderCopies: string[]
}

type SavedFile = [
  path: string, id: string, size: number, mode: number, mtimeMs: number, ino: number, chunks: [string, number][]
]
interface SavedFolderState { v: 1, files: SavedFile[], olderCopies?: string[] }

export function loadFolderState (file: string): FolderState {
  const text = readTextOr(file, null)
  if (text === null) return { known: new Map(), olderCopies: [] }
  const saved = parsedOrNull(text)
  if (saved === null || saved.v !== 1 || !Array.isArray(saved.files)) {
    const fix = 'move it away to rescan the folder from scratch'
    throw new FolderProblem(`${file} is not a samepage folder state (v1); ${fix}`)
  }
  const olderCopies = Array.isArray(saved.olderCopies) ? saved.olderCopies.filter(p => typeof p === 'string') : []
  const known = new Map(saved.files.map(([p, id, size, mode, mtimeMs, ino, chunks]) => [p, {
    path: p,
    id,
    size,
    mode,
    mtimeMs,
    ino,
    chunks: chunks.map(([h, n]) => [fromHex(h), n] as const)
  }]))
  return { known, olderCopies }
}

export function saveFolderState (
  file: string, known: ReadonlyMap<string, KnownFile>, olderCopies: readonly string[]
): void {
  const saved: SavedFolderState = {
    v: 1,
    files: [...known.values()].map(k => [
      k.path, k.id, k.size, k.mode, k.mtimeMs, k.ino, k.chunks.map(([h, n]) => [toHex(h), n])
    ]),
    ...olderCopies.length === 0 ? {} : { olderCopies: [...olderCopies] }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writeFileAtomic(file, JSON.stringify(saved))
}

/** The file's JSON, or null when it is not JSON at all (cut short, or overwritten by something else). */
function parsedOrNull (text: string): SavedFolderState | null {
  try {
    return JSON.parse(text) as SavedFolderState
  } catch {
    return null
  }
}

/**
 * What this node knew of its copy, less the files whose version its space's store lacks (`holds` false). Each file
 * known names the version it was when last synced, and the store held that version then; one it lacks now was lost
 * with the store (put back from a backup taken before): the file is no longer taken as unchanged since its sync, so
 * the pass records it as this node's change (a conflict where another version holds the name) instead of writing the
 * store's older version over it. Before, a file edited after the backup was overwritten on every node (a probe).
 */
export function knownHeld (
  known: Map<string, KnownFile>, holds: ((id: string) => boolean) | undefined
): Map<string, KnownFile> {
  if (holds === undefined) return known
  for (const [p, k] of known) if (!holds(k.id)) known.delete(p)
  return known
}

/**
 * files/: folder sync on the local side: what a shared folder holds (the
 * scanner, the watcher), where each chunk sits (the chunk index), writing a
 * version into it safely (the safe writer), and the passes that turn local
 * changes into records and records into files. A pass is planned by pure
 * functions (plan.ts, per mode plan-modes.ts: no fs, no clock) and executed
 * by FolderSync (folder.ts) and its parts: write-jobs.ts (the writers and
 * the fetch plan), set-aside.ts (renames), delete-file.ts, conflict-list.ts.
 * The other decisions it needs (chunk boundaries, which block from whom,
 * which version wins) live in blocks/ and space/; chunks come through
 * blocks/'s ChunkFetcher contract, which net/ implements. The executor
 * reaches the disk only through FolderFs (folder-fs.ts): node:fs in
 * production, a fake in memory in the exec-*.test.ts tests.
 *
 * Imports blocks/ and codec/; never net/, node/, api/ or cli/.
 */
export { scanFolder, chunkFile } from './scanner.ts'
export type { ScannedFile } from './scanner.ts'
export { writeFileVersion, partPath, ChunkMismatchError, FETCH_AHEAD_BYTES } from './safe-writer.ts'
export type { FileVersionToWrite } from './safe-writer.ts'
export { ChunkIndex } from './chunk-index.ts'
export { conflictCopyPath } from './conflict-name.ts'
export { FolderSync } from './folder.ts'
export { KeepRefused } from './keep-version.ts'
export type { KeepOutcome } from './keep-version.ts'
export { FolderProblem, checkFolder } from './folder-errors.ts'
export { FOLDER_MODES } from './folder-types.ts'
export type { FolderMode, FolderHost, FolderStatus, ConflictInfo } from './folder-types.ts'
export type { RecordedFile, RecordedVersion, NewVersion } from './folder-types.ts'

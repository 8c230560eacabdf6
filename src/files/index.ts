/**
 * files/: folder sync on the local side: what a shared folder holds (the
 * scanner) and writing a version into it safely (the safe writer); the
 * watcher and the chunk index come next.
 * Does I/O; the decisions it needs (chunk boundaries, which block from
 * whom, which version wins) live in blocks/ and space/.
 *
 * Imports blocks/ and codec/; never net/, node/, api/ or cli/.
 */
export { scanFolder, chunkFile, WORK_AREA, IGNORE_FILE } from './scanner.ts'
export type { ScannedFile, ScanProblem, ScanResult, ScanOptions } from './scanner.ts'
export { writeFileVersion, partPath, ChunkMismatchError } from './safe-writer.ts'
export type { FileVersionToWrite, ChunkSources, WriteReport } from './safe-writer.ts'

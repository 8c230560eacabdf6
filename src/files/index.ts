/**
 * files/: folder sync on the local side: what a shared folder holds (the
 * scanner), and later the watcher, the chunk index and the safe writer.
 * Does I/O; the decisions it needs (chunk boundaries, which block from
 * whom, which version wins) live in blocks/ and space/.
 *
 * Imports blocks/ and codec/; never net/, node/, api/ or cli/.
 */
export { scanFolder, chunkFile, WORK_AREA, IGNORE_FILE } from './scanner.ts'
export type { ScannedFile, ScanProblem, ScanResult, ScanOptions } from './scanner.ts'

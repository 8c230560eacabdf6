/**
 * atomic-file/: the one way the node writes its own small files (keys,
 * tokens, JSON state: identity.key, api.json, deployment.json, peers.json,
 * folders.json, folder states) and the one way it reads them back, with a
 * default when the file is missing.
 *
 * Next to the bottom of the layers: imports nothing of the project, so
 * identity/ may use it. It does I/O, so it is not among the pure folders.
 */
export { writeFileAtomic, readFileOr, readTextOr, PRIVATE_FILE_MODE } from './atomic-file.ts'
export type { AtomicFileIo } from './atomic-file.ts'

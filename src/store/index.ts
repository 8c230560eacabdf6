/**
 * store/: the one place that touches the embedded database (node:sqlite),
 * plus an in-memory store with the same contract for tests and the simulator.
 * Imports codec/ and ids/ only; space/ is its only caller.
 */
export type * from './types.ts'
export { MemoryStore } from './memory-store.ts'
export { SqliteStore } from './sqlite-store.ts'
export { storageTrouble } from './storage-error.ts'
export { ownerOnly } from './sqlite-file.ts'

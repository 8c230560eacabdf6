/**
 * blocks/: content-addressed blocks (chunks of files): where a file is cut
 * into chunks (content-defined, so edits move few of them), and which chunk
 * to ask of which peer, and when; the contract of a pass's chunk downloads
 * (ChunkFetcher, NoSourceError) that files/ uses and net/ implements. Pure logic like sync/: no I/O, no clock,
 * no timers; files/ and net/ drive it.
 *
 * Imports nothing of the project but codec/.
 */
export { BlockScheduler } from './scheduler.ts'
export { BufferPool } from './buffer-pool.ts'
export { dropFreeServedBuffers, giveBackServedBuffer, isServedBuffer, takeServedBuffer } from './served-buffers.ts'
export { NoSourceError } from './fetcher.ts'
export type { ChunkBytes, ChunkFetcher, FetchProgress, PeerTransfer } from './fetcher.ts'
export { Chunker, chunk, cutPoint, chunkingFor, CHUNKING, AVG_BYTES_MAX } from './chunker.ts'
export type { ChunkerOptions } from './chunker.ts'
export type { BlockRef, SchedulerOptions, SchedulerAction, SchedulerProgress } from './scheduler.ts'

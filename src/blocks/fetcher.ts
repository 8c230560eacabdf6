import type { FileChunk } from '../codec/index.ts'
import { SamepageError } from '../ids/index.ts'

/**
 * The contract between a folder's writers (files/) and the chunk downloads
 * of one pass (net/'s BlockFetch): writers plan the chunks they will need,
 * get each, and release what they no longer will take. It lives here, below
 * both, so that files/ depends on the contract and not on net/, and net/
 * implements it without knowing files/.
 */
export interface ChunkFetcher {
  /** get() answers only bytes it has hashed and found right. */
  readonly verifies: boolean
  plan (chunks: readonly FileChunk[]): void
  /** The chunk's bytes; rejects with NoSourceError when no connected peer has it now. */
  get (hash: Uint8Array, size: number): Promise<Uint8Array>
  /** The same, as the pieces the bytes arrived in (not copied into one buffer), for a writer that writes pieces. */
  getPieces?: (hash: Uint8Array, size: number) => Promise<ChunkBytes>
  /**
   * The writer is done with bytes get() or getPieces() answered (written, or given up): nothing of it reads them any
   * more, and the fetcher may read other chunks into their memory. Once per answer, and only then; an answer never
   * said done is left to the collector.
   */
  done?: (bytes: ChunkBytes) => void
  release (chunks: readonly FileChunk[]): void
  close (): void
  progress (): FetchProgress
}

/** A chunk's bytes: one buffer, or the pieces they arrived in, in order. */
export type ChunkBytes = Uint8Array | readonly Uint8Array[]

export interface FetchProgress {
  readonly bytesReceived: number
  readonly rateBytesPerSecond: number
  readonly peers: readonly PeerTransfer[]
}

/** One peer in a transfer: its measured rate, requests in flight, what it delivered. */
export interface PeerTransfer {
  readonly peer: string
  readonly rateBytesPerSecond: number | null
  readonly inFlight: number
  readonly bytesReceived: number
}

/**
 * No connected peer has the chunk now (all refused, or none is connected):
 * not a failure of the file, which waits for the next pass. Writers tell it
 * from other errors by `instanceof` (or its `code`), never by its message.
 */
export class NoSourceError extends SamepageError<'NO_SOURCE'> {
  constructor (hash: string) {
    super('NO_SOURCE', `no connected peer has chunk ${hash.slice(0, 16)}… now`)
  }
}

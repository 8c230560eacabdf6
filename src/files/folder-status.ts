import type { FetchProgress } from '../blocks/index.ts'
import type { FolderMode, FolderStatus, FolderTotals, LocalChange } from './folder-types.ts'
import type { ScannedFiles } from './pass-state.ts'
import type { ScanProblem } from './scanner.ts'

/** What a folder's status is made of, as FolderSync holds it now. */
interface StatusParts {
  readonly root: string
  readonly mode: FolderMode
  readonly phase: FolderStatus['state']
  readonly scanned: ScannedFiles
  readonly need: { readonly files: number, readonly bytes: number }
  /** The transfer under way (`fetching`), or the last one. */
  readonly fetched: FetchProgress
  readonly fetching: boolean
  readonly conflicts: number
  readonly errors: ReadonlyMap<string, string>
  readonly skipped: readonly ScanProblem[]
  readonly localChanges: readonly LocalChange[]
  readonly lastSyncedMs: number | null
  /** Of the passes ended: the transfer under way adds its bytes. */
  readonly totals: FolderTotals
}

/** Receive-only changes listed in a status (all are counted): the status is asked every half second while syncing. */
const LOCAL_CHANGES_LISTED = 100

/** A folder's status (FolderSync.status()). */
export function folderStatus (s: StatusParts): FolderStatus {
  const { fetched, need } = s
  const rate = s.phase === 'syncing' ? fetched.rateBytesPerSecond : 0
  return {
    root: s.root,
    mode: s.mode,
    state: s.phase,
    localFiles: s.scanned.size,
    localBytes: s.scanned.bytes,
    needFiles: need.files,
    needBytes: need.bytes,
    bytesReceived: fetched.bytesReceived,
    rateBytesPerSecond: rate,
    peers: fetched.peers.map(p => ({
      peer: p.peer,
      rateBytesPerSecond: p.rateBytesPerSecond,
      inFlight: p.inFlight,
      bytesReceived: p.bytesReceived
    })),
    etaSeconds: need.bytes === 0 ? 0 : rate > 0 ? Math.ceil(need.bytes / rate) : null,
    conflicts: s.conflicts,
    errors: [...s.errors].map(([p, error]) => ({ path: p, error })),
    skipped: s.skipped,
    localChanges: { count: s.localChanges.length, paths: s.localChanges.slice(0, LOCAL_CHANGES_LISTED) },
    lastSyncedMs: s.lastSyncedMs,
    totals: { ...s.totals, bytesIn: s.totals.bytesIn + (s.fetching ? fetched.bytesReceived : 0) }
  }
}

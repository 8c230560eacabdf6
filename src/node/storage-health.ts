import path from 'node:path'
import { writeFileAtomic } from '../atomic-file/index.ts'
import { storageTrouble } from '../store/index.ts'
import type { AlertReport } from '../telemetry/index.ts'
import { NodeError } from './errors.ts'

/**
 * Whether this node's own store can be written (decision 19: the daemon
 * survives a full disk and says so). A write that fails for want of room
 * (SQLITE_FULL, ENOSPC) or because the disk refuses it is an error of that
 * operation; the last such failure shows as an alert in `samepage status`
 * until a later write succeeds. Background writers (status records,
 * entries from peers) report here instead of throwing out of a timer.
 */
export class StorageHealth {
  readonly #dir: string
  /** The last failure of each kind of write, until that kind succeeds again (want of room: until any write does). */
  readonly #failures = new Map<string, { detail: string, sinceMs: number, full: boolean }>()

  constructor (dir: string) {
    this.#dir = dir
  }

  /** Records `err` if it is storage trouble (true), else leaves it to the caller (false). */
  failed (operation: string, err: unknown, nowMs: number): boolean {
    const kind = storageTrouble(err)
    if (kind === null) return false
    const sinceMs = this.#failures.get(operation)?.sinceMs ?? nowMs
    this.#failures.set(operation, { detail: (err as Error).message, sinceMs, full: kind === 'full' })
    return true
  }

  /**
   * `operation` succeeded: its failure is over; so is one of storing what peers sent (they send it again, and it is
   * retried), and every failure for want of room: room is the store's, not one operation's (a node that writes
   * nothing of its own would otherwise report a full disk for as long as it runs).
   */
  ok (operation: string): void {
    this.#failures.delete(operation)
    this.#failures.delete(PEER_OPERATION)
    for (const [other, f] of this.#failures) if (f.full) this.#failures.delete(other)
  }

  alerts (): AlertReport[] {
    return [...this.#failures].map(([operation, f]) => ({
      kind: 'disk-full' as const,
      subject: path.join(this.#dir, 'store.db'),
      detail: `writes to this node's store fail (${operation}: ${f.detail}); ` +
        'nothing half-written, tried again later; free some space on this disk',
      sinceMs: f.sinceMs
    }))
  }
}

/** Entries and records from peers that could not be stored. */
export const PEER_OPERATION = 'storing what a peer sent'

/** A failed write to the store as the user's error, with a stable code; null if `err` is not storage trouble. */
export function storageUserError (err: unknown): NodeError | null {
  const kind = storageTrouble(err)
  if (kind === null) return null
  const message = (err as Error).message
  if (kind === 'full') {
    const detail = `this node's disk is full (${message}); nothing was written; free some space and try again`
    return new NodeError('STORAGE_FULL', detail, { cause: err })
  }
  const detail = `this node's store could not be written (${message}); nothing was written; ` +
    'check the disk and try again'
  return new NodeError('STORAGE_FAILED', detail, { cause: err })
}

/**
 * Saves one of the node's files in its data directory (folders.json, deployment.json, space-names.json, …), whole or
 * not at all (atomic-file/). A disk that refuses it is the user's error, STORAGE_FULL or STORAGE_FAILED, naming the
 * file and what to do, never INTERNAL. Callers save before they change anything else (or undo what they started),
 * so a refused save leaves the command without effect and it can simply be run again.
 */
export function saveNodeFile (file: string, text: string): void {
  try {
    writeFileAtomic(file, text)
  } catch (err) {
    const kind = storageTrouble(err)
    if (kind === null) throw err
    const dir = path.dirname(file)
    const why = `${file} could not be saved (${(err as Error).message}); nothing changed`
    throw kind === 'full'
      ? new NodeError('STORAGE_FULL', `this node's disk is full: ${why}; free some space in ${dir}, ` +
        'then run the command again', { cause: err })
      : new NodeError('STORAGE_FAILED', `${why}; check the disk under ${dir}, then run the command again`,
        { cause: err })
  }
}

/** Whether `err` is the user's error for a disk that refused a write (not a refusal of what the command asked). */
export function storageRefused (err: unknown): boolean {
  return err instanceof NodeError && (err.code === 'STORAGE_FULL' || err.code === 'STORAGE_FAILED')
}

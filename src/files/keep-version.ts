import { SamepageError } from '../ids/index.ts'
import { deleteFile, unchangedSinceScan } from './delete-file.ts'
import type { NewVersion, RecordedFile, WriteJob } from './folder-types.ts'
import { adopt } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import { planKeep } from './plan-keep.ts'
import type { KeepRefusalCode } from './plan-keep.ts'

/**
 * Executes a user's resolution of a conflict (plan-keep.ts decides it):
 * records first, so the decision holds even if the disk then refuses (the
 * next pass writes the kept version and deletes the copies like any
 * record's), then writes the kept content under the name and removes the
 * copies here. FolderSync runs it between passes, never during one.
 */
export class KeepRefused extends SamepageError<KeepRefusalCode | 'RECEIVE_ONLY' | 'NOT_WRITTEN'> {}

export interface KeepOutcome {
  readonly path: string
  /** The new record of the path (hex), or null when it needed none (one head with the kept content already). */
  readonly recorded: string | null
  /** The conflict copies removed here (their deletions are recorded, so every node removes them). */
  readonly removed: readonly string[]
}

interface KeepHost {
  readonly state: PassState
  readonly nowMs: number
  views (): Map<string, RecordedFile>
  /** Appends the versions in one commit (throws, recording nothing, if this node may not). */
  record (versions: readonly NewVersion[]): string[]
  write (jobs: WriteJob[]): Promise<void>
}

export async function keepVersion (host: KeepHost, p: string, keep: string): Promise<KeepOutcome> {
  const { state } = host
  const plan = planKeep({ scanned: state.scanned, known: state.known, views: host.views() }, p, keep, host.nowMs)
  if ('refused' in plan) throw new KeepRefused(plan.refused, plan.message)
  // The plan read the last scan; a copy edited since (a merge by hand, the usual way to settle a conflict) would be
  // recorded with its old bytes, or removed with the edit in it.
  for (const f of new Set([p, ...plan.kept === null ? [] : [plan.kept.path], ...plan.remove])) {
    if (!await unchangedSinceScan(state, f)) {
      throw new KeepRefused('NOT_ON_DISK', `${f} was changed since the last scan; wait for the sync, then choose again`)
    }
  }
  const ids = plan.records.length === 0 ? [] : host.record(plan.records)
  const recorded = plan.recordsPath ? ids[0] ?? null : null
  const local = state.scanned.get(p)
  if (plan.write) {
    const version = host.views().get(p)?.current
    if (version !== undefined) await host.write([{ version, path: p, expect: local ?? null, copy: false }])
    const error = state.errors.get(p)
    if (error !== undefined) {
      throw new KeepRefused('NOT_WRITTEN', `the choice is recorded, but ${p} could not be written here yet ` +
        `(${error}); the folder tries again, and removes the copies once it is`)
    }
  } else if (recorded !== null && local !== undefined) {
    adopt(state, local, recorded)
  }
  const removed: string[] = []
  const left: string[] = []
  for (const c of plan.remove) {
    // Checked again as it goes: the write above may have given the user time to edit it.
    const copy = state.scanned.get(c)
    if (copy !== undefined && await deleteFile(state, copy)) removed.push(c); else left.push(c)
  }
  if (left.length > 0) {
    const why = left.map(c => `${c}: ${state.errors.get(c) ?? 'not on disk as scanned'}`).join('; ')
    throw new KeepRefused('NOT_WRITTEN', `the choice is recorded, but copies stayed here (${why})`)
  }
  return { path: p, recorded, removed }
}

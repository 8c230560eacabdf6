import type { FolderMode } from './folder-types.ts'

/**
 * What each folder mode does in a pass, in one table (as Syncthing keeps one
 * file per folder type): the planner and the executor ask these rules, never
 * the mode's name.
 */
export interface ModeRules {
  /** Changes on disk become records (step 1 of a pass). */
  readonly recordsLocalChanges: boolean
  /** Records become files on disk (step 2). */
  readonly appliesRecords: boolean
  /** A change on disk not yet on record is never overwritten (it is recorded first). */
  readonly keepsLocalChanges: boolean
  /** Once every losing version has its copy here, a record superseding them all ends the conflict. */
  readonly resolvesConflicts: boolean
  /**
   * A change on disk that is not recorded is listed in the status, and kept as a copy here before a new version
   * replaces it (plan-receive-only.ts).
   */
  readonly reportsLocalChanges: boolean
}

export const MODE_RULES: Readonly<Record<FolderMode, ModeRules>> = {
  'send-receive': {
    recordsLocalChanges: true, appliesRecords: true, keepsLocalChanges: true, resolvesConflicts: true,
    reportsLocalChanges: false
  },
  // Sends what changes here; writes nothing it receives.
  'send-only': {
    recordsLocalChanges: true, appliesRecords: false, keepsLocalChanges: true, resolvesConflicts: false,
    reportsLocalChanges: false
  },
  // Applies the space's versions; a change made here is never recorded: it is listed until the next version of its
  // path, which it gives way to as a copy kept here (or until `folder revert`), as in Syncthing's receive-only folders.
  'receive-only': {
    recordsLocalChanges: false, appliesRecords: true, keepsLocalChanges: false, resolvesConflicts: false,
    reportsLocalChanges: true
  }
}

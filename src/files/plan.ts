import { conflictCopyPath } from './conflict-name.ts'
import { shadowedPaths } from './file-layout.ts'
import type { KnownFile } from './folder-state.ts'
import type { LocalChange, NewVersion, RecordedFile, WriteJob } from './folder-types.ts'
import type { ModeRules } from './plan-modes.ts'
import type { ScannedFile } from './scanner.ts'
import { heldVersion, localChange, realConflicts, sameContent, sameStat, whyKept } from './versions.ts'
import type { SupersededLookup } from './versions.ts'

/**
 * The folder planner: every decision of a pass, as pure functions of plain
 * data (what this node knows of its copy, the scan, the space's records,
 * the mode's rules, the ignore rules and the time), returning what to do:
 * records to write, files to fetch and write, copies, renames, deletions and
 * resolutions. No file system, no clock, no timers: FolderSync (folder.ts)
 * executes the plans and feeds the outcome into the next one, and the tests
 * (test/files/plan-*.test.ts) run them on plain data.
 *
 * A pass is planned in steps, because each step's outcome is the next one's
 * input (a record just written is a view; a copy just written is on disk):
 *   1. planLocalChanges: changes on disk become records;
 *   2. planSetAsideRenames (receive-only: planReceiverAsides too), then planRemoteChanges: records become files;
 *   3. planReplace, per file, after the conflict copies are written;
 *   4. planResolutions and planSetAsideEnds, after the writes and deletions.
 */

/** What a pass knows of the folder: updated by the executor as it acts. */
export interface FolderView {
  /** The files on disk as the last scan (and the writes since) saw them. */
  readonly scanned: ReadonlyMap<string, ScannedFile>
  /** What this node knows of its copy: the version each file on disk is. */
  readonly known: ReadonlyMap<string, KnownFile>
  /** The space's records by path (never a path in the work area). */
  readonly views: ReadonlyMap<string, RecordedFile>
  /** The versions each path's records superseded (only for a file this node knows nothing of: heldVersion). */
  readonly superseded?: SupersededLookup | undefined
}

/** What step 1 reads of a FolderView: records only by path (they may be decoded when first asked). */
interface LocalView {
  readonly known: FolderView['known']
  readonly views: Pick<FolderView['views'], 'get'>
  readonly superseded?: FolderView['superseded']
}

/** A file found to hold a recorded version: this node now knows it as that version. */
export interface Adoption { readonly file: ScannedFile, readonly id: string }

interface LocalPlan {
  readonly adopt: readonly Adoption[]
  /** Known files gone from disk: no longer known (whether or not a deletion is recorded). */
  readonly forget: readonly string[]
  /** New versions to record, in order; `file` is the file on disk each one is (null for a deletion). */
  readonly records: readonly { readonly version: NewVersion, readonly file: ScannedFile | null }[]
}

/**
 * Step 1: what changed on disk since this node last synced each file. A
 * file whose stat differs from the known one (or, if it was read again
 * because its bytes moved on under the same stat, whose content differs) is
 * a new version, unless it holds the current version already; a known file
 * gone is a deletion, unless it is only no longer shared (ignored or
 * unusable: `notShared`) or the record is a deletion already. A path the
 * scan could not read (`unread`: a file, or under a directory not listed)
 * is neither: it stays known as it was (unread-paths.ts).
 */
export function planLocalChanges (at: LocalView & { readonly scanned: FolderView['scanned'] }, input: {
  readonly reread: ReadonlySet<string>
  readonly notShared: readonly string[]
  readonly unread?: (path: string) => boolean
  readonly nowMs: number
}): LocalPlan {
  const unread = input.unread ?? (() => false)
  const { adopt, records } = planFileChanges(readOnes(at.scanned.values(), unread), at, input.reread)
  const forget: string[] = []
  for (const [p, known] of at.known) {
    if (at.scanned.has(p) || unread(p)) continue
    forget.push(p)
    // Ignored or unusable now: no longer shared from here, but not deleted anywhere else.
    // Compared in NFC: a file saved again under its NFD spelling (a Mac's tools) is skipped by the scan as not NFC,
    // and its known NFC path was taken as deleted, everywhere (a review's probe).
    if (input.notShared.some(s => { const n = s.normalize('NFC'); return p === n || p.startsWith(`${n}/`) })) continue
    const v = at.views.get(p)
    if (v === undefined || v.current.deleted) continue
    const version = { path: p, size: 0, mode: known.mode, mtimeMs: input.nowMs, deleted: true, chunks: [] }
    records.push({ file: null, version: { ...version, supersedes: supersedes(known, v) } })
  }
  return { adopt, forget, records }
}

/**
 * Step 1 for some of the scanned files only (planLocalChanges' first half): the new versions among `files`, and the
 * files that hold the current version already. No deletion: that needs the whole scan. It looks a path's records up
 * only for a file that changed (`views` may decode them when first asked: a rescan that finds nothing new asks none).
 * The scan hands its files over in batches (scan-records.ts), so that records go out before it ends.
 */
export function planFileChanges (
  files: Iterable<ScannedFile>,
  at: LocalView,
  reread: ReadonlySet<string>
): { adopt: Adoption[], records: { version: NewVersion, file: ScannedFile | null }[] } {
  const adopt: Adoption[] = []
  const records: { version: NewVersion, file: ScannedFile | null }[] = []
  for (const f of files) {
    const known = at.known.get(f.path)
    if (known !== undefined && sameStat(known, f) && (!reread.has(f.path) || sameContent(known, f))) continue
    const v = at.views.get(f.path)
    if (v !== undefined && !v.current.deleted && sameContent(v.current, f)) {
      adopt.push({ file: f, id: v.current.id })
      continue
    }
    const old = known === undefined && v !== undefined ? heldVersion(at.superseded, f) : undefined
    if (old !== undefined) {
      adopt.push({ file: f, id: old })
      continue
    }
    const version = { path: f.path, size: f.size, mode: f.mode, mtimeMs: f.mtimeMs, deleted: false, chunks: f.chunks }
    records.push({ file: f, version: { ...version, supersedes: supersedes(known, v) } })
  }
  return { adopt, records }
}

/** The files but those under an unread path. */
function * readOnes (files: Iterable<ScannedFile>, unread: (path: string) => boolean): Iterable<ScannedFile> {
  for (const f of files) if (!unread(f.path)) yield f
}

/** A file this node holds unchanged, renamed to the conflict copy of the version it is (no byte fetched). */
export interface Rename { readonly from: string, readonly to: string, readonly file: ScannedFile }

/**
 * Step 2a: for each path set aside (file-layout.ts: records make it a
 * directory), this node's own unchanged copy of one of its versions is
 * renamed to that version's conflict copy. Done before planRemoteChanges,
 * which then sees the renamed file where the copy goes.
 */
export function planSetAsideRenames (at: FolderView, ignores: (path: string) => boolean): Rename[] {
  const renames: Rename[] = []
  for (const p of shadowedPaths(at.views.values())) {
    const v = at.views.get(p) as RecordedFile
    if (ignores(p)) continue
    const local = at.scanned.get(p)
    const known = at.known.get(p)
    if (local === undefined || known === undefined || !sameStat(known, local)) continue
    for (const h of [v.current, ...realConflicts(v)]) {
      const to = conflictCopyPath(p, h)
      if (at.scanned.has(to) || !sameContent(h, local)) continue
      renames.push({ from: p, to, file: local })
      break
    }
  }
  return renames
}

export interface RemotePlan {
  /** Files and conflict copies to write, in the order of the records (free space is counted in this order). */
  readonly jobs: readonly WriteJob[]
  readonly adopt: readonly Adoption[]
  /** Files to delete: each is the version this node knows, unchanged, and its record is a deletion. */
  readonly deletions: readonly string[]
  /** Paths in conflict: resolved by planResolutions once their copies are written (send-receive). */
  readonly resolutions: readonly RecordedFile[]
  /** Paths set aside this pass: ended by planSetAsideEnds once every copy is here (send-receive). */
  readonly setAside: readonly RecordedFile[]
  /** Set-aside paths where a file still is (it is not written over), or null where none is (any old error goes). */
  readonly setAsideErrors: readonly { readonly path: string, readonly error: string | null }[]
  /** Receive-only: the paths this node changed or deleted, in path order (listed, neither written over nor sent). */
  readonly localChanges: readonly LocalChange[]
}

const SET_ASIDE_BLOCKED = 'not written: a file is here on this node where other records make a directory; ' +
  'it is set aside as a conflict copy once its content is recorded'

/**
 * Step 2b: the current version of every path onto disk, and a conflict copy
 * for each concurrent version that lost; what this node ignores it neither
 * sends nor receives (as Syncthing). A path whose file already holds the
 * current version is adopted, not written. With `receiver` (receive-only), a
 * change made here is listed in `localChanges` instead (a deletion is
 * written again if `revert`).
 */
export function planRemoteChanges (
  at: FolderView, ignores: (path: string) => boolean, receiver?: { readonly revert: boolean }
): RemotePlan {
  const jobs: WriteJob[] = []
  const adopt: Adoption[] = []
  const deletions: string[] = []
  const resolutions: RecordedFile[] = []
  const setAside: RecordedFile[] = []
  const setAsideErrors: { path: string, error: string | null }[] = []
  const localChanges: LocalChange[] = []
  const shadowed = shadowedPaths(at.views.values())
  for (const v of at.views.values()) {
    if (ignores(v.path)) continue
    const local = at.scanned.get(v.path)
    if (shadowed.has(v.path)) {
      for (const h of [v.current, ...realConflicts(v)]) {
        const copyPath = conflictCopyPath(v.path, h)
        const there = at.scanned.get(copyPath)
        if (there !== undefined && sameContent(h, there)) continue
        // This node's own copy of it: planSetAsideRenames moves it (or said why it could not).
        const known = at.known.get(v.path)
        const ownCopy = local !== undefined && known !== undefined && sameStat(known, local) && sameContent(h, local)
        if (there === undefined && ownCopy) continue
        jobs.push({ version: h, path: copyPath, expect: there ?? null, copy: true })
      }
      setAsideErrors.push({ path: v.path, error: local === undefined ? null : SET_ASIDE_BLOCKED })
      setAside.push(v)
      continue
    }
    const known = at.known.get(v.path)
    const losers = realConflicts(v)
    for (const c of losers) {
      const copyPath = conflictCopyPath(v.path, c)
      const there = at.scanned.get(copyPath)
      if (there !== undefined && sameContent(c, there)) continue
      jobs.push({ version: c, path: copyPath, expect: there ?? null, copy: true })
    }
    if (losers.length > 0) resolutions.push(v)
    // Receive-only: a change here stays, listed, until it is set aside (plan-receive-only.ts); a deletion until the
    // user reverts (then the current version is written again below).
    const change = receiver === undefined ? null : localChange(v, local, known)
    if (change === 'changed' || (change === 'deleted' && receiver?.revert !== true)) {
      localChanges.push({ path: v.path, change })
      continue
    }
    if (v.current.deleted) {
      if (local !== undefined && known !== undefined && sameStat(known, local)) deletions.push(v.path)
      continue
    }
    if (known?.id === v.current.id && local !== undefined) continue
    if (local !== undefined && sameContent(v.current, local)) {
      adopt.push({ file: local, id: v.current.id })
      continue
    }
    jobs.push({ version: v.current, path: v.path, expect: local ?? null, copy: false })
  }
  return { jobs, adopt, deletions, resolutions, setAside, setAsideErrors, localChanges }
}

/** What to do with a file job once the conflict copies are written. */
type Replace =
  | { readonly action: 'write' }
  | { readonly action: 'adopt', readonly file: ScannedFile }
  | { readonly action: 'wait', readonly why: string }

/**
 * Step 3: whether a file job still replaces what is on disk (versions.ts,
 * whyKept): a path a copy just filled with this very content is adopted; a
 * file holding a change not on record, or the only copy of a losing
 * version, waits.
 */
export function planReplace (at: FolderView, job: WriteJob, rules: ModeRules): Replace {
  const now = at.scanned.get(job.path)
  if (now !== undefined && now !== job.expect && sameContent(job.version, now)) return { action: 'adopt', file: now }
  const v = at.views.get(job.path)
  const known = at.known.get(job.path)
  const why = job.expect === null || v === undefined
    ? null
    : whyKept(v, job.expect, known, at.scanned, rules.keepsLocalChanges)
  return why === null ? { action: 'write' } : { action: 'wait', why }
}

/** The error a waiting file shows: after the reason its record was refused, if it was. */
export function waitingError (previous: string | undefined, why: string): string {
  return `${previous?.startsWith('not shared:') === true ? `${previous}; ` : 'waiting: '}${why}`
}

/**
 * Step 4: once the winner is under the name and every loser has its copy,
 * a version superseding them all (with the winner's content) ends the
 * conflict. Nodes doing this at once write the same content: versions with
 * the same content are not a conflict. Each is recorded on its own; `file`
 * is the file on disk the new record is (adopted), if any.
 */
export function planResolutions (at: FolderView, candidates: readonly RecordedFile[]): {
  readonly version: NewVersion
  readonly file: ScannedFile | undefined
}[] {
  const out: { version: NewVersion, file: ScannedFile | undefined }[] = []
  for (const v of candidates) {
    const onDisk = at.scanned.get(v.path)
    const ready = v.current.deleted ? onDisk === undefined : at.known.get(v.path)?.id === v.current.id
    if (!ready || realConflicts(v).some(c => at.scanned.get(conflictCopyPath(v.path, c)) === undefined)) continue
    const c = v.current
    const heads = [v.current, ...v.conflicts].map(x => Buffer.from(x.id, 'hex'))
    const version = { path: v.path, size: c.size, mode: c.mode, mtimeMs: c.mtimeMs, deleted: c.deleted }
    out.push({ version: { ...version, supersedes: heads, chunks: c.chunks }, file: onDisk })
  }
  return out
}

/**
 * Step 4, set-aside paths: once every version has its copy here and no file
 * is under the name, a deletion superseding them all ends it everywhere.
 */
export function planSetAsideEnds (at: FolderView, setAside: readonly RecordedFile[]): NewVersion[] {
  const out: NewVersion[] = []
  for (const v of setAside) {
    if (at.scanned.has(v.path)) continue
    const copied = [v.current, ...realConflicts(v)].every(h => {
      const there = at.scanned.get(conflictCopyPath(v.path, h))
      return there !== undefined && sameContent(h, there)
    })
    if (!copied) continue
    const heads = [v.current, ...v.conflicts].map(x => Buffer.from(x.id, 'hex'))
    const { mode, mtimeMs } = v.current
    out.push({ path: v.path, size: 0, mode, mtimeMs, deleted: true, supersedes: heads, chunks: [] })
  }
  return out
}

/**
 * The versions a new record replaces: the one this node had, and any other
 * head with the same content (the same version, recorded twice).
 */
function supersedes (known: KnownFile | undefined, v: RecordedFile | undefined): Uint8Array[] {
  if (known === undefined) return []
  const ids = new Set([known.id])
  for (const h of v === undefined ? [] : [v.current, ...v.conflicts]) {
    if (!h.deleted && sameContent(h, known)) ids.add(h.id)
  }
  return [...ids].map(id => Buffer.from(id, 'hex'))
}

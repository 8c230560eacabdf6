import path from 'node:path'
import type { ChunkFetcher } from '../blocks/index.ts'
import { toHex } from '../codec/index.ts'
import type { FileChunk } from '../codec/index.ts'
import { hasCode, SamepageError } from '../ids/index.ts'
import { diskReserveBytes } from './disk-reserve.ts'
import { describeWriteError, fsError } from './folder-errors.ts'
import type { FsStats } from './folder-fs.ts'
import type { WriteJob } from './folder-types.ts'
import { adopt, lastingError, learnSize } from './pass-state.ts'
import type { PassState } from './pass-state.ts'
import { planReplace, waitingError } from './plan.ts'
import type { FolderView, RemotePlan } from './plan.ts'
import type { ModeRules } from './plan-modes.ts'
import { stillAsScanned, statOf } from './versions.ts'
import { partPath, RecordRefuted, writeFileVersion } from './safe-writer.ts'
import { CaseCheck, CaseConflictError, foldedName, inCheckedDir, linkInPath, sameNameThere } from './safe-path.ts'
import { NameRefusedError } from './safe-path.ts'
import { NameCheck } from './name-check.ts'
import type { ScannedFile } from './scanner.ts'
import { newDirectories } from './path-sets.ts'

/**
 * The writers of a pass: the jobs the planner made (files and conflict
 * copies) written by the safe writer, WRITERS at once, their chunks copied
 * from local files where the index has them and fetched through one
 * ChunkFetcher otherwise. Each outcome goes into the pass state: a written
 * file is scanned, indexed and (unless a copy) adopted; a failure is the
 * path's error.
 */

/**
 * Files written at once: many small files are bound by file system round trips (open, write, fsync, rename), not bytes.
 */
const WRITERS = 32
/** File system probes at once before a pass writes (dropHopeless). */
const PROBES = 16
/** What a directory takes on disk, at least, on ext4, XFS and most file systems (its first block). */
const DIRECTORY_BYTES = 4096

/**
 * Jobs that cannot succeed now are not started, so that a retry does not
 * fetch a file again only to fail again: a version that cannot be read yet,
 * a link or a directory where the file goes, a name this disk cannot hold,
 * or less free space than the files need (counted in the jobs' order).
 * Returns the jobs to start.
 */
export async function dropHopeless (
  state: PassState,
  jobs: readonly WriteJob[],
  reserveBytes?: number,
  deleting: readonly string[] = []
): Promise<WriteJob[]> {
  let free = Infinity
  let reserve = 0
  try {
    const st = await state.fs.statfs(state.root)
    free = st.bavail * st.bsize
    reserve = diskReserveBytes(st.blocks * st.bsize, reserveBytes)
  } catch {
    // No statfs here: the writes find out.
  }
  const probes = await probeTargets(state, jobs)
  const kept: WriteJob[] = []
  // The directories a job may make count too, each once a pass: records of empty files at deep paths made a receiver
  // create 32,739 directories (128 MiB) that no free-space check counted (a review's probe).
  const dirs = newDirectories(jobs.map(j => j.path))
  const clash = state.caseInsensitive === true ? caseClashes(state, jobs, deleting) : null
  const onDisk = new CaseCheck(true)
  for (const [k, job] of jobs.entries()) {
    const { there, link, named } = probes[k] as TargetProbe
    const size = job.version.size + DIRECTORY_BYTES * (dirs[k] as number)
    let error: string | null = null
    // Each is lasting: only new records, or a change on disk (a rescan, the watcher), lift it.
    const lasting = job.version.problem !== undefined
      ? `waiting: ${job.version.problem}`
      : refutedHere(state, job) ?? named ?? clash?.get(k) ??
        (clash === null ? null : await caseClashOnDisk(state, job.path, onDisk))
    if (lasting !== null) {
      lastingError(state, job.path, lasting)
      continue
    }
    if (link !== null) error = `not written: ${link}`
    else if (there?.isDirectory() === true) error = describeWriteError(fsError('EISDIR'))
    else if (size > free) error = `${describeWriteError(fsError('ENOSPC'))}: it needs ${size} bytes, ${free} are free`
    else if (free - size < reserve) {
      error = `not written: it would leave less than the ${reserve} bytes kept free for this node's store ` +
        `(it needs ${size} bytes, ${free} are free); ` +
        'free some space, or lower diskReserveBytes in config.json (it is tried again)'
    }
    if (error === null) { free -= size; kept.push(job); continue }
    state.errors.set(job.path, error)
  }
  return kept
}

/**
 * Why the version's record is wrong by what this node knows, or null: a chunk it names at another size than the
 * chunk of that hash has here, cut or written by this node or fetched before (found so, its bytes were fetched at
 * every pass, 5 s apart, only to be refused).
 */
function refutedHere (state: PassState, job: WriteJob): string | null {
  for (const [i, [hash, size]] of job.version.chunks.entries()) {
    const hex = toHex(hash)
    const here = state.index.sizeOf(hex) ?? state.sizesLearned.get(hex)
    if (here !== undefined && here !== size) return `not written: ${new RecordRefuted(i, hash, here, size).message}`
  }
  return null
}

/**
 * On a folder that ignores case: why each job whose path differs only in case from a file on disk or from an earlier
 * job's path is not written (the first one keeps the name), by the job's index. Only whole paths are compared here,
 * before any fetch; a directory on the way held in another case is refused by the write itself (safe-path.ts).
 */
function caseClashes (state: PassState, jobs: readonly WriteJob[], deleting: readonly string[]): Map<number, string> {
  const held = new Map<string, string>()
  // A file this pass deletes holds no name (a member's case-only rename: the old name goes, the new one comes).
  const gone = new Set(deleting)
  for (const p of state.scanned.keys()) if (!gone.has(p)) held.set(foldedName(p), p)
  const out = new Map<number, string>()
  for (const [k, job] of jobs.entries()) {
    const folded = foldedName(job.path)
    const other = held.get(folded)
    if (other === undefined) held.set(folded, job.path)
    else if (other !== job.path) out.set(k, `not written: ${new CaseConflictError(job.path, other).message}`)
  }
  return out
}

/**
 * On a folder that ignores case, why `rel` cannot be written as things are on disk (a directory on its way, or its
 * name, held in another case), or null: looked at before the fetch, which a clash found only by the write wasted at
 * every pass (a review's probe). Nothing is made; a directory not there yet clashes with nothing.
 */
async function caseClashOnDisk (state: PassState, rel: string, cases: CaseCheck): Promise<string | null> {
  try {
    await inCheckedDir(state.fs, state.root, rel, false, async () => {}, cases)
    return null
  } catch (err) {
    return err instanceof CaseConflictError ? `not written: ${err.message}` : null
  }
}

/** `named`: why this disk cannot hold a name of the path (name-check.ts), or null. */
interface TargetProbe { readonly there: FsStats | null, readonly link: string | null, readonly named: string | null }

/**
 * What is at each job's path, whether a directory of it is a link, and whether this disk holds its names, PROBES at
 * once (a pass of 10,000 small files spent 0.8 s on these one at a time, between the plan and the first write): each
 * directory is looked at once for all the jobs under it, not once per job. Its listing says which paths hold
 * something: only those are lstat'ed (a new file's lstat was a failed call and an error object made, per file).
 */
async function probeTargets (state: PassState, jobs: readonly WriteJob[]): Promise<TargetProbe[]> {
  const dirs = new Map<string, Promise<string | null>>()
  const listings = new Map<string, Promise<Set<string> | null>>()
  const namesIn = async (dir: string): Promise<Set<string> | null> => {
    let names = listings.get(dir)
    if (names === undefined) {
      names = listedNames(state, path.join(state.root, dir))
      listings.set(dir, names)
    }
    return await names
  }
  // Where the directory cannot be listed, each path is lstat'ed.
  const lstatIfListed = async (rel: string): Promise<FsStats | null> => {
    const names = await namesIn(path.posix.dirname(rel))
    if (names !== null && !names.has(path.posix.basename(rel))) return null
    return await state.fs.lstat(path.join(state.root, rel)).catch(() => null)
  }
  const linkIn = async (rel: string): Promise<string | null> => {
    const dir = path.posix.dirname(rel)
    if (dir === '.') return null
    let found = dirs.get(dir)
    if (found === undefined) {
      found = linkInPath(state.fs, state.root, rel) // the same answer for every file of `dir`
      dirs.set(dir, found)
    }
    return await found
  }
  const names = new NameCheck(state)
  const out: TargetProbe[] = new Array(jobs.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++
      const job = jobs[k] as WriteJob
      const [there, link, named] = await Promise.all([lstatIfListed(job.path), linkIn(job.path),
        names.refusal(job.path)])
      out[k] = { there, link, named }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PROBES, jobs.length) }, worker))
  return out
}

/**
 * After the copies: whether a file job still replaces what is on disk (the planner decides; the path shows a wait).
 */
export function stillToReplace (state: PassState, job: WriteJob, view: FolderView, rules: ModeRules): boolean {
  const replace = planReplace(view, job, rules)
  if (replace.action === 'adopt') adopt(state, replace.file, job.version.id)
  if (replace.action === 'wait') state.errors.set(job.path, waitingError(state.errors.get(job.path), replace.why))
  return replace.action === 'write'
}

/** Writes the jobs through `fetch`; `done` after each job (written or failed); stops starting jobs once `stopped()`. */
export async function writeJobs (state: PassState, jobs: readonly WriteJob[], fetch: ChunkFetcher, hooks: {
  readonly stopped: () => boolean
  readonly done: (job: WriteJob) => void
}): Promise<void> {
  // Every chunk the pass will fetch, planned at once (not file by file as writers start), so that
  // many small files pipeline as well as one big one. Writers correct the plan for what they find locally.
  // A job with a part file from an earlier try plans for itself, after it has seen what the part holds.
  const resuming = await partFilesOf(state, jobs)
  const expected = jobs.map((j, k) => resuming[k] === true
    ? []
    : j.version.chunks.filter(c => !state.index.has(toHex(c[0]))))
  fetch.plan(expected.flat())
  let next = 0
  // Jobs whose paths differ only in case never run at once: in a directory that ignores case the second would
  // replace the first at its rename; one after the other, the second finds the first there (sameNameThere).
  const running = new Map<string, Promise<void>>()
  const cases = new CaseCheck(state.caseInsensitive === true)
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !hooks.stopped()) {
      const k = next++
      const job = jobs[k] as WriteJob
      const key = foldedName(job.path)
      while (running.has(key)) await running.get(key)
      const written = writeJob(state, job, fetch, expected[k] as FileChunk[], cases)
      running.set(key, written)
      await written
      running.delete(key)
      hooks.done(job)
    }
  }
  await Promise.all(Array.from({ length: Math.min(WRITERS, jobs.length) }, worker))
  // Jobs never started (the folder stopped): their share of the plan goes.
  for (let k = next; k < jobs.length; k++) fetch.release(expected[k] as FileChunk[])
}

/**
 * Which jobs have a part file from an earlier try: one listing of the work area, not a stat per job (each of which
 * fails, for a file fetched for the first time); a stat per job only if the work area cannot be listed.
 */
async function partFilesOf (state: PassState, jobs: readonly WriteJob[]): Promise<boolean[]> {
  const parts = jobs.map(j => partPath(state.root, j.version.id))
  const dir = path.dirname(partPath(state.root, 'x'))
  const names = await listedNames(state, dir)
  if (names === null) {
    return await Promise.all(parts.map(async p => await state.fs.lstat(p).then(() => true, () => false)))
  }
  return parts.map(p => path.dirname(p) === dir && names.has(path.basename(p)))
}

/**
 * Part files of versions this pass no longer wants written (superseded, deleted, or a path now ignored) are removed:
 * kept for a resume that never comes, they held their room for good (a writer's record of 1,500 chunks the receiver
 * copied locally, then superseded, left 96 MiB in the work area; a review's probe). A part of a wanted version stays,
 * written or failed: its job is in the plan.
 */
export async function forgetStale (
  state: PassState, plan: Pick<RemotePlan, 'jobs' | 'deletions' | 'setAsideErrors'>, renamed: readonly string[]
): Promise<void> {
  const dir = path.dirname(partPath(state.root, 'x'))
  const wanted = new Set(plan.jobs.map(j => path.basename(partPath(state.root, j.version.id))))
  for (const name of await listedNames(state, dir) ?? []) {
    if (!name.endsWith('.part') || wanted.has(name)) continue
    await state.fs.rm(path.join(dir, name), { force: true }).catch(() => {})
  }
  // So too a write's error on a path nothing is to be written to, deleted at or renamed from any more (its version
  // superseded): it stayed in the folder's status, and an error held the folder to a pass every RETRY_MS, for good.
  const current = new Set([...plan.jobs.map(j => j.path), ...plan.deletions, ...renamed,
    ...plan.setAsideErrors.map(e => e.path)])
  for (const [p, error] of [...state.errors]) {
    if (p !== '.' && !current.has(p) && /^(waiting|not written):/.test(error)) state.errors.delete(p)
  }
}

/** The names in directory `dir`: none when it is not there (or not a directory), null when it cannot be listed. */
async function listedNames (state: PassState, dir: string): Promise<Set<string> | null> {
  try {
    return new Set((await state.fs.readdir(dir, { withFileTypes: true })).map(e => e.name))
  } catch (err) {
    return ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '') ? new Set() : null
  }
}

async function writeJob (
  state: PassState,
  job: WriteJob,
  fetch: ChunkFetcher,
  expected: readonly FileChunk[],
  cases: CaseCheck
): Promise<void> {
  const { version } = job
  const target = path.join(state.root, job.path)
  // What this writer holds in the fetcher's plan and has not taken yet.
  let outstanding = new ChunkBag(expected)
  const { id, size, mode, mtimeMs, chunks } = version
  const toWrite = { id, path: job.path, size, mode, mtimeMs, chunks }
  try {
    await writeFileVersion(state.root, toWrite, {
      local: async (hash, size, alloc) => await state.index.read(toHex(hash), size, alloc),
      plan: chunks => {
        // The plan made for it, corrected for what it found locally or in its part file.
        const planned = new ChunkBag(expected)
        fetch.plan(chunks.filter(c => !planned.take(c[0])))
        fetch.release(planned.rest())
        outstanding = new ChunkBag(chunks)
      },
      fetch: async (hash, size) => {
        const bytes = await (fetch.getPieces !== undefined ? fetch.getPieces(hash, size) : fetch.get(hash, size))
        outstanding.take(hash)
        return bytes
      },
      fetchVerifies: fetch.verifies,
      refuted: wrong => { learnSize(state, toHex(wrong.hash), wrong.actual) },
      done: bytes => { fetch.done?.(bytes) },
      beforeRename: async () => {
        const now = await state.fs.lstat(target).catch(() => null)
        if (now?.isDirectory() === true) {
          throw Object.assign(new Error(`${job.path} is a directory here`), { code: 'EISDIR' })
        }
        if (stillAsScanned(job.expect ?? undefined, now)) return
        // What answered may be a file of another name, in a directory that ignores case (CaseConflictError).
        if (now !== null) await sameNameThere(state.fs, state.root, job.path)
        throw new Error('it changed on this node while the new version was fetched; ' +
          'the local change is recorded next, as a conflict')
      }
    }, state.fs, cases)
    state.errors.delete(job.path)
    const written: ScannedFile = { ...statOf(job.path, await state.fs.stat(target)), chunks: version.chunks }
    state.scanned.set(job.path, written)
    state.index.add(written, true)
    if (!job.copy) adopt(state, written, version.id)
  } catch (err) {
    fetch.release(outstanding.rest())
    if (err instanceof NameRefusedError) {
      // Not asked before the fetch (or the work area's disk is not this directory's): now every name is asked. The
      // part file stays while the version is wanted (forgetStale): a later try fetches nothing again.
      lastingError(state, job.path, `not written: ${err.message}`)
      state.probeEveryName = true
      return
    }
    if (err instanceof RecordRefuted || err instanceof CaseConflictError) {
      lastingError(state, job.path, `not written: ${err.message}`)
      await state.fs.rm(partPath(state.root, version.id), { force: true }).catch(() => {})
      return
    }
    state.errors.set(job.path, describeWriteError(err as NodeJS.ErrnoException))
    // A file system's refusal (full, a clash of names, permissions): the part file goes, to leave the room it took.
    // A transfer cut short (no peer has a chunk now, or the link broke) keeps it, for the resume.
    if (refusedByFileSystem(err)) {
      await state.fs.rm(partPath(state.root, version.id), { force: true }).catch(() => {})
    }
  }
}

/**
 * The file system said no (an errno code, or a link in the path), as opposed to a transfer cut short: a
 * NoSourceError or a chunk that did not match carries a code too, but keeps the part file for the resume.
 */
function refusedByFileSystem (err: unknown): boolean {
  if (err instanceof SamepageError) return hasCode(err, 'ELINKINPATH')
  return typeof (err as NodeJS.ErrnoException).code === 'string'
}


/** Chunks counted by hash (the same chunk may be in a file more than once). */
class ChunkBag {
  readonly #byHash = new Map<string, FileChunk[]>()

  constructor (chunks: readonly FileChunk[]) {
    for (const c of chunks) {
      const k = toHex(c[0])
      const list = this.#byHash.get(k)
      if (list === undefined) this.#byHash.set(k, [c]); else list.push(c)
    }
  }

  /** Takes one chunk of this hash out, if there is one left. */
  take (hash: Uint8Array): boolean {
    return this.#byHash.get(toHex(hash))?.pop() !== undefined
  }

  rest (): FileChunk[] {
    return [...this.#byHash.values()].flat()
  }
}

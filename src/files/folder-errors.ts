import { constants } from 'node:fs'
import path from 'node:path'
import { NoSourceError } from '../blocks/index.ts'
import { SamepageError } from '../ids/index.ts'
import { nodeFolderFs } from './folder-fs.ts'
import type { FolderFs } from './folder-fs.ts'
import { fromTheSystem, refusalInWords } from './refusal-words.ts'
import { WORK_AREA } from './scanner.ts'

/**
 * What a path shows when writing it failed (`failed`: or deleting it): the file system's refusal in words, or a wait
 * for a source. samepage's own errors say what they say; the system's are put in words (refusal-words.ts), never as
 * Node's message, which names the /proc/self/fd path or the work area's part file the call was made on.
 */
export function describeWriteError (err: NodeJS.ErrnoException, failed = 'not written'): string {
  switch (err.code) {
    case 'ENOSPC': return `${failed}: the disk is full; free some space (nothing was half-written; it is tried again)`
    case 'EDQUOT': return `${failed}: over the disk quota; free some space`
    case 'ENOTDIR': return `${failed}: a part of its path is a file on this node, not a directory`
    case 'EISDIR': return `${failed}: a directory has its name on this node`
    case 'ENAMETOOLONG': return `${failed}: its name is too long for this file system`
    case 'EACCES': case 'EPERM': case 'EROFS':
      return `${failed}: no permission here (${err.code}); check the folder's permissions`
    default:
      if (err instanceof NoSourceError) return `waiting: ${err.message}`
      return `${failed}: ${fromTheSystem(err) ? refusalInWords(err.code) : err.message}`
  }
}

/**
 * Why a pass failed as a whole (the folder, or its .samepageignore, the scan cannot read), for the folder's status:
 * samepage's own errors as they are; the system's in words, with the folder's path it is about, if it is one.
 */
export function describePassError (err: unknown, root: string): string {
  const e = err as NodeJS.ErrnoException
  if (!(err instanceof Error) || !fromTheSystem(e)) return err instanceof Error ? err.message : String(err)
  const rel = typeof e.path === 'string' ? path.relative(root, e.path) : ''
  const inFolder = rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)
  return `${inFolder ? `${rel.split(path.sep).join('/')}: ` : ''}${refusalInWords(e.code)}`
}

/** An error as the file system would give it (for a refusal found before trying). */
export function fsError (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(''), { code })
}

/** A folder is usable: it exists, is a directory, and this process can write its work area. */
export class FolderProblem extends SamepageError<'BAD_FOLDER'> {
  constructor (message: string) {
    super('BAD_FOLDER', message)
  }
}

/**
 * `knowsFiles`: this node synced files of the folder before, so its work area is its marker (folderMarkerProblem) and
 * is not made here.
 */
export async function checkFolder (root: string, fs: FolderFs = nodeFolderFs, knowsFiles = false): Promise<void> {
  const st = await fs.stat(root).catch(() => null)
  if (st === null) throw new FolderProblem(`${root} does not exist; create it first (mkdir -p ${root})`)
  if (!st.isDirectory()) throw new FolderProblem(`${root} is not a directory`)
  try {
    await fs.access(root, constants.R_OK | constants.W_OK | constants.X_OK)
    if (!knowsFiles) await fs.mkdir(path.join(root, WORK_AREA, 'tmp'), { recursive: true })
  } catch {
    const user = process.getuid?.() ?? '?'
    throw new FolderProblem(`${root} is not writable by this node (user ${user}); fix its permissions`)
  }
}

/**
 * The folder's work area `.samepage/` is its marker, as Syncthing's `.stfolder`: made when the folder is added, it
 * goes only with the whole folder. A folder that lost it while this node knows files of it is taken as emptied or
 * unmounted (a mount point left empty), not as every file deleted: a pass records nothing and writes nothing until it
 * is back. Before, an unmounted disk had its node record every file deleted, and every member deleted them.
 */
export async function checkFolderMarker (root: string, fs: FolderFs, knowsFiles: boolean): Promise<void> {
  const marker = path.join(root, WORK_AREA)
  const st = await fs.lstat(marker).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (st?.isDirectory() === true) return
  if (st !== null) throw new FolderProblem(`${marker} is not a directory; move it away, then mkdir ${marker}`)
  if (!knowsFiles) { await fs.mkdir(path.join(marker, 'tmp'), { recursive: true }); return }
  throw new FolderProblem(`${marker} is gone, so the folder looks emptied or unmounted: nothing is recorded ` +
    `(no file is taken as deleted) or written until it is back; if the folder is as it should be, mkdir ${marker}`)
}

/**
 * Whether the folder's file system ignores case (a FAT or NTFS disk, an ext4 casefold directory): a name made in one
 * case, looked up in another, in the work area.
 */
export async function ignoresCase (root: string, fs: FolderFs): Promise<boolean | undefined> {
  const probe = path.join(root, WORK_AREA, `CaseProbe-${process.pid}`)
  // Not known this pass (a disk out of inodes, say): asked again at the next; a pass never fails on it.
  if (!await fs.open(probe, 'w').then(async h => { await h.close(); return true }, () => false)) return undefined
  try {
    return await fs.lstat(path.join(root, WORK_AREA, `caseprobe-${process.pid}`)).then(() => true, () => false)
  } finally {
    await fs.rm(probe, { force: true })
  }
}

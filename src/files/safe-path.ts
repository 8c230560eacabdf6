import { constants as C } from 'node:fs'
import path from 'node:path'
import { SamepageError } from '../ids/index.ts'
import type { FolderFs, FsFileHandle, FsStats } from './folder-fs.ts'

/**
 * Writing inside a shared folder without ever leaving it (decision 19).
 * A record names a path relative to the folder; on this node any directory
 * of that path may be a symbolic link (made by the user, or swapped in while
 * a file was fetched), and following one would put the file anywhere. So a
 * record's directories are opened one at a time from the folder's root,
 * each with O_NOFOLLOW|O_DIRECTORY (a link or a file is refused), made when
 * missing, and the final rename, unlink or rmdir goes through the last
 * directory's open descriptor (`/proc/self/fd/N/name`): it lands in the
 * very directory that was checked, even if a link replaces it meanwhile.
 * Where /proc is missing (or the file system is not the kernel's: a fake
 * one in tests), every component is checked with lstat instead, and again
 * just before the operation. Every call goes through the folder's FolderFs.
 */

/**
 * A directory on a record's path is a symbolic link (or a file) on this node: nothing is written through it.
 * Its code is spelled like the file system's (ENOTDIR, …) because writers treat it as one more such refusal.
 */
class LinkInPathError extends SamepageError<'ELINKINPATH'> {
  constructor (rel: string, what: string) {
    super('ELINKINPATH', `${rel} is ${what} on this node; links are never followed, so nothing is written through it`)
  }
}

/**
 * A name the folder holds only in another case, on a file system that ignores case (a FAT or NTFS disk, an ext4
 * casefold directory): writing through it would land in the other file or directory. Two records whose names differ
 * only in case overwrote each other there, and the receiver then recorded a deletion and an edit that every node
 * applied (a review's probes on a case-insensitive FUSE mount). As Syncthing's CaseConflictError.
 */
export class CaseConflictError extends SamepageError<'ECASE'> {
  constructor (rel: string, other: string) {
    super('ECASE', `case conflict with ${other}: this folder's file system ignores case and cannot hold both names`)
  }
}

/**
 * A name the folder's file system refuses to hold (EINVAL or EILSEQ: a FAT, exFAT or NTFS disk refuses `:` and the
 * like; ENAMETOOLONG: over 255 bytes on most disks), or keeps under another name (a FAT disk drops trailing dots): the
 * path can never be written here as the record names it. A name legal on the sender's disk, so only a new record or a
 * change here lifts it; before, it was fetched whole again at every pass, 5 s apart (a review's probe).
 */
export class NameRefusedError extends SamepageError<'ENAME'> {
  /** The file system's code, or the name it keeps instead. */
  readonly why: { code: string } | { keptAs: string }
  constructor (name: string, why: { code: string } | { keptAs: string }, directory: boolean) {
    const which = `the name "${name}"${directory ? ' (a directory on its path)' : ''}`
    const what = 'code' in why
      ? `this disk cannot hold ${which} (${why.code}` +
        `${why.code === 'ENAMETOOLONG' ? `: ${Buffer.byteLength(name)} bytes` : ''})`
      : `this disk keeps ${which} as "${why.keptAs}"`
    super('ENAME', `${what}: rename it on another node, or add it to .samepageignore here`)
    this.why = why
  }
}

/** The codes of a file system's refusal of a name itself, as opposed to the place or the room. */
const NAME_REFUSALS = new Set(['EINVAL', 'EILSEQ', 'ENAMETOOLONG'])

/** `err`, or a NameRefusedError if it is a refusal of `name` itself (by a create, mkdir or rename of that name). */
export function nameRefusal (err: unknown, name: string, directory: boolean): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && NAME_REFUSALS.has(code) ? new NameRefusedError(name, { code }, directory) : err
}

/** A name compared as a file system that ignores case compares it (approximately: Unicode case folding). */
export function foldedName (name: string): string {
  // Lower first: ẞ (capital sharp s) lowers to ß, which uppers to SS (a review's probe: STRAẞE against Straße).
  return name.normalize('NFC').toLowerCase().toUpperCase().toLowerCase()
}

/**
 * Refuses `name`, which something in the directory listed as `names` answered to, if no entry is spelled so: the file
 * system matched another (its twin by case, or by a folding of its own).
 */
function exactCaseIn (names: readonly string[], name: string, relDir: string): void {
  if (names.includes(name)) return
  const folded = foldedName(name)
  const other = names.find(n => foldedName(n) === folded) ?? 'an entry spelled otherwise'
  const at = (n: string): string => relDir === '' ? n : `${relDir}/${n}`
  throw new CaseConflictError(at(name), at(other))
}

/**
 * Refuses the folder's path `rel` if what answers to it on disk is an entry of another name (a directory that ignores
 * case, wherever it is: ext4 casefold is a flag of one directory). Asked only once something answered to the name.
 */
export async function sameNameThere (fs: FolderFs, root: string, rel: string): Promise<void> {
  const relDir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)
  const listed = await fs.readdir(path.join(root, relDir), { withFileTypes: true }).catch(() => null)
  if (listed !== null) exactCaseIn(listed.map(d => d.name), path.posix.basename(rel), relDir)
}

/**
 * How a pass's writes check the case of the directories they walk through (a directory twin by case, written into:
 * `dir/b` landing in `Dir/`). `ignoresCase`: the folder's root ignores case, so every directory is listed; else a
 * directory is listed only if it answers to its name in the other case (ext4 casefold is a flag of one directory,
 * wherever it is). Each directory is looked at once a pass (at most VERIFIED_MAX remembered).
 */
export class CaseCheck {
  readonly ignoresCase: boolean
  readonly #verified = new Set<string>()

  constructor (ignoresCase: boolean) {
    this.ignoresCase = ignoresCase
  }

  /** Throws CaseConflictError if directory `rel`, opened as `name` in `parent` (a path), is a twin by case. */
  async component (fs: FolderFs, parent: string, name: string, rel: string, made: boolean): Promise<void> {
    if (made || this.#verified.has(rel)) { this.#remember(rel); return }
    const swapped = [...name].map(c => c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()).join('')
    const suspect = this.ignoresCase ||
      (swapped !== name && await fs.lstat(`${parent}/${swapped}`).then(() => true, () => false))
    if (suspect) {
      const relParent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''
      exactCaseIn((await fs.readdir(parent, { withFileTypes: true })).map(d => d.name), name, relParent)
    }
    this.#remember(rel)
  }

  #remember (rel: string): void {
    if (this.#verified.size < VERIFIED_MAX) this.#verified.add(rel)
  }
}

/** Directories a CaseCheck remembers as checked: a pass of deep paths checks the rest at each write. */
const VERIFIED_MAX = 4096

/** An open directory inside the folder, checked to be reached without a link; `at(name)` names an entry of it. */
interface CheckedDir {
  at (name: string): string
  /**
   * Checks again that no link came in on the way (without /proc; with it, the descriptor already pins the directory).
   */
  recheck (): Promise<void>
  sync (): Promise<void>
  close (): Promise<void>
}

/**
 * Opens the folder's directory `relDir` ('' for the root, '/'-separated),
 * refusing any link on the way; with `create`, missing directories are made.
 */
async function openCheckedDir (
  fs: FolderFs, root: string, relDir: string, create: boolean, cases: CaseCheck | undefined
): Promise<CheckedDir> {
  const names = relDir === '' || relDir === '.' ? [] : relDir.split('/')
  const procFd = fs.procFd
  if (procFd === null) return await openByLstat(fs, root, names, create, cases)
  let handle = await fs.open(root, C.O_RDONLY | C.O_DIRECTORY)
  try {
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const entry = `${procFd}/${handle.fd}/${name}`
      const open = async (): Promise<FsFileHandle> =>
        await fs.open(entry, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW)
      let next: FsFileHandle
      let made = false
      try {
        next = await open().catch(async (err: NodeJS.ErrnoException) => {
          // Made only when missing (mkdir never follows a link at its last component), then opened the same way.
          if (!create || err.code !== 'ENOENT') throw err
          made = await fs.mkdir(entry).then(() => true, (e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST') throw e
            return false
          })
          return await open()
        })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOTDIR' && code !== 'ELOOP') throw nameRefusal(err, name, true)
        const st = await fs.lstat(entry).catch(() => null)
        const rel = names.slice(0, i + 1).join('/')
        if (st?.isSymbolicLink() === true) throw new LinkInPathError(rel, 'a symbolic link')
        // A file that answered to a directory's name in another case (`x` for `X/y`) is a case conflict.
        await cases?.component(fs, `${procFd}/${handle.fd}`, name, rel, false)
        throw notADirectory(rel)
      }
      try {
        await cases?.component(fs, `${procFd}/${handle.fd}`, name, names.slice(0, i + 1).join('/'), made)
      } catch (err) {
        await next.close()
        throw err
      }
      await handle.close()
      handle = next
    }
  } catch (err) {
    await handle.close()
    throw err
  }
  const h = handle
  return {
    at: name => `${procFd}/${h.fd}/${name}`,
    recheck: async () => {},
    sync: async () => { await h.sync() },
    close: async () => { await h.close() }
  }
}

async function openByLstat (
  fs: FolderFs,
  root: string,
  names: readonly string[],
  create: boolean,
  cases: CaseCheck | undefined
): Promise<CheckedDir> {
  const check = async (): Promise<void> => {
    for (let i = 0; i < names.length; i++) {
      const rel = names.slice(0, i + 1).join('/')
      const abs = path.join(root, rel)
      let st = await fs.lstat(abs).catch(() => null)
      let made = false
      if (st === null && create) {
        made = await fs.mkdir(abs).then(() => true, (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw nameRefusal(err, names[i] as string, true)
          return false
        })
        st = await fs.lstat(abs)
      }
      if (st === null) throw Object.assign(new Error(`${rel} does not exist on this node`), { code: 'ENOENT' })
      if (st.isSymbolicLink()) throw new LinkInPathError(rel, 'a symbolic link')
      await cases?.component(fs, path.join(root, ...names.slice(0, i)), names[i] as string, rel, made)
      if (!st.isDirectory()) throw notADirectory(rel)
    }
  }
  await check()
  const dir = path.join(root, ...names)
  return {
    at: name => path.join(dir, name),
    // No descriptor to go through: the path is checked again right before the caller uses it.
    recheck: check,
    sync: async () => {
      const d = await fs.open(dir, 'r')
      try { await d.sync() } finally { await d.close() }
    },
    close: async () => {}
  }
}

function notADirectory (rel: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${rel} is not a directory on this node`), { code: 'ENOTDIR' })
}

/** Runs `use` with the record's directory open and checked; closes it after. */
export async function inCheckedDir<T> (
  fs: FolderFs,
  root: string,
  rel: string,
  create: boolean,
  use: (dir: CheckedDir, name: string) => Promise<T>,
  cases?: CaseCheck
): Promise<T> {
  const relDir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)
  const dir = await openCheckedDir(fs, root, relDir, create, cases)
  try {
    const name = path.posix.basename(rel)
    // On a file system that ignores case, the name itself too: a file of another case there would be replaced.
    // Listed only when something answers to the name: a new file's name costs no listing of a big directory.
    if (cases?.ignoresCase === true && await fs.lstat(dir.at(name)).then(() => true, () => false)) {
      exactCaseIn((await fs.readdir(dir.at('.'), { withFileTypes: true })).map(d => d.name), name, relDir)
    }
    return await use(dir, name)
  } finally {
    await dir.close()
  }
}

/**
 * Unlinks the folder's file `rel` without following a link on its way (a missing file is fine). With `unchanged`, only
 * if what is there passes it, looked at through the same directory just before the unlink (a pass may delete hours
 * after its scan, and a user's edit since must stay); false when it was left. What is left of the window (an edit
 * between that lstat and the unlink) is a few system calls long.
 */
export async function unlinkInFolder (
  fs: FolderFs, root: string, rel: string, unchanged?: (st: FsStats) => boolean
): Promise<boolean> {
  return await inCheckedDir(fs, root, rel, false, async (dir, name) => {
    await dir.recheck()
    const st = unchanged === undefined ? undefined : await lstatOrNull(fs, dir.at(name))
    if (st === null) return true
    if (st !== undefined && unchanged?.(st) === false) return false
    await fs.unlink(dir.at(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    return true
  })
}

/** The lstat of the folder's entry `rel`, reached without following a link on its way; null if nothing is there. */
export async function lstatInFolder (fs: FolderFs, root: string, rel: string): Promise<FsStats | null> {
  try {
    return await inCheckedDir(fs, root, rel, false, async (dir, name) => {
      await dir.recheck()
      return await lstatOrNull(fs, dir.at(name))
    })
  } catch (err) {
    // A directory of its path missing, or a file: nothing is at `rel`.
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return null
    throw err
  }
}

async function lstatOrNull (fs: FolderFs, at: string): Promise<FsStats | null> {
  return await fs.lstat(at).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
}

/** Removes the directory `relDir` if it is empty (false if it is not, or is not there). */
export async function rmdirInFolder (fs: FolderFs, root: string, relDir: string): Promise<boolean> {
  try {
    await inCheckedDir(fs, root, relDir, false, async (dir, name) => {
      await dir.recheck()
      await fs.rmdir(dir.at(name))
    })
    return true
  } catch {
    return false
  }
}

/**
 * Renames the folder's file `from` to `to` in the same directory, never over an existing entry, without following a
 * link.
 */
export async function renameInFolder (fs: FolderFs, root: string, from: string, to: string): Promise<void> {
  if (path.posix.dirname(from) !== path.posix.dirname(to)) {
    throw new Error(`renameInFolder: ${from} and ${to} are in different directories`)
  }
  await inCheckedDir(fs, root, from, false, async (dir, name) => {
    const target = dir.at(path.posix.basename(to))
    if (await fs.lstat(target).catch(() => null) !== null) {
      throw Object.assign(new Error(`${to} is already there`), { code: 'EEXIST' })
    }
    await dir.recheck()
    await fs.rename(dir.at(name), target)
    await dir.sync()
  })
}

/**
 * Why a record's path cannot be written here (a directory of it is a symbolic link, or a file), or null. Read-only: the
 * write checks again.
 */
export async function linkInPath (fs: FolderFs, root: string, rel: string): Promise<string | null> {
  const names = rel.split('/').slice(0, -1)
  for (let i = 0; i < names.length; i++) {
    const at = names.slice(0, i + 1).join('/')
    const st = await fs.lstat(path.join(root, at)).catch(() => null)
    if (st === null) return null
    if (st.isSymbolicLink()) return new LinkInPathError(at, 'a symbolic link').message
    if (!st.isDirectory()) return `${at} is a file on this node, not a directory`
  }
  return null
}

/**
 * The folder's work area `.samepage/tmp` exists and is reached through no link (checked by lstat: it is this node's
 * own, never a record's). Its `tmp` is made when missing, never `.samepage/` itself, the folder's marker
 * (folder-errors.ts checkFolderMarker: made again in a mount point left empty, it would have the next pass take every
 * file as deleted). Two lstats per file written when it is there (a mkdir of each first was four more calls per file,
 * in a pass of 10,000 small files).
 */
export async function checkWorkArea (fs: FolderFs, root: string, workArea: string): Promise<void> {
  if (await workAreaThere(fs, root, workArea)) return
  await fs.mkdir(path.join(root, workArea, 'tmp')).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
  if (!await workAreaThere(fs, root, workArea)) {
    throw Object.assign(new Error(`${workArea}/tmp is gone as soon as made`), { code: 'ENOENT' })
  }
}

/** Whether the work area is there (false: a part of it is missing), refusing a link or a file in its place. */
async function workAreaThere (fs: FolderFs, root: string, workArea: string): Promise<boolean> {
  for (const rel of [workArea, `${workArea}/tmp`]) {
    const st = await fs.lstat(path.join(root, rel)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    })
    if (st === null) return false
    if (st.isSymbolicLink()) throw new LinkInPathError(rel, 'a symbolic link')
    if (!st.isDirectory()) throw new LinkInPathError(rel, 'not a directory')
  }
  return true
}

import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { SqliteStore } from '../store/index.ts'
import { NodeError } from './errors.ts'

/**
 * `samepage backup FILE`: a consistent copy of the running daemon's store,
 * made by SQLite's online backup (decision 15: never a file copy of a live
 * database). Restoring it is stopping the node and putting the file in place
 * of DIR/store.db (README, "Backup and restore"); the node then opens new
 * epochs and gets back by catch-up what peers hold beyond it.
 *
 * Refused, with nothing written: a FILE that exists (a backup never
 * overwrites), one inside the data directory (a backup there is lost with
 * it, and a restore would read it from where it is replaced), and one inside
 * a shared folder (the folder would sync every space's data to its members).
 * The copy is made under a temporary name beside FILE, checked, then linked
 * to FILE only if FILE still does not exist.
 */
export interface BackupResult { readonly path: string, readonly bytes: number }

export async function backupStore (
  store: SqliteStore,
  dataDir: string,
  sharedFolders: readonly string[],
  file: string
): Promise<BackupResult> {
  const target = resolveTarget(dataDir, sharedFolders, file)
  const tmpName = `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.partial`
  const tmp = path.join(path.dirname(target), tmpName)
  // Created empty and private first: SQLite writes into it and keeps its mode (the store holds every space's data).
  fs.closeSync(fs.openSync(tmp, 'wx', 0o600))
  try {
    await store.backup(tmp)
    check(tmp)
    fsyncFile(tmp)
    publish(tmp, target)
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) fs.rmSync(f, { force: true })
  }
  fsyncDir(path.dirname(target))
  return { path: target, bytes: fs.statSync(target).size }
}

/** The absolute target path with its directory resolved through symbolic links, or the user's error. */
function resolveTarget (dataDir: string, sharedFolders: readonly string[], file: string): string {
  if (file === '' || !path.isAbsolute(file)) {
    throw new NodeError('BAD_INPUT',
      `the backup path ${JSON.stringify(file)} is not absolute; give a full path like /var/backups/samepage-store.db`)
  }
  const name = path.basename(file)
  if (name === '' || name === '.' || name === '..' || file.endsWith(path.sep)) {
    throw new NodeError('BAD_INPUT',
      `the backup path ${JSON.stringify(file)} names a directory; give a file name in it`)
  }
  // Where the path leads once every symbolic link on the way is followed, judged before anything else.
  const target = realAsFarAsItExists(file)
  if (within(target, realAsFarAsItExists(dataDir))) {
    throw new NodeError('BACKUP_REFUSED', `${file} is inside the node's data directory ${dataDir}; ` +
      'keep backups outside it (they are lost with it, and a restore replaces it)')
  }
  for (const folder of sharedFolders) {
    if (within(target, realAsFarAsItExists(folder))) {
      throw new NodeError('BACKUP_REFUSED', `${file} is inside the shared folder ${folder}, ` +
        'which would sync the backup (every space\'s data) to its members; choose a place outside shared folders')
    }
  }
  let parentIsDir = false
  try { parentIsDir = fs.statSync(path.dirname(target)).isDirectory() } catch {}
  if (!parentIsDir) {
    throw new NodeError('BAD_INPUT',
      `the directory ${path.dirname(file)} does not exist; create it first, or choose another place for the backup`)
  }
  if (exists(target)) {
    throw new NodeError('BACKUP_EXISTS',
      `${file} already exists; a backup never overwrites a file: choose a new name, or remove the old file first`)
  }
  return target
}

/** A backup that SQLite itself does not find whole is not published. */
function check (file: string): void {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    const rows = db.prepare('PRAGMA quick_check').all()
    if (rows.length !== 1 || rows[0]?.['quick_check'] !== 'ok') {
      const found = JSON.stringify(rows.slice(0, 3))
      throw new NodeError('BACKUP_REFUSED', `the backup failed SQLite's check (${found}); nothing was published`)
    }
  } finally {
    db.close()
  }
}

/** Gives the finished copy its name only if that name is still free (a link never replaces a file). */
function publish (tmp: string, target: string): void {
  try {
    fs.linkSync(tmp, target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      throw new NodeError('BACKUP_EXISTS', `${target} was created while the backup ran; choose a new name`)
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err
    // A file system without hard links: an exclusive copy still never overwrites.
    try {
      fs.copyFileSync(tmp, target, fs.constants.COPYFILE_EXCL)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new NodeError('BACKUP_EXISTS', `${target} was created while the backup ran; choose a new name`)
      }
      throw e
    }
    fsyncFile(target)
  }
}

function within (p: string, dir: string): boolean {
  const rel = path.relative(dir, p)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

/**
 * The real path of the deepest ancestor of `p` that exists, with the rest of `p` appended
 * (a dangling last link is left as it is).
 */
function realAsFarAsItExists (p: string): string {
  const rest: string[] = []
  let at = path.resolve(p)
  for (;;) {
    try {
      return path.join(fs.realpathSync(at), ...rest.reverse())
    } catch {
      const up = path.dirname(at)
      if (up === at) return path.resolve(p)
      rest.push(path.basename(at))
      at = up
    }
  }
}

function exists (p: string): boolean {
  try {
    fs.lstatSync(p)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

function fsyncFile (file: string): void {
  const fd = fs.openSync(file, 'r')
  try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
}

function fsyncDir (dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r')
    try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  } catch {
    // Not every platform lets a directory be opened for fsync; the file itself is synced.
  }
}

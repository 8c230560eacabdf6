import fs from 'node:fs'
import { StoreError } from './store-error.ts'

/** SQLite's primary result codes (the low byte of an extended one) that say the file itself cannot be used. */
const SQLITE_CORRUPT = 11
const SQLITE_CANTOPEN = 14
const SQLITE_FULL = 13
const SQLITE_NOTADB = 26

/**
 * The store holds every space's data, so it is its user's alone, as every
 * other file the node writes (atomic-file/): a new store.db is created with
 * mode 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode), whatever the umask and the data directory's mode.
 * A store an earlier version left group- or other-readable (the umask's
 * 0644) is made 0600 with its -wal and -shm, rather than refused: every
 * store made before this change is such a file. Only a file that is not
 * there is created (never opened and closed here otherwise: a close drops
 * every fcntl lock this process holds on the file, SQLite's included).
 */
export function ownerOnly (file: string): void {
  if (file === ':memory:' || file === '') return // SQLite's own, in memory or a temporary file: no file of ours
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return // SQLite's open says what is wrong, in its words
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let mode: number
    try {
      const stat = fs.statSync(f)
      if (!stat.isFile()) continue
      mode = stat.mode & 0o777
    } catch {
      continue
    }
    if ((mode & 0o077) === 0) continue
    try {
      fs.chmodSync(f, mode & 0o700)
    } catch (err) {
      throw new StoreError('STORE_INSECURE', `${f} is readable by other users (mode ${mode.toString(8)}) and ` +
        `could not be made private (${(err as Error).message}); run as its owner: chmod 600 ${file}*`)
    }
  }
}

/**
 * SQLite's refusal of the file itself, said with the file's name and the way
 * out (restore a backup, or start with an empty store); any other error as it is.
 */
export function unusableStore (file: string, err: unknown): unknown {
  const code = (err as { errcode?: unknown }).errcode
  if (typeof code !== 'number') return err
  const reason = (err as Error).message
  if ((code & 0xff) === SQLITE_NOTADB || (code & 0xff) === SQLITE_CORRUPT) {
    return new StoreError('STORE_CORRUPT', `${file} is damaged or not a samepage store (${reason}): move it and ` +
      'its -wal and -shm files away and put a backup in its place (README, "Backup and restore"); without a ' +
      'backup, the node starts with no spaces and must be invited to them again')
  }
  if ((code & 0xff) === SQLITE_FULL) {
    return new StoreError('STORE_FULL', `${file} cannot be written: the disk holding it is full (${reason}); ` +
      'free some space, then start again')
  }
  if ((code & 0xff) === SQLITE_CANTOPEN) {
    return new StoreError('STORE_CANTOPEN', `${file} cannot be opened (${reason}): it must be a file the ` +
      'node\'s user can read and write, in a directory it can write')
  }
  return err
}

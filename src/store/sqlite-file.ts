import fs from 'node:fs'
import { StoreError } from './store-error.ts'

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

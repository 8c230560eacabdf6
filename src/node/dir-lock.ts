import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'
import { ownerOnly, storageTrouble } from '../store/index.ts'
import { NodeError } from './errors.ts'
import { olderDaemon } from './older-daemon.ts'

/** The file the kernel lock is held on: a SQLite database that holds nothing. */
const LOCK_FILE = 'daemon.lock.db'
/** The pid of the daemon that holds the lock, for the refusal's message (and for people); never the lock itself. */
const PID_FILE = 'daemon.lock'
/** SQLite's primary result code for a lock held by another connection. */
const SQLITE_BUSY = 5
const SQLITE_CANTOPEN = 14

/**
 * One daemon per data directory (decision 6), held by the kernel: SQLite's
 * fcntl lock on `daemon.lock.db`, taken exclusively (locking_mode EXCLUSIVE
 * and an EXCLUSIVE transaction) and kept until unlock() closes it or the
 * process ends, however it ends: a SIGKILL or a power loss leaves no lock
 * behind, so nothing is ever taken over. A pid written in a file could not
 * say that: after a reboot the pid is some other process's, and a lock
 * taken over by reading, removing and creating it again can be taken by two
 * daemons at once. Taking the lock is one system call, which one process
 * wins; a second connection in the same process is refused as well (SQLite
 * tracks its own connections' locks per file).
 *
 * The lock file is never removed (a daemon waiting on the old file and one
 * creating a new one would both hold a lock) and nothing in this process
 * opens it but SQLite: closing any other descriptor of it would drop the
 * process's fcntl locks. The holder then writes its pid to `daemon.lock`,
 * which the refusal quotes.
 */
export function lockDir (dir: string): () => void {
  const file = path.join(dir, LOCK_FILE)
  const pidFile = path.join(dir, PID_FILE)
  let db: DatabaseSync | undefined
  try {
    // The user's alone (0600, whatever the umask): another local user who can open it can hold a shared lock on it,
    // and no daemon would start (a review's probe).
    ownerOnly(file)
    db = new DatabaseSync(file, { timeout: 0 })
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('COMMIT')
  } catch (err) {
    db?.close()
    throw lockRefused(dir, file, pidFile, err)
  }
  // A daemon of the version before this lock holds only the pid file: one named there that runs on `dir` is one.
  const older = olderDaemon(dir, pidFile, LOCK_FILE)
  if (older !== null) {
    db.close()
    throw new NodeError('DIR_LOCKED', `${dir} is in use by another samepage daemon (pid ${older}, an earlier ` +
      `version); stop it first, or use another data directory; if pid ${older} is not a samepage daemon of ${dir}, ` +
      `remove ${pidFile}`)
  }
  try {
    writeFileAtomic(pidFile, String(process.pid))
  } catch (err) {
    db.close()
    const why = notAFile(pidFile) ? 'it is not a file; move it away' : diskWords(err)
    throw new NodeError('DIR_LOCKED', `could not lock ${dir}: ${pidFile} cannot be written (${why})`)
  }
  const held = db
  return () => {
    try { if (readTextOr(pidFile, '') === String(process.pid)) fs.unlinkSync(pidFile) } catch {}
    held.close()
  }
}

function lockRefused (dir: string, file: string, pidFile: string, err: unknown): NodeError {
  const code = (err as { errcode?: unknown }).errcode
  if (typeof code === 'number' && (code & 0xff) === SQLITE_BUSY) {
    let pid = ''
    try { pid = readTextOr(pidFile, '').trim() } catch {}
    const holder = /^[1-9]\d{0,9}$/.test(pid) ? ` (pid ${pid})` : ''
    const hint = 'stop it first, or use another data directory'
    return new NodeError('DIR_LOCKED', `${dir} is in use by another samepage daemon${holder}; ${hint}`)
  }
  if (notAFile(file)) {
    return new NodeError('DIR_LOCKED', `could not lock ${dir}: ${file} is not a file; move it away`)
  }
  const cantOpen = typeof code === 'number' && (code & 0xff) === SQLITE_CANTOPEN
  if (storageTrouble(err) !== null || (err as NodeJS.ErrnoException).code === 'EACCES' || cantOpen) {
    return new NodeError('DIR_LOCKED', `could not lock ${dir}: ${file} cannot be made or written (${diskWords(err)})`)
  }
  return new NodeError('DIR_LOCKED', `could not lock ${dir}: ${file} is not a lock this node can use ` +
    `(${(err as Error).message}); if no samepage daemon runs for ${dir}, move ${file} away`)
}

/** Something is at `file` that is not a regular file (a directory, say). */
function notAFile (file: string): boolean {
  try {
    return !fs.lstatSync(file).isFile()
  } catch {
    return false
  }
}

/** A storage refusal in words that name the way out: room on the disk, or write access to the directory. */
function diskWords (err: unknown): string {
  const why = (err as Error).message
  if (storageTrouble(err) === 'full') return `${why}: the disk is full; free some space`
  return `${why}: the data directory must be writable by this user, on a disk mounted read-write`
}

/**
 * A write to this node's own storage that failed for want of room or
 * because the disk refused it: SQLite's SQLITE_FULL, SQLITE_IOERR (any
 * extended code), SQLITE_READONLY, or a file system's ENOSPC, EDQUOT, EIO,
 * EROFS. Such a failure is an error of the operation that wrote (told to
 * the user, tried again later), never a reason for the daemon to die: the
 * store rolled the transaction back, so nothing of it was applied.
 */
const SQLITE_FULL = 13
const SQLITE_IOERR = 10
const SQLITE_READONLY = 8
const FS_CODES = ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']

type StorageTrouble = 'full' | 'failed'

/** What kind of storage trouble `err` is, or null if it is something else. */
export function storageTrouble (err: unknown): StorageTrouble | null {
  if (typeof err !== 'object' || err === null) return null
  const e = err as { code?: unknown, errcode?: unknown }
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    const primary = e.errcode & 0xff
    if (primary === SQLITE_FULL) return 'full'
    if (primary === SQLITE_IOERR || primary === SQLITE_READONLY) return 'failed'
    return null
  }
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'full'
  if (typeof e.code === 'string' && FS_CODES.includes(e.code)) return 'failed'
  return null
}

import fs from 'node:fs'
import path from 'node:path'

/** The calls the writer makes, so that a test can make one of them fail (as syncthing's fakefs does). */
export type AtomicFileIo =
  Pick<typeof fs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'rmSync'>

/** Files the node writes for itself hold keys, tokens and peers: its own user may read them, nobody else. */
export const PRIVATE_FILE_MODE = 0o600

/**
 * Replaces `file` with `data`, so that after a crash or a power cut at any
 * moment the file is either the old one, whole, or the new one, whole:
 * written to `file.<pid>.tmp` (created with `mode`, 0600 unless told), fsynced,
 * renamed over `file`, and the directory fsynced so the rename itself is
 * durable. If any step fails the temporary file is removed and the error
 * thrown; `file` is untouched.
 *
 * A temporary file left by a crash is removed first: pids repeat (in a
 * container, always), and no live process but this one can own it.
 */
export function writeFileAtomic (
  file: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE, io: AtomicFileIo = fs
): void {
  const tmp = `${file}.${process.pid}.tmp`
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  io.rmSync(tmp, { force: true })
  try {
    const fd = io.openSync(tmp, 'wx', mode)
    try {
      let written = 0
      while (written < bytes.length) written += io.writeSync(fd, bytes, written, bytes.length - written)
      io.fsyncSync(fd)
    } finally {
      io.closeSync(fd)
    }
    io.renameSync(tmp, file)
  } catch (err) {
    try { io.rmSync(tmp, { force: true }) } catch {}
    throw err
  }
  fsyncDirectory(path.dirname(file), io)
}

/** The bytes of `file`, or `missing` if there is no such file. Any other failure is thrown. */
export function readFileOr<T> (file: string, missing: T): Buffer | T {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missing
    throw err
  }
}

/** The text (UTF-8) of `file`, or `missing` if there is no such file. Any other failure is thrown. */
export function readTextOr<T> (file: string, missing: T): string | T {
  const bytes = readFileOr(file, null)
  return bytes === null ? missing : bytes.toString('utf8')
}

function fsyncDirectory (dir: string, io: AtomicFileIo): void {
  let fd: number
  try {
    fd = io.openSync(dir, 'r')
  } catch {
    return // Not every platform opens a directory for fsync; the file itself is synced.
  }
  try {
    io.fsyncSync(fd)
  } catch {
    // Some file systems refuse an fsync of a directory (EINVAL); the rename is done either way.
  } finally {
    io.closeSync(fd)
  }
}

import fs from 'node:fs'

/**
 * The file system as the folder executor sees it: exactly the calls that
 * FolderSync and its parts make (the scanner, the safe writer, the write
 * jobs, the chunk index, set-aside.ts, delete-file.ts, safe-path.ts), and
 * nothing else, in the manner of Syncthing's lib/fs Filesystem. Production
 * uses `nodeFolderFs` (node:fs, the default everywhere); tests give an
 * in-memory one, or one that fails chosen calls (test/files/fake-fs.ts), to
 * show what real disks make hard: a full disk mid-write, a rename refused,
 * a file changed by its user between the scan and the write.
 *
 * Paths are absolute. Errors are node:fs's: an Error with the errno `code`.
 */
export interface FolderFs {
  stat (p: string): Promise<FsStats>
  lstat (p: string): Promise<FsStats>
  readdir (p: string, opts: { withFileTypes: true }): Promise<FsDirent[]>
  readFile (p: string, encoding: 'utf8'): Promise<string>
  /** `flags` as node:fs takes them ('r', or fs.constants bits such as O_NOFOLLOW). */
  open (p: string, flags: string | number, mode?: number): Promise<FsFileHandle>
  mkdir (p: string, opts?: { recursive: boolean }): Promise<unknown>
  rename (from: string, to: string): Promise<void>
  unlink (p: string): Promise<void>
  rmdir (p: string): Promise<void>
  rm (p: string, opts: { force: boolean }): Promise<void>
  chmod (p: string, mode: number): Promise<void>
  utimes (p: string, atime: Date, mtime: Date): Promise<void>
  access (p: string, mode: number): Promise<void>
  statfs (p: string): Promise<FsStatFs>
  /**
   * fstat of an open descriptor, answered at once (one syscall on the inode the descriptor holds, no disk read):
   * the chunk index checks every chunk it serves against its scan, and a trip through the thread pool per chunk cost
   * twenty times the syscall (measured). A file system without it is asked through the handle's stat().
   */
  readonly fstatNow?: (fd: number) => FsStats
  /**
   * pread of an open descriptor on this thread: bytes read. Serving a chunk the scan just read (in the page cache)
   * cost the main thread less than half through this than through the thread pool (a promise, a hand-off and a
   * wake-up per chunk; measured in the folder cases). A file system without it is read through the handle.
   */
  readonly readNow?: (fd: number, into: Uint8Array, position: number) => number
  /**
   * Where an open descriptor's directory entries can be named (`<procFd>/<fd>/<name>`: Linux's /proc/self/fd), so
   * that a rename lands in the very directory that was checked (safe-path.ts); null where there is no such place,
   * and every directory is checked by lstat instead.
   */
  readonly procFd: string | null
}

export interface FsStats {
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly ino: number
  isFile (): boolean
  isDirectory (): boolean
  isSymbolicLink (): boolean
}

export interface FsDirent {
  readonly name: string
  isFile (): boolean
  isDirectory (): boolean
  isSymbolicLink (): boolean
}

export interface FsStatFs {
  readonly bsize: number
  readonly blocks: number
  readonly bavail: number
}

export interface FsFileHandle {
  readonly fd: number
  read (buf: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>
  write (buf: Uint8Array, offset: number, length: number, position: number | undefined): Promise<unknown>
  /** pwritev (node:fs has it; a handle without it is given one buffer at a time). */
  writev?: (buffers: readonly Uint8Array[], position: number) => Promise<{ bytesWritten: number }>
  stat (): Promise<FsStats>
  truncate (length: number): Promise<void>
  /** fsync */
  sync (): Promise<void>
  /** fdatasync */
  datasync (): Promise<void>
  close (): Promise<void>
}

const PROC_FD = '/proc/self/fd'

/** The real file system (node:fs), the executor's default. */
export const nodeFolderFs: FolderFs = {
  stat: async p => await fs.promises.stat(p),
  lstat: async p => await fs.promises.lstat(p),
  readdir: async (p, opts) => await fs.promises.readdir(p, opts),
  readFile: async (p, encoding) => await fs.promises.readFile(p, encoding),
  open: async (p, flags, mode) => await fs.promises.open(p, flags, mode),
  mkdir: async (p, opts) => await fs.promises.mkdir(p, opts),
  rename: async (from, to) => { await fs.promises.rename(from, to) },
  unlink: async p => { await fs.promises.unlink(p) },
  rmdir: async p => { await fs.promises.rmdir(p) },
  rm: async (p, opts) => { await fs.promises.rm(p, opts) },
  chmod: async (p, mode) => { await fs.promises.chmod(p, mode) },
  utimes: async (p, atime, mtime) => { await fs.promises.utimes(p, atime, mtime) },
  access: async (p, mode) => { await fs.promises.access(p, mode) },
  statfs: async p => await fs.promises.statfs(p),
  fstatNow: fd => fs.fstatSync(fd),
  readNow: (fd, into, position) => fs.readSync(fd, into, 0, into.length, position),
  procFd: fs.existsSync(PROC_FD) ? PROC_FD : null
}

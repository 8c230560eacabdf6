import { constants } from 'node:fs'
import path from 'node:path'
import { createFsFromVolume, Volume } from 'memfs'
import type { FolderFs, FsDirent, FsFileHandle, FsStatFs, FsStats } from '../../src/files/folder-fs.ts'

/**
 * The folder executor's file system in memory (memfs), and a wrapper that
 * makes chosen calls fail or do something first: the fake of Syncthing's
 * lib/fs, for the exec-*.test.ts files. What real disks make hard to show
 * (a full disk mid-write, a rename refused across devices, a file its user
 * changes between the scan and the write, a link swapped into a path) is a
 * rule here.
 *
 *   const disk = new MemoryDisk()             // disk.fs: a FolderFs; disk.vol: memfs's sync API, for setup
 *   const faults = new FaultyFs(disk.fs)      // faults.fs: the same, with rules:
 *   faults.fail('write', /\.part$/, 'ENOSPC', { after: 1 })
 *   faults.before('open', /\.part$/, () => disk.vol.writeFileSync('/f/a.txt', 'edited'))
 *   new FolderSync({ root: '/f', fs: faults.fs, ... })
 *
 * memfs is node:fs in memory; where it differs from a kernel in a way the
 * executor relies on, this adapter does what the kernel does: open with
 * O_NOFOLLOW refuses a symbolic link (ELOOP), and statfs reports the free
 * bytes the test sets (`freeBytes`). There is no /proc/self/fd, so the
 * executor checks each directory by lstat (safe-path.ts), as on a system
 * without /proc.
 */
const BLOCK = 4096

export class MemoryDisk {
  readonly fs: FolderFs
  /** memfs's node:fs-like API (writeFileSync, symlinkSync, utimesSync, ...), to lay out and inspect the disk. */
  readonly vol = new Volume()
  /** What statfs reports as free (the disk's size: ten times that, at least 1 GiB). */
  freeBytes = 1024 ** 4

  constructor () {
    const p = createFsFromVolume(this.vol).promises
    const handle = (h: Awaited<ReturnType<typeof p.open>>): FsFileHandle => ({
      fd: h.fd,
      read: async (buf, offset, length, position) => await h.read(buf, offset, length, position as number),
      write: async (buf, offset, length, position) => await h.write(buf, offset, length, position),
      stat: async () => await h.stat() as unknown as FsStats,
      truncate: async length => { await h.truncate(length) },
      // memfs's FileHandle has sync() but its type does not say so: the volume's fsync on the same descriptor.
      sync: async () => { this.vol.fsyncSync(h.fd) },
      datasync: async () => { await h.datasync() },
      close: async () => { await h.close() }
    })
    this.fs = {
      stat: async f => await p.stat(f) as unknown as FsStats,
      lstat: async f => await p.lstat(f) as unknown as FsStats,
      readdir: async (f, opts) => (await p.readdir(f, opts) as unknown as FsDirent[])
        .map(d => Object.assign(d, { name: String(d.name) })),
      readFile: async (f, encoding) => String(await p.readFile(f, encoding)),
      open: async (f, flags, mode) => {
        if (typeof flags === 'number' && (flags & constants.O_NOFOLLOW) !== 0) {
          const st = await p.lstat(f).catch(() => null)
          if (st?.isSymbolicLink() === true) throw errno('ELOOP', 'open', f)
        }
        return handle(await p.open(f, flags, mode))
      },
      mkdir: async (f, opts) => await p.mkdir(f, opts),
      rename: async (from, to) => { await p.rename(from, to) },
      unlink: async f => { await p.unlink(f) },
      rmdir: async f => { await p.rmdir(f) },
      rm: async (f, opts) => { await p.rm(f, opts) },
      chmod: async (f, mode) => { await p.chmod(f, mode) },
      utimes: async (f, atime, mtime) => { await p.utimes(f, atime, mtime) },
      access: async (f, mode) => { await p.access(f, mode) },
      statfs: async (): Promise<FsStatFs> => {
        const free = Math.floor(this.freeBytes / BLOCK)
        return { bsize: BLOCK, bavail: free, blocks: Math.max(10 * free, 1024 ** 3 / BLOCK) }
      },
      procFd: null
    }
  }

  /** Writes a file (its directories made), with its mtime if given. */
  put (file: string, content: string | Uint8Array, mtimeMs?: number): void {
    this.vol.mkdirSync(path.dirname(file), { recursive: true })
    this.vol.writeFileSync(file, content)
    if (mtimeMs !== undefined) this.vol.utimesSync(file, new Date(mtimeMs), new Date(mtimeMs))
  }

  /** Every file under `dir`, relative, with its content (the work area included). */
  files (dir: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [abs, content] of Object.entries(this.vol.toJSON(dir))) {
      if (content !== null) out[path.relative(dir, abs)] = content
    }
    return out
  }
}

/** An error as node:fs gives it: `code`, `syscall`, `path`. */
export function errno (code: string, syscall: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${p}' (injected)`), { code, syscall, path: p })
}

/** A FolderFs call, or a call on a file it opened (named by the path it was opened by). */
type Call = Exclude<keyof FolderFs, 'procFd'> | 'read' | 'write' | 'truncate' | 'sync' | 'datasync'

interface Rule {
  readonly call: Call
  readonly match: RegExp
  /** Matching calls let through before the rule acts. */
  after: number
  /** Times it acts; then it is spent. */
  times: number
  readonly act: (p: string) => void | Promise<void>
}

/** A FolderFs whose calls obey rules: fail with an errno, or run something first. */
export class FaultyFs {
  readonly fs: FolderFs
  /** Every call made, as `call path`, in order. */
  readonly calls: string[] = []
  readonly #rules: Rule[] = []

  constructor (inner: FolderFs) {
    const gate = async (call: Call, p: string): Promise<void> => {
      this.calls.push(`${call} ${p}`)
      // The first rule due acts (rules queued for the same call act on successive calls).
      for (const r of this.#rules) {
        if (r.call !== call || r.times === 0 || !r.match.test(p)) continue
        if (r.after > 0) { r.after--; continue }
        r.times--
        await r.act(p)
        return
      }
    }
    const wrap = (p: string, h: FsFileHandle): FsFileHandle => ({
      fd: h.fd,
      read: async (...a) => { await gate('read', p); return await h.read(...a) },
      write: async (...a) => { await gate('write', p); return await h.write(...a) },
      stat: async () => await h.stat(),
      truncate: async n => { await gate('truncate', p); await h.truncate(n) },
      sync: async () => { await gate('sync', p); await h.sync() },
      datasync: async () => { await gate('datasync', p); await h.datasync() },
      close: async () => { await h.close() }
    })
    this.fs = {
      stat: async f => { await gate('stat', f); return await inner.stat(f) },
      lstat: async f => { await gate('lstat', f); return await inner.lstat(f) },
      readdir: async (f, o) => { await gate('readdir', f); return await inner.readdir(f, o) },
      readFile: async (f, e) => { await gate('readFile', f); return await inner.readFile(f, e) },
      open: async (f, flags, mode) => { await gate('open', f); return wrap(f, await inner.open(f, flags, mode)) },
      mkdir: async (f, o) => { await gate('mkdir', f); return await inner.mkdir(f, o) },
      rename: async (from, to) => { await gate('rename', from); await inner.rename(from, to) },
      unlink: async f => { await gate('unlink', f); await inner.unlink(f) },
      rmdir: async f => { await gate('rmdir', f); await inner.rmdir(f) },
      rm: async (f, o) => { await gate('rm', f); await inner.rm(f, o) },
      chmod: async (f, m) => { await gate('chmod', f); await inner.chmod(f, m) },
      utimes: async (f, a, m) => { await gate('utimes', f); await inner.utimes(f, a, m) },
      access: async (f, m) => { await gate('access', f); await inner.access(f, m) },
      statfs: async f => { await gate('statfs', f); return await inner.statfs(f) },
      procFd: inner.procFd
    }
  }

  /** Matching calls fail with `code` (all of them, or `times`), after `after` of them went through. */
  fail (call: Call, match: RegExp, code: string, opts: { after?: number, times?: number } = {}): void {
    this.#rules.push({
      call, match, after: opts.after ?? 0, times: opts.times ?? Infinity, act: p => { throw errno(code, call, p) }
    })
  }

  /** `act` runs just before the next matching call, or the next `times` (the user at work while the folder syncs). */
  before (call: Call, match: RegExp, act: (p: string) => void | Promise<void>, opts: { times?: number } = {}): void {
    this.#rules.push({ call, match, after: 0, times: opts.times ?? 1, act })
  }

  /** The disk behaves again. */
  heal (): void {
    this.#rules.length = 0
  }
}

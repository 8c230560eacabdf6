import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * A case-insensitive, case-preserving directory, as a FAT or NTFS disk or an ext4 casefold directory is: this
 * machine's kernel mounts no ext4 casefold (no CONFIG_UNICODE) and no vfat, so a small FUSE passthrough
 * (case-insensitive-fs.py, Debian's python3-fusepy over libfuse2) over a directory of the test's own. Names are
 * looked up ignoring case, kept in the case they were made with; a rename onto a name of another case replaces that
 * entry and keeps its stored name, as ext4 casefold does. Waits for states (/proc/mounts, the process's exit), never
 * for time.
 */
export interface CaseInsensitiveMount {
  /** The case-insensitive directory. */
  readonly dir: string
  unmount (): Promise<void>
}

/** Debian's own python3, where its python3-fusepy is (not one a version manager put first on PATH). */
const PYTHON = '/usr/bin/python3'
const FS_PROGRAM = path.join(import.meta.dirname, 'case-insensitive-fs.py')

/**
 * `onlyIn`: case is ignored only in directories of that name and below them (ext4 casefold's `chattr +F`).
 * `windowsNames`: names Windows cannot hold (`: * ? " < > |`, a trailing dot or space) are refused with EINVAL, as a
 * FAT or exFAT disk, or NTFS mounted by ntfs-3g with windows_names, refuses them on Linux.
 */
export async function mountCaseInsensitive (
  onlyIn?: string, opts: { windowsNames?: boolean } = {}
): Promise<CaseInsensitiveMount> {
  try {
    execFileSync(PYTHON, ['-c', 'import fusepy'], { stdio: 'pipe' })
  } catch {
    throw new Error('python3-fusepy is missing; install it with: apt-get install -y python3-fusepy libfuse2 ' +
      '(CI\'s .ci/run does)')
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-ci-'))
  const back = path.join(base, 'back')
  const dir = path.join(base, 'mnt')
  fs.mkdirSync(back)
  fs.mkdirSync(dir)
  const args = [back, dir, ...onlyIn === undefined ? [] : [onlyIn], ...opts.windowsNames === true ? ['--windows-names'] : []]
  const child = spawn(PYTHON, [FS_PROGRAM, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = once(child, 'exit')
  const mounted = (): boolean => fs.readFileSync('/proc/mounts', 'utf8').includes(` ${dir} fuse`)
  // Bounded for a broken helper only (a loaded machine starts python in well under a second): up to 2 minutes.
  for (let i = 0; i < 12_000 && !mounted() && child.exitCode === null; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  if (!mounted()) {
    child.kill('SIGKILL')
    await exited
    fs.rmSync(base, { recursive: true, force: true })
    throw new Error(`the case-insensitive file system did not mount: ${stderr.trim()}`)
  }
  return {
    dir,
    unmount: async () => {
      execFileSync('umount', [dir], { stdio: 'pipe' })
      await exited // the FUSE process ends once its file system is unmounted
      fs.rmSync(base, { recursive: true, force: true })
    }
  }
}

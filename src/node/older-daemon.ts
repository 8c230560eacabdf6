import fs from 'node:fs'
import path from 'node:path'
import { readTextOr } from '../atomic-file/index.ts'
import { dataDirOf } from '../ids/index.ts'

/**
 * The fallback of dir-lock.ts for daemons of the version before the kernel lock, which hold only the pid file:
 * whether the process named in `DIR/daemon.lock` may be one of them, running on DIR. Called once the kernel lock
 * on DIR is held, so no daemon of this version runs on DIR; a pid file names a process that is not DIR's whenever
 * its daemon was SIGKILLed and the pid came round again (a wrap, a reboot), or when DIR is a copy of a running
 * node's directory. Only a process that is shown not to be DIR's older daemon is let go: what /proc cannot tell
 * (another user's process) still counts, and the refusal names the way out.
 */
export function olderDaemon (dir: string, pidFile: string, lockFile: string): number | null {
  let pid: number
  try {
    pid = Number(readTextOr(pidFile, '').trim())
  } catch {
    return null
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null
  const proc = `/proc/${pid}`
  let args: string[]
  try {
    args = fs.readFileSync(`${proc}/cmdline`, 'utf8').split('\0')
  } catch {
    return null // gone, or no /proc: a pid alone proves nothing (it may be any process's now)
  }
  // `samepage start` (bin/samepage.js, or the installed `samepage`): the daemon, not a test or a client command.
  const script = args.findIndex(a => /(^|\/)samepage(\.js)?$/.test(a))
  if (script < 0 || !args.includes('start')) return null
  // A daemon of this version holds its own directory's kernel lock (another node's, or the original of a copy).
  if (opensFileNamed(proc, lockFile)) return null
  return runsOn(proc, args.slice(script + 1), dir) === 'elsewhere' ? null : pid
}

/** Whether the process has a file of that name open; false when /proc does not show its descriptors. */
function opensFileNamed (proc: string, name: string): boolean {
  try {
    return fs.readdirSync(`${proc}/fd`).some(fd => {
      try {
        return path.basename(fs.readlinkSync(`${proc}/fd/${fd}`)) === name
      } catch {
        return false // closed meanwhile
      }
    })
  } catch {
    return false
  }
}

/**
 * Whether the samepage command with these arguments runs on `dir`: the data directory it names (its --dir, its
 * environment's SAMEPAGE_HOME or HOME, as the command line chose it) is looked up in the process's own view of the
 * file system (/proc/PID/root and cwd: a container, a chroot, a relative --dir) and compared by device and inode,
 * which a symlink or another spelling of the path does not change.
 */
function runsOn (proc: string, args: readonly string[], dir: string): 'here' | 'elsewhere' | 'unknown' {
  const given = dirOption(args)
  let named: string
  try {
    named = dataDirOf(given, given === undefined ? environ(proc, 'SAMEPAGE_HOME') : undefined, () => {
      const home = environ(proc, 'HOME')
      if (home === undefined) throw new Error('no HOME')
      return home
    })
  } catch {
    return 'unknown' // its environment is not ours to read (another user's process), or it has no HOME
  }
  // The command line resolves its directory lexically from its working directory, which has no symlinks: the
  // kernel, walking `..` from the cwd link, reaches the same directory.
  const seen = path.isAbsolute(named) ? `${proc}/root${path.resolve(named)}` : `${proc}/cwd/${path.normalize(named)}`
  try {
    const its = fs.statSync(seen)
    const ours = fs.statSync(dir)
    return its.dev === ours.dev && its.ino === ours.ino ? 'here' : 'elsewhere'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'elsewhere' : 'unknown'
  }
}

/** The value of the last --dir among a command's arguments (commander keeps the last), as `--dir D` or `--dir=D`. */
function dirOption (args: readonly string[]): string | undefined {
  let dir: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '--') break
    if (a === '--dir' && i + 1 < args.length) dir = args[++i]
    else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length)
  }
  return dir
}

/** A variable of the environment the process was started with; throws when that cannot be read. */
function environ (proc: string, name: string): string | undefined {
  const prefix = `${name}=`
  const entry = fs.readFileSync(`${proc}/environ`, 'utf8').split('\0').find(e => e.startsWith(prefix))
  return entry?.slice(prefix.length)
}

import { constants } from 'node:fs'
import path from 'node:path'
import type { PassState } from './pass-state.ts'
import { checkWorkArea, NameRefusedError, nameRefusal } from './safe-path.ts'
import { WORK_AREA } from './scanner.ts'

/**
 * Whether the folder's disk can hold the names of a record's path, asked before anything is fetched for it. A name
 * legal where it was made (`meeting: notes.bin` on ext4 or APFS, 100 CJK characters from a Mac) may be refused here
 * (a FAT, exFAT or NTFS disk; 255 bytes at most on most disks), or kept under another name (a FAT disk drops trailing
 * dots): found only by the final rename, it was fetched whole again at every pass (a review's probe). As Syncthing,
 * which checks names against the target's rules before it pulls, but by asking the disk: a zero-byte file of the name,
 * made (O_EXCL) in a directory of the work area (looked for in its listing if it ends in a dot or a space), removed.
 * In the work area, not beside the file: the watcher ignores it there (a probe beside the file woke a pass, which
 * probed again), and no directory of the path is made for a file that may never come.
 *
 * Only names mayBeRefused are asked, each once a pass, several at once (write-jobs.ts probeTargets): a folder of
 * ordinary names, in any script, asks nothing. A probe is an open, a close and an unlink: 10,000 took 3.6 s on ext4
 * on the project's test machine, a third of what writing 10,000 small files there took (open, write, fsync, rename).
 * Once a write found a name refused that was not asked, every name is (PassState.probeEveryName).
 */
export class NameCheck {
  readonly #state: PassState
  readonly #answers = new Map<string, Promise<NameRefusedError | null>>()
  #dir: Promise<string | null> | null = null

  constructor (state: PassState) {
    this.#state = state
  }

  /** Why the folder cannot hold `rel` (`not written: …`), or null (or not known: the write finds out). */
  async refusal (rel: string): Promise<string | null> {
    const names = rel.split('/')
    for (const [i, name] of names.entries()) {
      if (this.#state.probeEveryName !== true && !mayBeRefused(name)) continue
      const directory = i < names.length - 1
      let answer = this.#answers.get(name)
      if (answer === undefined) {
        answer = this.#probe(name)
        this.#answers.set(name, answer)
      }
      const refused = await answer
      if (refused !== null) return `not written: ${refusedAs(refused, name, directory).message}`
    }
    return null
  }

  async #probe (name: string): Promise<NameRefusedError | null> {
    const fs = this.#state.fs
    this.#dir ??= probeDirectory(this.#state)
    const dir = await this.#dir
    if (dir === null) return null
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants
    let handle
    try {
      handle = await fs.open(path.join(dir, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
    } catch (err) {
      // EEXIST: held (left by a probe cut short; removed at the next pass's first probe). Another refusal (no room,
      // no inode) says nothing of the name.
      const refused = nameRefusal(err, name, false)
      return refused instanceof NameRefusedError ? refused : null
    }
    try {
      // Only a trailing dot or space is known to be dropped (FAT, exFAT): only then is the listing read.
      let ino: number | null = null
      try {
        if (/[. ]$/.test(name)) ino = (await handle.stat()).ino
      } finally {
        await handle.close()
      }
      if (ino === null) { await fs.unlink(path.join(dir, name)); return null }
      const listed = (await fs.readdir(dir, { withFileTypes: true })).map(d => d.name)
      for (const other of listed) {
        if ((await fs.lstat(path.join(dir, other)).catch(() => null))?.ino !== ino) continue
        await fs.unlink(path.join(dir, other))
        // Spelled otherwise only in Unicode's forms (a disk that keeps NFD): the scanner's NFC rule is for that.
        return other.normalize('NFC') === name ? null : new NameRefusedError(name, { keptAs: other }, false)
      }
      return null
    } catch {
      return null
    }
  }
}

/** The same refusal, said of `name` as a directory on the path or as its last name. */
function refusedAs (err: NameRefusedError, name: string, directory: boolean): NameRefusedError {
  return directory ? new NameRefusedError(name, err.why, true) : err
}

/**
 * Whether a disk this node may write to could refuse the name, or keep it as another: one holding a character Windows
 * refuses (`" * : < > ? \ |`) or a control character, ending in a dot or a space, a DOS device name (NTFS's
 * windows_names refuses them), or over 255 bytes. Other names of any script are not asked: every such disk holds
 * Unicode names (ext4, XFS, btrfs as bytes; FAT with utf8, exFAT and NTFS as UTF-16), but for a FAT disk mounted with a
 * narrow iocharset, found by its first refusal (then every name is asked).
 */
function mayBeRefused (name: string): boolean {
  return /[\x00-\x1f\x7f"*:<>?\\|]|[. ]$/.test(name) || /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i.test(name) ||
    Buffer.byteLength(name) > 255
}

/**
 * `.samepage/tmp/names/`, made if missing, emptied of what a probe cut short left; null if it cannot be had (the
 * writes find out).
 */
async function probeDirectory (state: PassState): Promise<string | null> {
  const fs = state.fs
  const dir = path.join(state.root, WORK_AREA, 'tmp', 'names')
  try {
    await checkWorkArea(fs, state.root, WORK_AREA)
    await fs.mkdir(dir).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
    const st = await fs.lstat(dir)
    if (!st.isDirectory() || st.isSymbolicLink()) return null
    for (const left of await fs.readdir(dir, { withFileTypes: true })) {
      await fs.unlink(path.join(dir, left.name)).catch(() => {})
    }
    return dir
  } catch {
    return null
  }
}

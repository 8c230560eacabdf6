import fs from 'node:fs'
import path from 'node:path'
import { NodeError } from './errors.ts'

const LOCK_FILE = 'daemon.lock'

/**
 * One daemon per data directory (decision 6): a lock file holding the
 * daemon's pid, created exclusively. A lock left by a process that no longer
 * runs (SIGKILL, power loss) is taken over; a live one is refused with a
 * message that says which process holds it.
 */
export function lockDir (dir: string): () => void {
  const file = path.join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600)
      fs.writeSync(fd, String(process.pid))
      fs.closeSync(fd)
      return () => { try { if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file) } catch {} }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(fs.readFileSync(file, 'utf8'))
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        const hint = 'stop it first, or use another data directory'
        throw new NodeError('DIR_LOCKED', `${dir} is in use by another samepage daemon (pid ${pid}); ${hint}`)
      }
      fs.unlinkSync(file) // stale: its process is gone
    }
  }
  throw new NodeError('DIR_LOCKED', `could not lock ${dir}; check that nothing else creates ${file}`)
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// Run as pid 1 of a pid namespace of its own (test/node/dir-lock-older.test.ts): the pids there are this script's
// to hand out, through the namespace's ns_last_pid. Prints one JSON line: whether the pid came round, and how node
// Y's restart went.
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { BIN, ON_LOOPBACK, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

const root = tempRoot()
const out: { reused?: boolean, restartY?: string } = {}
try {
  const dirY = path.join(root, 'y')
  const y = await startDaemon(dirY)
  const pidY = y.child.pid as number
  y.child.kill('SIGKILL') // a power loss, the OOM killer: Y/daemon.lock stays, naming pidY
  await new Promise(resolve => y.child.once('exit', resolve))
  // The pid comes round again (a wrap, a reboot): node X's daemon, for another directory, gets it. A thread of this
  // process started in between would take it first: tried again, and the test checks that it came round.
  let x: Daemon | undefined
  for (let i = 0; i < 5 && x === undefined; i++) {
    fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pidY - 1))
    const d = await startDaemon(path.join(root, 'x'))
    if (d.child.pid === pidY) x = d
    else await stop(d)
  }
  out.reused = x !== undefined
  if (x !== undefined) {
    const again = await startDaemon(dirY) // refused, its first line (--json) is the error, and it exits
    if (typeof again.peerId === 'string') {
      out.restartY = 'started'
      await stop(again)
    } else { // once more without --json, to quote the refusal as a user reads it
      const r = spawnSync(process.execPath, [BIN, '--dir', dirY, 'start', ...ON_LOOPBACK], { encoding: 'utf8' })
      out.restartY = `refused (exit ${r.status}): ${r.stderr.trim()}`
    }
    await stop(x)
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
console.log(JSON.stringify(out))

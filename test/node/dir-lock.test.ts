import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { lockDir } from '../../src/node/dir-lock.ts'
import { hasCode } from '../../src/ids/index.ts'

/**
 * One daemon per data directory (node/dir-lock.ts): the lock is the
 * kernel's, so a process that died (SIGKILL, power loss) holds none, a pid
 * that now belongs to another process holds none, and of two processes
 * taking it at once exactly one gets it.
 */
const DIR_LOCK = path.join(import.meta.dirname, '..', '..', 'src', 'node', 'dir-lock.ts')

function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-dir-lock-'))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

function refusal (dir: string): Error {
  let unlock: (() => void) | undefined
  try {
    unlock = lockDir(dir)
  } catch (err) {
    assert.ok(hasCode(err, 'DIR_LOCKED'), String(err))
    return err as Error
  }
  unlock()
  assert.fail('the directory was locked twice')
}

test('a lock held by another process is refused with its pid, and is free once that process is SIGKILLed', async t => {
  const dir = tempDir(t)
  const holder = spawn(process.execPath, ['--input-type=module', '-e',
    `import { lockDir } from ${JSON.stringify(DIR_LOCK)}; lockDir(${JSON.stringify(dir)}); ` +
    'console.log("locked"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => { holder.kill('SIGKILL') })
  const [line] = await once(holder.stdout, 'data') as [Buffer]
  assert.equal(line.toString().trim(), 'locked')
  assert.equal(refusal(dir).message,
    `${dir} is in use by another samepage daemon (pid ${holder.pid}); stop it first, or use another data directory`)
  holder.kill('SIGKILL')
  await once(holder, 'exit')
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(holder.pid), 'its pid file stays')
  const unlock = lockDir(dir) // the kernel dropped the dead process's lock: nothing to take over
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.pid))
  unlock()
  assert.equal(fs.existsSync(path.join(dir, 'daemon.lock')), false, 'unlock removes the pid file')
})

test('a stale daemon.lock naming a pid some other live process has now (after a reboot) locks nothing', t => {
  const dir = tempDir(t)
  // The test runner's pid: alive, and no samepage daemon.
  fs.writeFileSync(path.join(dir, 'daemon.lock'), String(process.ppid), { mode: 0o600 })
  const unlock = lockDir(dir)
  assert.equal(fs.readFileSync(path.join(dir, 'daemon.lock'), 'utf8'), String(process.pid))
  unlock()
})

test('a second lock in the same process is refused; unlock frees the directory', t => {
  const dir = tempDir(t)
  const unlock = lockDir(dir)
  assert.match(refusal(dir).message, new RegExp(`in use by another samepage daemon \\(pid ${process.pid}\\)`))
  unlock()
  lockDir(dir)()
})

test('a second locker running between any two file system steps of the first: exactly one holds the lock', t => {
  const dir = tempDir(t)
  // Left by a daemon that died: the case where a lock used to be taken over by read, unlink and create.
  fs.writeFileSync(path.join(dir, 'daemon.lock'), '2147483646', { mode: 0o600 })
  const names = ['openSync', 'readFileSync', 'unlinkSync', 'writeSync', 'closeSync', 'renameSync', 'rmSync', 'fsyncSync']
  const mutable = fs as unknown as Record<string, (...args: unknown[]) => unknown>
  const real = Object.fromEntries(names.map(n => [n, mutable[n]]))
  for (let k = 0; ; k++) {
    let calls = 0
    let second: (() => void) | Error | undefined
    for (const n of names) {
      mutable[n] = (...args: unknown[]) => {
        if (calls++ === k) {
          for (const m of names) mutable[m] = real[m] as (...args: unknown[]) => unknown
          try { second = lockDir(dir) } catch (err) { second = err as Error }
        }
        return (real[n] as (...a: unknown[]) => unknown).apply(fs, args)
      }
    }
    let first: (() => void) | Error
    try { first = lockDir(dir) } catch (err) { first = err as Error } finally {
      for (const n of names) mutable[n] = real[n] as (...args: unknown[]) => unknown
    }
    const holders = [first, second].filter(l => typeof l === 'function')
    if (second === undefined) { // the first locker made fewer than k + 1 calls: every interleaving was tried
      assert.ok(k > 0, 'the first locker touched the file system')
      assert.equal(holders.length, 1)
      holders[0]?.()
      break
    }
    assert.equal(holders.length, 1, `with the second locker at step ${k} of the first: ${String(first)}, ${String(second)}`)
    holders[0]?.()
  }
})

test('a lock file or pid file that is a directory: refused, naming the file and what to do; nothing held', t => {
  for (const name of ['daemon.lock.db', 'daemon.lock']) {
    const dir = tempDir(t)
    fs.mkdirSync(path.join(dir, name))
    const err = refusal(dir)
    assert.ok(err.message.startsWith(`could not lock ${dir}: ${path.join(dir, name)} `), err.message)
    assert.match(err.message, /move (it|\S+) away/)
    fs.rmSync(path.join(dir, name), { recursive: true })
    lockDir(dir)()
  }
})

test('the lock file is the user\'s alone (0600) in a directory others can enter: nobody else can hold a lock on it', t => {
  // Made with the umask's 0644 in a 755 directory, any local user could open it and hold a shared lock, and no daemon
  // would start (a review's probe).
  const dir = tempDir(t)
  fs.chmodSync(dir, 0o755)
  const umask = process.umask(0o022)
  try {
    lockDir(dir)()
  } finally {
    process.umask(umask)
  }
  assert.equal(fs.statSync(path.join(dir, 'daemon.lock.db')).mode & 0o777, 0o600)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { lockDir } from '../../src/node/dir-lock.ts'
import { hasCode } from '../../src/ids/index.ts'

/**
 * dir-lock.ts's fallback for daemons of the version before the kernel lock, which hold only `D/daemon.lock`: a
 * process named there counts as D's holder only if it is a `samepage start` whose data directory is D (its --dir,
 * else SAMEPAGE_HOME, else HOME's .samepage) and it holds no kernel lock of its own. A daemon SIGKILLed leaves its
 * pid there; when that pid came round to another node's daemon, the killed node refused to start, telling the user
 * to stop the other node (review J3); so did a copy of a running node's directory.
 */
const DIR_LOCK = path.join(import.meta.dirname, '..', '..', 'src', 'node', 'dir-lock.ts')
/** An earlier version's daemon as /proc shows one: `... samepage start ARGS`, its pid written to argv[1]. */
const OLDER = 'require("node:fs").writeFileSync(process.argv[1], String(process.pid), { flag: "wx" }); ' +
  'console.log("ready"); setInterval(() => {}, 1000)'
/** A daemon of this version: holds the kernel lock on argv[1]. */
const CURRENT = `import { lockDir } from ${JSON.stringify(DIR_LOCK)}; lockDir(process.argv[1]); ` +
  'console.log("ready"); setInterval(() => {}, 1000)'

function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-dir-lock-older-')))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

interface Holder { readonly child: ChildProcess, readonly pid: number }

/** A process running `code` with `arg` then `samepage start ARGS`, once it says it is ready. */
async function holder (t: { after: (fn: () => void) => void }, code: string, arg: string, args: readonly string[],
  opts: { cwd?: string | undefined, env?: Record<string, string> | undefined } = {}): Promise<Holder> {
  const node = code === CURRENT ? ['--input-type=module', '-e', code] : ['-e', code]
  const child = spawn(process.execPath, [...node, arg, 'samepage', 'start', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: opts.cwd, env: opts.env ?? { HOME: '/nonexistent' } })
  t.after(() => { child.kill('SIGKILL') })
  const [line] = await once(child.stdout, 'data') as [Buffer]
  assert.equal(line.toString().trim(), 'ready')
  return { child, pid: child.pid as number }
}

async function end (h: Holder): Promise<void> {
  h.child.kill('SIGKILL')
  await once(h.child, 'exit')
}

/** lockDir(dir)'s refusal, or null when it locked (then unlocked again). */
function refusal (dir: string): string | null {
  try {
    lockDir(dir)()
    return null
  } catch (err) {
    assert.ok(hasCode(err, 'DIR_LOCKED'), String(err))
    return (err as Error).message
  }
}

test('a live `samepage start` named in daemon.lock is refused as an earlier version only if its directory is this one',
  async t => {
    const root = tempDir(t)
    const home = path.join(root, 'home')
    const dir = path.join(home, '.samepage')
    const other = path.join(root, 'other')
    fs.mkdirSync(dir, { recursive: true })
    fs.mkdirSync(other)
    fs.symlinkSync(dir, path.join(root, 'link'))
    const pidFile = path.join(dir, 'daemon.lock')
    const cases: Array<{ args: string[], env?: Record<string, string>, cwd?: string, refused: boolean }> = [
      { args: ['--dir', dir], refused: true },
      { args: [`--dir=${dir}`], refused: true },
      { args: ['--dir', path.join(root, 'link')], refused: true },
      { args: ['--dir', 'home/.samepage'], cwd: root, refused: true },
      { args: ['--dir', '../home/./.samepage'], cwd: other, refused: true },
      { args: [], env: { SAMEPAGE_HOME: dir }, refused: true },
      { args: [], env: { HOME: home }, refused: true },
      { args: [], env: { HOME: home, SAMEPAGE_HOME: '' }, refused: true },
      { args: ['--dir', other], refused: false },
      { args: ['--dir', dir, '--dir', other], refused: false },
      { args: ['--dir', path.join(root, 'gone')], refused: false },
      { args: ['--dir', '.samepage'], cwd: root, refused: false },
      { args: [], env: { HOME: home, SAMEPAGE_HOME: other }, refused: false },
      { args: [], env: { HOME: root }, refused: false },
      { args: [], refused: false } // HOME is /nonexistent
    ]
    for (const c of cases) {
      const what = JSON.stringify(c)
      const old = await holder(t, OLDER, pidFile, c.args, { cwd: c.cwd, env: c.env })
      const message = refusal(dir)
      if (c.refused) {
        assert.equal(message, `${dir} is in use by another samepage daemon (pid ${old.pid}, an earlier version); ` +
          'stop it first, or use another data directory; ' +
          `if pid ${old.pid} is not a samepage daemon of ${dir}, remove ${pidFile}`, what)
        assert.equal(fs.readFileSync(pidFile, 'utf8'), String(old.pid), `its pid file is left as it was: ${what}`)
        await end(old)
        assert.equal(refusal(dir), null, `locked once it has ended: ${what}`) // the unlock removes the pid file
      } else {
        assert.equal(message, null, what)
        await end(old)
      }
      assert.equal(fs.existsSync(pidFile), false)
    }
  })

test('a daemon of this version never counts as an earlier one: a copy of its directory, or one put in its place',
  async t => {
    const root = tempDir(t)
    const dir = path.join(root, 'a')
    fs.mkdirSync(dir)
    const running = await holder(t, CURRENT, dir, ['--dir', dir])
    const copy = path.join(root, 'copy')
    fs.cpSync(dir, copy, { recursive: true })
    assert.equal(fs.readFileSync(path.join(copy, 'daemon.lock'), 'utf8'), String(running.pid))
    assert.equal(refusal(copy), null, 'the copy, whose daemon.lock names the running original')
    // Moved aside and a copy put back (a restore over a running node's directory): the process's --dir is the path
    // of this directory now, but it is a daemon of this version, and the kernel lock on this one is free.
    fs.renameSync(dir, path.join(root, 'a.old'))
    fs.cpSync(path.join(root, 'a.old'), dir, { recursive: true })
    assert.equal(refusal(dir), null, 'the directory put in place of the running one')
    const held = refusal(path.join(root, 'a.old')) ?? ''
    assert.match(held, new RegExp(`in use by another samepage daemon \\(pid ${running.pid}\\);`), 'its own is held')
    await end(running)
  })

function pidNamespaceSkip (): string | false {
  if (process.getuid?.() !== 0) return 'needs root (a pid namespace of its own: unshare --pid)'
  try {
    execFileSync('sh', ['-c', 'command -v unshare'], { stdio: 'pipe' })
  } catch {
    return 'needs unshare (apt-get install util-linux)'
  }
  return false
}

test('a SIGKILLed node starts again although its old pid now belongs to another node\'s daemon',
  { skip: pidNamespaceSkip(), timeout: 300_000 }, () => {
    // Deterministic: in a pid namespace of its own, the helper (pid 1 there) hands the killed daemon's pid to the
    // next daemon it starts, node X's, through the namespace's ns_last_pid.
    const helper = path.join(import.meta.dirname, '..', 'helpers', 'pid-reuse.ts')
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, helper], { encoding: 'utf8' })
    const line = r.stdout.trim().split('\n').pop() ?? ''
    let out: { reused?: boolean, restartY?: string }
    try { out = JSON.parse(line) } catch { throw new Error(`helper failed (${r.status}): ${r.stdout}\n${r.stderr}`) }
    assert.equal(out.reused, true, `setup: the pid did not come round to node X: ${line}`)
    assert.equal(out.restartY, 'started', `node Y's restart was refused: ${out.restartY}`)
  })

import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'

/**
 * Real daemons and real CLI invocations, as a user runs them: each daemon is
 * `samepage start` in its own process on 127.0.0.1; each command is a
 * separate `samepage … --json` process.
 */
export const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'samepage.js')

export interface Daemon {
  readonly dir: string
  readonly peerId: string
  readonly addrs: string[]
  child: ChildProcess
}

export function tempRoot (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-e2e-'))
}

/**
 * `prefix` runs the daemon through another command, e.g. ['ip', 'netns', 'exec', NS] for a network namespace;
 * `entry` is the script run instead of the CLI (a test daemon with a fault injected, test/helpers/).
 * On this machine's own network (no prefix) a daemon is kept to 127.0.0.1 and ports the system chooses
 * (ON_LOOPBACK) unless the test says where: never all interfaces, never the fixed default ports that
 * tests running side by side would fight over. In a namespace of the test's own, the defaults are the test's.
 */
export async function startDaemon (dir: string, extra: string[] = [], prefix: readonly string[] = [], entry = BIN): Promise<Daemon> {
  const pinned = prefix.length > 0 ? [] : onLoopback(extra)
  const [cmd, ...args] = [...prefix, process.execPath, entry, '--dir', dir, '--json', 'start', ...pinned, ...extra] as [string, ...string[]]
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! })
    const timer = setTimeout(() => reject(new Error(`daemon in ${dir} did not start: ${stderr}`)), SAFETY_NET_MS)
    lines.once('line', line => { clearTimeout(timer); resolve(line) })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`daemon in ${dir} exited with ${code}: ${stderr}`)) })
  })
  const info = JSON.parse(first) as { peerId: string, addrs: string[] }
  return { dir, peerId: info.peerId, addrs: info.addrs, child }
}

/** `samepage start`'s flags that keep a daemon on 127.0.0.1 at ports the system chooses. */
export const ON_LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'] as const

/** The ON_LOOPBACK flags that `extra` does not give itself. */
function onLoopback (extra: readonly string[]): string[] {
  return [
    ...extra.includes('--listen') ? [] : ON_LOOPBACK.slice(0, 2),
    ...extra.includes('--api') ? [] : ON_LOOPBACK.slice(2)
  ]
}

export interface CliResult { code: number, json: any, stdout: string, stderr: string }

export function cli (dir: string, ...args: string[]): CliResult {
  return cliVia([], dir, ...args)
}

/** cli through another command (see startDaemon). */
export function cliVia (prefix: readonly string[], dir: string, ...args: string[]): CliResult {
  const [cmd, ...rest] = [...prefix, process.execPath, BIN, '--dir', dir, '--json', ...args] as [string, ...string[]]
  const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: SAFETY_NET_MS })
  let json: unknown
  try { json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') } catch { json = undefined }
  return { code: r.status ?? -1, json, stdout: r.stdout, stderr: r.stderr }
}

/** Like cli, but fails loudly when the command fails. */
export function ok (dir: string, ...args: string[]): any {
  const r = cli(dir, ...args)
  if (r.code !== 0) throw new Error(`samepage ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.json
}

/**
 * Sends `signal` and waits for the daemon to exit. A daemon that has not exited SAFETY_NET_MS later is killed
 * (SIGKILL) and the test fails, naming it: a daemon that does not stop is a defect to see, and a wait without
 * end would hold the whole suite until CI's own limit (it did once, 86 minutes, in the mDNS test).
 */
export async function stop (d: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return
  let stderr = ''
  d.child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000) })
  const exited = new Promise<boolean>(resolve => d.child.once('exit', () => { resolve(true) }))
  d.child.kill(signal)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>(resolve => { timer = setTimeout(() => { resolve(false) }, SAFETY_NET_MS) })
  const inTime = await Promise.race([exited, late])
  clearTimeout(timer)
  if (inTime) return
  d.child.kill('SIGKILL')
  await exited
  throw new Error(`daemon ${d.child.pid} in ${d.dir} had not exited ${SAFETY_NET_MS / 1000} s after ${signal}; ` +
    `killed. Its last stderr: ${stderr}`)
}

/**
 * A wait's limit is a safety net, never a race: a loaded machine (load 4-10
 * on 2 cores) makes every step several times slower, so no wait gives up
 * before this, whatever its caller asked. A test that passes returns as soon
 * as its condition holds; only a broken one pays the full limit.
 */
export const SAFETY_NET_MS = 180_000

/** Polls until `check` holds (bounded by at least SAFETY_NET_MS); throws with the last value otherwise. */
export async function eventually<T> (what: string, probe: () => T | Promise<T>, check: (v: T) => boolean, timeoutMs = SAFETY_NET_MS): Promise<T> {
  const until = Date.now() + Math.max(timeoutMs, SAFETY_NET_MS)
  let last: T = await probe()
  while (!check(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 500)}`)
    await new Promise(r => setTimeout(r, 200))
    last = await probe()
  }
  return last
}

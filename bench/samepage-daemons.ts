import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'

/**
 * samepage daemons for the folder benchmarks, as a user runs them
 * (`samepage start` in its own process on 127.0.0.1), driven over the local
 * HTTP API directly (a CLI process per poll would cost more than a poll).
 */
const BIN = path.join(import.meta.dirname, '..', 'bin', 'samepage.js')
/** A GET that meets a connection error is sent again, at most this many times in all. */
const GET_ATTEMPTS = 5

export interface Daemon {
  readonly dir: string
  readonly folder: string
  readonly peerId: string
  readonly addrs: string[]
  readonly child: ChildProcess
  readonly pid: number
  call (method: string, pathname: string, body?: unknown): Promise<any>
}

export async function startDaemon (dir: string, folder: string, extra: string[] = []): Promise<Daemon> {
  fs.mkdirSync(folder, { recursive: true })
  // On 127.0.0.1 at ports the system chooses: never all interfaces, never the fixed defaults (runs side by side).
  // A bench may say where to listen (another loopback address, bench/relay.ts).
  const pinned = [...extra.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0'], '--api', '127.0.0.1:0']
  const args = [BIN, '--dir', dir, '--json', 'start', ...pinned, ...extra]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! })
    const timer = setTimeout(() => reject(new Error(`daemon in ${dir} did not start: ${stderr}`)), 30_000)
    lines.once('line', line => { clearTimeout(timer); resolve(line) })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`daemon in ${dir} exited with ${code}: ${stderr}`)) })
  })
  const info = JSON.parse(first) as { peerId: string, addrs: string[] }
  const api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as { url: string, token: string }
  const call = async (method: string, pathname: string, body?: unknown): Promise<any> => {
    for (let attempt = 1; ; attempt++) {
      let res: Response
      let payload: { error?: { message: string } }
      try {
        res = await fetch(api.url + pathname, {
          method,
          headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
        payload = await res.json() as { error?: { message: string } }
      } catch (err) {
        // A poll that met a closed keep-alive socket (the bench process busy past the server's idle timeout) is
        // asked again; a POST is not (it may have taken effect), nor anything once the daemon is gone.
        const gone = child.exitCode !== null || child.signalCode !== null
        if (method !== 'GET' || gone || attempt >= GET_ATTEMPTS || !(err instanceof TypeError)) {
          const cause = (err as { cause?: { code?: string } }).cause?.code
          throw new Error(`${method} ${pathname} on the daemon in ${dir}: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}`)
        }
        await new Promise(resolve => setTimeout(resolve, 500 * attempt))
        continue
      }
      if (!res.ok) throw new Error(`${method} ${pathname}: ${payload.error?.message ?? res.status}`)
      return payload
    }
  }
  return { dir, folder, peerId: info.peerId, addrs: info.addrs, child, pid: child.pid as number, call }
}

export async function stopDaemon (d: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return
  const exited = new Promise(resolve => d.child.once('exit', resolve))
  d.child.kill(signal)
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** A space on the first daemon, joined as writer by the others, bound to each one's folder. */
export async function shareFolder (nodes: readonly Daemon[], name: string): Promise<string> {
  const [first, ...rest] = nodes as [Daemon, ...Daemon[]]
  const space = (await first.call('POST', '/v1/spaces', { name })).id as string
  await first.call('POST', '/v1/folders', { space, path: first.folder })
  for (const n of rest) {
    const { token } = await first.call('POST', `/v1/spaces/${space}/invites`, { role: 'writer' })
    await n.call('POST', '/v1/join', { token })
    await until(`${n.dir} is a writer`, async () => ((await n.call('GET', '/v1/spaces')) as any[]).some(s => s.id === space && s.role === 'writer'), 30_000)
    await n.call('POST', '/v1/folders', { space, path: n.folder })
  }
  return space
}

/** Until every daemon holds `files` files of `bytes` in all, with nothing left to fetch; ms from the call. */
export async function waitSynced (nodes: readonly Daemon[], space: string, expect: { files: number, bytes: number }, timeoutMs = 600_000): Promise<number> {
  const started = performance.now()
  await until('in sync', async () => {
    for (const n of nodes) {
      const s = (await n.call('GET', `/v1/spaces/${space}/folder`)).status
      if (s.localFiles !== expect.files || s.localBytes !== expect.bytes || s.needFiles !== 0 || s.state !== 'idle') return false
    }
    return true
  }, timeoutMs, 50)
  return performance.now() - started
}

/** Bytes received over the wire, all protocols: file chunks, and the sync session's records, announcements and status. */
export async function wireBytesIn (d: Daemon): Promise<number> {
  const { blocks, sync } = await d.call('GET', '/v1/stats')
  return blocks.bytesIn + Object.values(sync.bytesIn as Record<string, number>).reduce((n, v) => n + v, 0)
}

export async function until (what: string, ok: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await ok()) {
    if (Date.now() > deadline) throw new Error(`bench: not ${what} within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

/**
 * Debian's Syncthing (1.19) as a comparison baseline: N instances on
 * 127.0.0.1, each with its own home, wired to each other by static address
 * and sharing one folder. Everything that would reach beyond this machine
 * (discovery, relays, NAT traversal, STUN, usage and crash reporting,
 * upgrades) is off in config.xml before the first start, so not even
 * start-up talks to the internet.
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface SyncthingNode {
  home: string
  folder: string
  deviceId: string
  guiPort: number
  apiKey: string
  listenPort: number
  child: ChildProcess
  pid: number
}

const BINARY = '/usr/bin/syncthing'
const DEFAULT_FOLDER_ID = 'bench'
// Generous: right after a transfer, a capped node can take a while to take a new device in.
const START_LIMIT_MS = 120_000
const POLL_MS = 100
const KILL_AFTER_MS = 10_000
/** A REST call meeting a connection error is sent again, after 0.5, 1, 1.5 and 2 s: bounded, 5 s in all. */
const API_ATTEMPTS = 5
const API_RETRY_MS = 500
/** Syncthing counts every directory, symlink and deletion record as 128 bytes in its byte totals. */
const SYNTHETIC_ENTRY_BYTES = 128

/**
 * Starts N instances under `root` (created if missing). `maxSendKbps[i]`
 * caps node i's total upload in KiB/s (0 or missing: no cap). Returns once
 * each REST API answers.
 */
export async function startSyncthings (root: string, n: number, opts: { maxSendKbps?: number[] } = {}): Promise<SyncthingNode[]> {
  ensureSyncthing()
  fs.mkdirSync(root, { recursive: true })
  const ports = await freePorts(2 * n)
  const nodes: SyncthingNode[] = []
  try {
    for (let i = 0; i < n; i++) {
      const home = path.join(root, `st${i}`, 'home')
      const folder = path.join(root, `st${i}`, 'folder')
      fs.mkdirSync(folder, { recursive: true })
      run(['generate', '--home', home, '--no-default-folder', '--skip-port-probing'])
      const deviceId = run(['serve', '--home', home, '--device-id']).trim()
      const guiPort = ports[2 * i]!
      const listenPort = ports[2 * i + 1]!
      const apiKey = randomBytes(24).toString('base64url')
      writeConfig(home, { guiPort, listenPort, apiKey, maxSendKbps: opts.maxSendKbps?.[i] ?? 0 })
      const log = fs.openSync(path.join(home, 'syncthing.log'), 'a')
      // Even with --no-restart, 1.19 runs a monitor that forks the real Syncthing; STMONITORED says "you are
      // the inner process", so pid is the one that syncs (and the monitor's crash reporter never runs).
      const child = spawn(BINARY, ['serve', '--home', home, '--no-browser', '--no-upgrade', '--logflags=3'], {
        env: { ...process.env, STMONITORED: 'yes', STNOUPGRADE: '1', STNODEFAULTFOLDER: '1' },
        stdio: ['ignore', log, log]
      })
      fs.closeSync(log)
      nodes.push({ home, folder, deviceId, guiPort, apiKey, listenPort, child, pid: child.pid! })
    }
    await Promise.all(nodes.map(waitReady))
  } catch (err) {
    await stopSyncthings(nodes)
    throw err
  }
  return nodes
}

/**
 * Makes every node a device of every other and shares one folder among all
 * of them. Returns once every pair is connected and each has the folder
 * (not once all are idle: with data already in the folder, that would be
 * the sync itself, which the caller times).
 */
export async function shareFolder (nodes: SyncthingNode[], folderId: string = DEFAULT_FOLDER_ID): Promise<void> {
  // Of each pair, the later node dials the earlier, and only once the earlier knows it. A node dialled by one it does
  // not know yet turns it away ("unknown device"), and the dialler tried again ~20 s later: given every address at
  // once, the first node dialled the others before they had taken it in, and 2 of 5 runs of the fan-out spent those
  // 20 s in share() (Syncthing 32-40 s instead of ~11; 8 of 8 runs at 11.1-12.1 s since). Without an address
  // (discovery is off: config.xml) a device is never dialled, only answered.
  const device = (peer: SyncthingNode, address: string): Record<string, unknown> => ({
    deviceID: peer.deviceId,
    name: `st${nodes.indexOf(peer)}`,
    addresses: [address],
    introducer: false,
    autoAcceptFolders: false
  })
  for (const [k, node] of nodes.entries()) {
    for (const peer of nodes.slice(k + 1)) await api(node, 'POST', '/rest/config/devices', device(peer, 'dynamic'))
  }
  for (const [k, node] of nodes.entries()) {
    for (const peer of nodes.slice(0, k)) {
      await api(node, 'POST', '/rest/config/devices', device(peer, `tcp://127.0.0.1:${peer.listenPort}`))
    }
  }
  await Promise.all(nodes.map(async node => {
    await api(node, 'POST', '/rest/config/folders', {
      id: folderId,
      label: folderId,
      path: node.folder,
      type: 'sendreceive',
      devices: nodes.map(peer => ({ deviceID: peer.deviceId })),
      fsWatcherEnabled: true,
      fsWatcherDelayS: 1,
      rescanIntervalS: 86_400
    })
  }))
  await until(performance.now() + START_LIMIT_MS, `folder ${folderId} shared and all connected`, async () => {
    const ready = await Promise.all(nodes.map(async node => {
      const [conns, status] = await Promise.all([
        api<Connections>(node, 'GET', '/rest/system/connections'),
        api<FolderStatus>(node, 'GET', `/rest/db/status?folder=${encodeURIComponent(folderId)}`)
      ])
      // Connected, and the folder set up (not necessarily idle: with data already in it, idle would mean synced).
      return status.state !== '' && nodes.every(peer => peer === node || conns.connections[peer.deviceId]?.connected === true)
    }))
    return ready.every(Boolean)
  })
}

/**
 * Resolves when every node holds the whole folder: idle, needing nothing,
 * local totals equal to global ones, and each other node 100 % complete as
 * this one sees it. `expectBytes` (file content, directories not counted)
 * and `expectFiles` are the totals the folder must reach, so that a call
 * right after writing does not see the old state as done. Returns ms from
 * the call.
 */
export async function waitSynced (nodes: SyncthingNode[], opts: { folderId?: string, expectBytes?: number, expectFiles?: number, timeoutMs?: number } = {}): Promise<number> {
  const started = performance.now()
  const folder = encodeURIComponent(opts.folderId ?? DEFAULT_FOLDER_ID)
  // A scan now rather than after the watcher's delay; it returns once the scan is done.
  await Promise.all(nodes.map(async node => { await api(node, 'POST', `/rest/db/scan?folder=${folder}`) }))
  await until(started + (opts.timeoutMs ?? 10 * 60_000), `folder ${folder} in sync`, async () => {
    const synced = await Promise.all(nodes.map(async node => {
      const s = await api<FolderStatus>(node, 'GET', `/rest/db/status?folder=${folder}`)
      const contentBytes = s.globalBytes - SYNTHETIC_ENTRY_BYTES * (s.globalDirectories + s.globalSymlinks + s.globalDeleted)
      if (s.state !== 'idle' || s.needBytes !== 0 || s.needTotalItems !== 0) return false
      if (s.localBytes !== s.globalBytes || s.localFiles !== s.globalFiles) return false
      if (opts.expectBytes !== undefined && contentBytes !== opts.expectBytes) return false
      if (opts.expectFiles !== undefined && s.globalFiles !== opts.expectFiles) return false
      for (const peer of nodes) {
        if (peer === node) continue
        const c = await api<Completion>(node, 'GET', `/rest/db/completion?folder=${folder}&device=${peer.deviceId}`)
        if (c.completion !== 100 || c.needBytes !== 0) return false
      }
      return true
    }))
    return synced.every(Boolean)
  })
  return performance.now() - started
}

/** Bytes in and out over all of a node's connections since it started. */
export async function connectionBytes (node: SyncthingNode): Promise<{ inBytes: number, outBytes: number }> {
  const { total } = await api<Connections>(node, 'GET', '/rest/system/connections')
  return { inBytes: total.inBytesTotal, outBytes: total.outBytesTotal }
}

/** SIGTERM to each node, SIGKILL to any still running after 10 s; resolves when all have exited. */
export async function stopSyncthings (nodes: SyncthingNode[]): Promise<void> {
  await Promise.all(nodes.map(async ({ child }) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS)
    await exited
    clearTimeout(timer)
  }))
}

interface FolderStatus {
  state: string
  needBytes: number
  needTotalItems: number
  globalBytes: number
  globalFiles: number
  globalDirectories: number
  globalSymlinks: number
  globalDeleted: number
  localBytes: number
  localFiles: number
}
interface Completion { completion: number, needBytes: number }
interface Connections {
  total: { inBytesTotal: number, outBytesTotal: number }
  connections: Record<string, { connected: boolean }>
}

function ensureSyncthing (): void {
  if (fs.existsSync(BINARY)) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = (): ReturnType<typeof spawnSync> => spawnSync('apt-get', ['install', '-y', 'syncthing'], { env, encoding: 'utf8' })
  let result = install()
  if (result.status !== 0) {
    // A fresh machine has no package lists yet.
    spawnSync('apt-get', ['update'], { env, encoding: 'utf8' })
    result = install()
  }
  if (result.status !== 0 || !fs.existsSync(BINARY)) {
    throw new Error(`syncthing: apt-get install -y syncthing failed: ${String(result.stderr).trim().split('\n').slice(-3).join(' ')}`)
  }
}

function run (args: string[]): string {
  const result = spawnSync(BINARY, args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`syncthing ${args.join(' ')}: ${result.stderr.trim()}`)
  return result.stdout
}

/** Distinct free ports: all held open at once, then released together. */
async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
    return server
  }))
  const ports = servers.map(s => (s.address() as net.AddressInfo).port)
  await Promise.all(servers.map(async s => { await new Promise(resolve => s.close(resolve)) }))
  return ports
}

/** Edits the config that `generate` wrote, before any start. */
function writeConfig (home: string, c: { guiPort: number, listenPort: number, apiKey: string, maxSendKbps: number }): void {
  const file = path.join(home, 'config.xml')
  let xml = fs.readFileSync(file, 'utf8')
  xml = editBlock(xml, 'gui', { address: `127.0.0.1:${c.guiPort}`, apikey: c.apiKey })
  xml = editBlock(xml, 'options', {
    listenAddress: `tcp://127.0.0.1:${c.listenPort}`,
    globalAnnounceEnabled: 'false',
    localAnnounceEnabled: 'false',
    relaysEnabled: 'false',
    natEnabled: 'false',
    // STUN serves only QUIC listeners, of which there are none; 0 also stops its keep-alives.
    stunKeepaliveStartS: '0',
    urAccepted: '-1',
    crashReportingEnabled: 'false',
    autoUpgradeIntervalH: '0',
    startBrowser: 'false',
    // Redial a peer that was down after 5 s (the least Syncthing accepts) rather than 60.
    reconnectionIntervalS: '5',
    maxSendKbps: String(c.maxSendKbps),
    // Loopback counts as LAN, where rate limits do not apply unless this is on.
    limitBandwidthInLan: 'true',
    // Otherwise Syncthing renices itself, which would handicap it against the other side of a comparison.
    setLowPriority: 'false'
  })
  fs.writeFileSync(file, xml)
}

/** Sets the text of each named child element inside the first `<block>`; each must already be there once. */
function editBlock (xml: string, block: string, values: Record<string, string>): string {
  const match = new RegExp(`<${block}[ >][\\s\\S]*?</${block}>`).exec(xml)
  if (match === null) throw new Error(`syncthing config.xml: no <${block}>`)
  let inner = match[0]
  for (const [tag, value] of Object.entries(values)) {
    const element = new RegExp(`<${tag}>[^<]*</${tag}>`)
    if (!element.test(inner)) throw new Error(`syncthing config.xml: no <${tag}> in <${block}>`)
    inner = inner.replace(element, `<${tag}>${value}</${tag}>`)
  }
  return xml.slice(0, match.index) + inner + xml.slice(match.index + match[0].length)
}

async function waitReady (node: SyncthingNode): Promise<void> {
  await until(performance.now() + START_LIMIT_MS, `syncthing in ${node.home} answering`, async () => {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`syncthing in ${node.home} exited (${node.child.exitCode ?? node.child.signalCode}); see ${path.join(node.home, 'syncthing.log')}`)
    }
    try {
      const status = await api<{ myID: string }>(node, 'GET', '/rest/system/status', undefined, 1)
      return status.myID === node.deviceId
    } catch {
      return false // not listening yet
    }
  })
}

/** Polls `done` until it holds; throws once performance.now() passes `deadline`. */
async function until (deadline: number, what: string, done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`syncthing: timed out waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

/**
 * One REST call, retried a bounded number of times on a connection error.
 * A loaded run once failed here with a bare `fetch failed`: Go's server
 * closes a keep-alive connection after 15 s idle (Syncthing's ReadTimeout,
 * its IdleTimeout too), and a bench process kept busy longer than that
 * (copying 4 GiB for the swarm under load, synchronously then) sent the
 * next request down the closed socket before it had seen the close. Every
 * call here may be repeated (config POSTs add or replace; a scan is a scan),
 * so a request that met a closed, refused or reset connection is sent again
 * on a fresh one. HTTP errors are not retried.
 */
async function api<T = unknown> (node: SyncthingNode, method: string, route: string, body?: unknown, attempts = API_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let res: Response
    let text: string
    try {
      res = await fetch(`http://127.0.0.1:${node.guiPort}${route}`, {
        method,
        headers: { 'X-API-Key': node.apiKey, 'Content-Type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body)
      })
      text = await res.text()
    } catch (err) {
      const cause = (err as { cause?: { code?: string, message?: string } }).cause
      const why = `${(err as Error).message} (${cause?.code ?? cause?.message ?? 'no cause'})`
      const exited = node.child.exitCode !== null || node.child.signalCode !== null
      if (exited || attempt >= attempts) {
        const state = exited ? `exited (${node.child.exitCode ?? node.child.signalCode})` : `${attempt} attempts`
        throw new Error(`syncthing ${method} ${route} on :${node.guiPort}: ${why}; ${state}; see ${path.join(node.home, 'syncthing.log')}`)
      }
      await sleep(API_RETRY_MS * attempt)
      continue
    }
    if (!res.ok) throw new Error(`syncthing ${method} ${route} on :${node.guiPort}: ${res.status} ${text.trim()}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }
}

import os from 'node:os'
import path from 'node:path'
import { Command, CommanderError } from 'commander'
import { SamepageError } from '../ids/index.ts'
import { ApiClient, CliError } from './client.ts'
import { parseDuration } from './duration.ts'
import type { StartFlags } from './start.ts'
import { folderLine, folderReport, watchFolder } from './folder-view.ts'
import type { ConflictInfo, FolderInfo } from './folder-view.ts'
import { bytes, isoTime } from '../api/index.ts'
import { alertsText, netText, statusText } from './net-view.ts'
import type { NetworkMap, StatusView } from './net-view.ts'

/**
 * samepage's command line. Every command but `init` and `start` talks to
 * the running daemon of its data directory through the local API. `--json`
 * on every command prints machine-readable output; a bad input prints one
 * line saying what to do and exits non-zero (2 for usage, 1 otherwise).
 *
 * A client command loads only commander, this folder's views and api/'s
 * light index: what needs more (the daemon: node/, libp2p, SQLite; the key:
 * libsodium, a native addon; the codec) is imported inside the one action
 * that uses it, so that a command answers in a fraction of a second
 * (test/cli/client-loads.test.ts holds this).
 */
const program = new Command('samepage')
  .description('keep data the same on every node of a peer-to-peer network')
  .option('--dir <dir>', 'data directory (default: $SAMEPAGE_HOME or ~/.samepage)')
  .option('--json', 'machine-readable output', false)
  .exitOverride()
  .configureOutput({ writeErr: text => process.stderr.write(text.split('\n')[0] + '\n') })
  .showHelpAfterError(false)

const g = (): { dir: string, json: boolean } => {
  const o = program.opts<{ dir?: string, json: boolean }>()
  const dir = o.dir ?? process.env.SAMEPAGE_HOME ?? path.join(os.homedir(), '.samepage')
  return { dir: path.resolve(dir), json: o.json }
}
const api = (): ApiClient => new ApiClient(g().dir)
const out = (json: unknown, text: () => string): void => { console.log(g().json ? JSON.stringify(json) : text()) }
const collect = (v: string, acc: string[]): string[] => [...acc, v]
const enc = encodeURIComponent

program.command('init').description('create a data directory and its node key').action(async () => {
  const { loadOrCreateIdentity, peerIdOf } = await import('../identity/index.ts')
  const key = loadOrCreateIdentity(g().dir)
  out({ peerId: peerIdOf(key.publicKey), dir: g().dir }, () => `node ${peerIdOf(key.publicKey)} in ${g().dir}`)
})

program.command('start').description('run the node in the foreground (Ctrl-C stops it)')
  .option('--listen <multiaddr>', 'address to listen on (repeatable; default TCP 4815 on all interfaces)', collect, [])
  .option('--peer <multiaddr>', 'peer to connect to and keep connected (repeatable)', collect, [])
  .option('--api <host:port>', 'address of the local API (default 127.0.0.1:4816)')
  .option('--mdns', 'find peers on the local network by multicast DNS (off by default)')
  .option('--max-up <rate>', 'limit file data sent to peers, like 10MB (bytes per second, all peers together)')
  .option('--max-down <rate>', 'limit file data received from peers, like 50MB')
  .action(async (o: StartFlags) => {
    const [{ startDaemon }, { NodeError }] = await Promise.all([import('./start.ts'), import('../node/index.ts')])
    try {
      await startDaemon({ ...g(), ...o })
    } catch (err) {
      // The daemon's errors keep their code (DIR_LOCKED, BAD_CONFIG, ...) in --json, as the API's do.
      throw err instanceof NodeError ? new CliError(err.message, 1, err.code) : err
    }
  })

program.command('id').description('this node\'s peer id and addresses').action(async () => {
  const r = await api().call('GET', '/v1/id') as { peerId: string, addrs: string[] }
  out(r, () => [r.peerId, ...r.addrs].join('\n'))
})

program.command('peers').description('connected peers').action(async () => {
  type Peer = { peerId: string, addrs: string[], rttMs: number | null, relayedBy: string | null }
  const r = await api().call('GET', '/v1/peers') as Peer[]
  const line = (p: Peer): string => `${p.peerId}  ${p.relayedBy === null ? 'direct' : `relayed by ${p.relayedBy}`}  ` +
    `${p.addrs.join(' ')}${p.rttMs === null ? '' : `  ${p.rttMs} ms`}`
  out(r, () => r.map(line).join('\n') || 'no peers connected')
})

program.command('misbehaviour').description('peers that misbehaved, and why').action(async () => {
  type Misbehaviour = { peer: string, reason: string, disconnected: boolean, atMs: number }
  const r = await api().call('GET', '/v1/misbehaviour') as Misbehaviour[]
  const line = (m: Misbehaviour): string =>
    `${isoTime(m.atMs)}  ${m.peer}  ${m.disconnected ? 'DISCONNECTED ' : ''}${m.reason}`
  out(r, () => r.map(line).join('\n') || 'none')
})

program.command('backup <file>')
  .description('a consistent copy of the store while the node runs (SQLite online backup); see README for restoring it')
  .action(async (file: string) => {
    const r = await api().call('POST', '/v1/backup', { path: path.resolve(file) }) as { path: string, bytes: number }
    const keep = 'keep identity.key with it (README: Backup and restore)'
    out(r, () => `backed up the store to ${r.path} (${bytes(r.bytes)}); ${keep}`)
  })

program.command('stats').description('traffic since start: sync messages and bytes by type, file chunks in and out')
  .action(async () => {
    type Blocks = { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number }
    const r = await api().call('GET', '/v1/stats') as { sync: unknown, blocks: Blocks }
    const b = r.blocks
    out(r, () => `file chunks: ${b.blocksIn} in (${bytes(b.bytesIn)}), ${b.blocksOut} out (${bytes(b.bytesOut)})\n` +
      `sync: ${JSON.stringify(r.sync)}`)
  })

program.command('status')
  .description('this node (load, memory, disk, temperature, links, folders, alerts) and the network in numbers')
  .option('--watch', 'refresh every 2 s until Ctrl-C (with --json: one JSON line per refresh)')
  .action(async (o: { watch?: boolean }) => {
    for (;;) {
      const r = await api().call('GET', '/v1/status') as StatusView
      if (o.watch !== true) { out(r, () => statusText(r)); return }
      if (g().json) console.log(JSON.stringify(r))
      else process.stdout.write(`\x1b[H\x1b[2J${statusText(r)}\n`)
      await new Promise(resolve => setTimeout(resolve, 2000))
    }
  })

program.command('net')
  .description('the network map: every node of the deployment, its health, and who links to whom (--json: the graph)')
  .action(async () => {
    const r = await api().call('GET', '/v1/net') as NetworkMap
    out(r, () => netText(r))
  })

program.command('alerts').description('open alerts of every node of the deployment, newest first').action(async () => {
  const r = await api().call('GET', '/v1/alerts') as { alerts: NetworkMap['alerts'] }
  out(r.alerts, () => alertsText(r.alerts))
})

program.command('dashboard').description('the URL of the web dashboard (with its token: keep it private)')
  .action(async () => {
    const r = await api().call('GET', '/v1/id') as { peerId: string }
    const url = `${api().dashboardUrl()}`
    out({ peerId: r.peerId, url }, () => url)
  })

const space = program.command('space').description('create, list, invite to and join spaces')
space.command('create <name>').action(async (name: string) => {
  const r = await api().call('POST', '/v1/spaces', { name }) as { id: string, name: string }
  out(r, () => `created space ${r.name} (${r.id})`)
})
space.command('list').action(async () => {
  type SpaceInfo = { id: string, name: string, role: string | null, members: number }
  const r = await api().call('GET', '/v1/spaces') as SpaceInfo[]
  out(r, () => r.map(s => `${s.id}  ${s.name}  ${s.role ?? 'joining'}  ${s.members} members`).join('\n') || 'no spaces')
})
space.command('invite <space>').requiredOption('--role <role>', 'admin, writer or reader')
  .option('--uses <n>', 'how many nodes may join with it', '1')
  .option('--expires <duration>', 'like 30m, 24h, 7d', '7d')
  .action(async (ref: string, o: { role: string, uses: string, expires: string }) => {
    const uses = Number(o.uses)
    if (!Number.isSafeInteger(uses) || uses < 1) {
      throw new CliError(`--uses ${JSON.stringify(o.uses)} is not a whole number of at least 1`, 2)
    }
    const invite = { role: o.role, uses, expiresInMs: parseDuration(o.expires) }
    const r = await api().call('POST', `/v1/spaces/${enc(ref)}/invites`, invite) as { token: string }
    out(r, () => r.token)
  })
space.command('join <token>')
  .option('--wait <duration>', 'how long to wait for the inviter to admit this node, like 30s, 5m', '60s')
  .action(async (token: string, o: { wait: string }) => {
    const waitMs = parseDuration(o.wait)
    type Joined = { id: string, name: string, role: string, deployment: string }
    const r = await api().call('POST', '/v1/join', { token, waitMs }, waitMs + 30_000) as Joined
    const deployment = r.deployment.startsWith('not') ? `; the deployment's status space: ${r.deployment}` : ''
    out(r, () => `joined space ${r.name} (${r.id}) as ${r.role}${deployment}`)
  })

const acl = program.command('acl').description('who may do what in a space')
acl.command('list <space>').action(async (ref: string) => {
  const r = await api().call('GET', `/v1/spaces/${enc(ref)}/acl`) as { peerId: string, role: string | null }[]
  out(r, () => r.map(m => `${m.peerId}  ${m.role ?? 'revoked'}`).join('\n'))
})
acl.command('grant <space> <peer> <role>').action(async (ref: string, peer: string, role: string) => {
  await api().call('POST', `/v1/spaces/${enc(ref)}/acl`, { peer, role })
  out({ ok: true }, () => `granted ${role} to ${peer}`)
})
acl.command('revoke <space> <peer>').action(async (ref: string, peer: string) => {
  await api().call('DELETE', `/v1/spaces/${enc(ref)}/acl/${enc(peer)}`)
  out({ ok: true }, () => `revoked ${peer}`)
})

const kv = program.command('kv').description('a key-value map per space (last writer wins)')
kv.command('put <space> <key> <value>').action(async (ref: string, key: string, value: string) => {
  await api().call('PUT', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`, { value })
  out({ ok: true }, () => 'ok')
})
kv.command('get <space> <key>').action(async (ref: string, key: string) => {
  const r = await api().call('GET', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`) as { key: string, value: unknown }
  out(r, () => r.value === null ? '' : typeof r.value === 'string' ? r.value : JSON.stringify(r.value))
})
kv.command('del <space> <key>').action(async (ref: string, key: string) => {
  await api().call('DELETE', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`)
  out({ ok: true }, () => 'ok')
})
kv.command('list <space>').action(async (ref: string) => {
  const r = await api().call('GET', `/v1/spaces/${enc(ref)}/kv`) as { key: string, value: unknown }[]
  out(r, () => r.map(e => `${e.key}\t${typeof e.value === 'string' ? e.value : JSON.stringify(e.value)}`).join('\n'))
})

const counter = program.command('counter').description('counters that anyone may add to')
counter.command('add <space> <name> <n>').action(async (ref: string, name: string, n: string) => {
  const delta = Number(n)
  if (!/^-?\d+$/.test(n) || !Number.isSafeInteger(delta)) {
    throw new CliError(`${JSON.stringify(n)} is not a whole number; counter add takes an integer like 5 or -3`, 2)
  }
  await api().call('POST', `/v1/spaces/${enc(ref)}/counters/${enc(name)}`, { delta })
  out({ ok: true }, () => 'ok')
})
counter.command('get <space> <name>').action(async (ref: string, name: string) => {
  const r = await api().call('GET', `/v1/spaces/${enc(ref)}/counters/${enc(name)}`) as { value: number }
  out(r, () => String(r.value))
})

const ledger = program.command('ledger').description('an append-only list of transactions in one order')
ledger.command('append <space> <json>').action(async (ref: string, json: string) => {
  let tx: unknown
  try {
    tx = JSON.parse(json)
  } catch {
    const start = JSON.stringify(json.slice(0, 60))
    throw new CliError(`the transaction is not valid JSON: ${start}; quote it, like '{"amount": 5}'`, 2)
  }
  // The daemon's rule, before anything recursive.
  const { assertValueDepth } = await import('../codec/index.ts')
  try {
    assertValueDepth(tx, 'the transaction')
  } catch (err) {
    throw new CliError((err as Error).message, 1, 'BAD_INPUT', { cause: err })
  }
  await api().call('POST', `/v1/spaces/${enc(ref)}/ledger`, { tx })
  out({ ok: true }, () => 'ok')
})
ledger.command('list <space>').action(async (ref: string) => {
  const r = await api().call('GET', `/v1/spaces/${enc(ref)}/ledger`) as unknown[]
  out(r, () => r.map(t => JSON.stringify(t)).join('\n'))
})

const folder = program.command('folder').description('share a directory as a space: files synced between nodes')
folder.command('add <space> <path>').description('bind a space to a local directory and sync it')
  .option('--mode <mode>', 'send-receive, send-only or receive-only', 'send-receive')
  .action(async (ref: string, dir: string, o: { mode: string }) => {
    // The daemon refuses an unknown mode too, but only the command line knows it came from --mode.
    const { FOLDER_MODES } = await import('../files/folder-types.ts')
    if (!(FOLDER_MODES as readonly string[]).includes(o.mode)) {
      throw new CliError(`--mode ${JSON.stringify(o.mode)}: use one of ${FOLDER_MODES.join(', ')}`, 2, 'BAD_INPUT')
    }
    const body = { space: ref, path: path.resolve(dir), mode: o.mode }
    const r = await api().call('POST', '/v1/folders', body) as FolderInfo
    out(r, () => `sharing ${r.path} as space ${r.name} (${r.mode}); see samepage folder status ${r.name}`)
  })
folder.command('remove <space>').description('stop syncing the folder of a space here (its files stay)')
  .action(async (ref: string) => {
    const r = await api().call('DELETE', `/v1/spaces/${enc(ref)}/folder`) as { space: string, path: string }
    out(r, () => `no longer syncing ${r.path}; its files stay`)
  })
folder.command('list').description('the folders this node shares').action(async () => {
  const r = await api().call('GET', '/v1/folders') as FolderInfo[]
  const none = 'no folders; samepage folder add SPACE PATH'
  out(r, () => r.map(f => `${f.name}  ${f.path}  ${f.mode}  ${folderLine(f)}`).join('\n') || none)
})
folder.command('status <space>').description('files and bytes still needed, rate, ETA, errors')
  .option('--watch', 'show a progress bar until the folder is in sync')
  .action(async (ref: string, o: { watch?: boolean }) => {
    const path_ = `/v1/spaces/${enc(ref)}/folder`
    if (o.watch === true && !g().json) { await watchFolder(api(), path_); return }
    const r = await api().call('GET', path_) as FolderInfo
    out(r, () => folderReport(r))
  })
program.command('conflicts <space>').description('files edited on two nodes at once, and their conflict copies')
  .action(async (ref: string) => {
    const r = await api().call('GET', `/v1/spaces/${enc(ref)}/conflicts`) as ConflictInfo[]
    const lines = (c: ConflictInfo): string[] => [
      `${c.path}`,
      ...c.copies.map(p => `  copy: ${p}`),
      ...c.versions.map(v =>
        `  unresolved: version by ${v.author.slice(0, 12)} (${bytes(v.size)}), to be kept as ${v.copy}`)
    ]
    out(r, () => r.map(c => lines(c).join('\n')).join('\n') || 'no conflicts')
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    const done = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0
    if (done) process.exit(0)
    process.exit(2)
  }
  const message = err instanceof Error ? err.message : String(err)
  const code = err instanceof SamepageError ? err.code : 'ERROR'
  if (g().json) console.log(JSON.stringify({ error: { code, message } }))
  console.error(`samepage: ${message}`)
  process.exit(err instanceof CliError ? err.exitCode : 1)
}

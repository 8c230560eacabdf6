import path from 'node:path'
import type { Command } from 'commander'
import { bytes, isoTime } from '../api/index.ts'
import { CliError } from './client.ts'
import { about, api, collect, globals, out, shown } from './program.ts'
import type { StartFlags } from './start.ts'
import { alertsText, netText, statusText } from './net-view.ts'
import type { NetworkMap, StatusView } from './net-view.ts'

/**
 * The commands about the node itself: its data directory, its daemon, its
 * peers, its traffic and health, and the network seen from it. `init` and
 * `start` load what they need inside their action (see main.ts).
 */
export function addNodeCommands (program: Command): void {
  about(program.command('init'), 'create a data directory and its node key', 'init', '--dir /srv/samepage init')
    .action(async () => {
      const { loadOrCreateIdentity, peerIdOf } = await import('../identity/index.ts')
      const { dir } = globals()
      const key = loadOrCreateIdentity(dir)
      out({ peerId: peerIdOf(key.publicKey), dir }, () => `node ${peerIdOf(key.publicKey)} in ${dir}`)
    })

  about(program.command('start'), 'run the node in the foreground (Ctrl-C, SIGTERM or samepage stop stops it)',
    'start', 'start --peer /ip4/192.0.2.7/tcp/4815/p2p/12D3KooW... --max-up 10MB')
    .option('--listen <multiaddr>', 'address to listen on (repeatable; default TCP 4815 on all interfaces)',
      collect, [])
    .option('--peer <multiaddr>', 'peer to connect to and keep connected (repeatable)', collect, [])
    .option('--api <host:port>', 'address of the local API (default 127.0.0.1:4816)')
    .option('--mdns', 'find peers on the local network by multicast DNS (off by default)')
    .option('--max-up <rate>', 'limit file data sent to peers, like 10MB (bytes per second, all peers together)')
    .option('--max-down <rate>', 'limit file data received from peers, like 50MB')
    .option('--log-level <level>', 'what to log on stderr: debug, info, warn, error or silent (default info, ' +
      'or SAMEPAGE_LOG_LEVEL)')
    .option('--log-format <format>', 'how to log on stderr: human (default) or json (one JSON object a line)')
    .action(async (o: StartFlags) => {
      const [{ startDaemon }, { NodeError }] = await Promise.all([import('./start.ts'), import('../node/index.ts')])
      try {
        await startDaemon({ ...globals(), ...o })
      } catch (err) {
        // The daemon's errors keep their code (DIR_LOCKED, BAD_CONFIG, ...) in --json, as the API's do.
        throw err instanceof NodeError ? new CliError(err.message, 1, err.code) : err
      }
    })

  about(program.command('stop'), 'stop the running daemon cleanly and wait until it has exited', 'stop',
    '--dir /srv/samepage stop')
    .action(async () => {
      const pid = await api().stop()
      const { dir } = globals()
      out({ stopped: true, pid, dir }, () => `stopped the samepage daemon of ${dir} (pid ${pid})`)
    })

  about(program.command('id'), 'this node\'s peer id and addresses', 'id').action(async () => {
    const r = await api().call('GET', '/v1/id') as { peerId: string, addrs: string[] }
    out(r, () => [r.peerId, ...r.addrs].join('\n'))
  })

  about(program.command('peers'), 'connected peers: direct or relayed (by whom), addresses, round-trip times',
    'peers', '--json peers')
    .action(async () => {
      type Peer = { peerId: string, addrs: string[], rttMs: number | null, relayedBy: string | null }
      const r = await api().call('GET', '/v1/peers') as Peer[]
      const link = (p: Peer): string => p.relayedBy === null ? 'direct' : `relayed by ${p.relayedBy}`
      const line = (p: Peer): string =>
        `${p.peerId}  ${link(p)}  ${p.addrs.join(' ')}${p.rttMs === null ? '' : `  ${p.rttMs} ms`}`
      out(r, () => r.map(line).join('\n') || 'no peers connected')
    })

  about(program.command('misbehaviour'), 'peers that misbehaved, and why', 'misbehaviour').action(async () => {
    type Misbehaviour = { peer: string, reason: string, disconnected: boolean, atMs: number }
    const r = await api().call('GET', '/v1/misbehaviour') as Misbehaviour[]
    const line = (m: Misbehaviour): string =>
      `${isoTime(m.atMs)}  ${m.peer}  ${m.disconnected ? 'DISCONNECTED ' : ''}${shown(m.reason)}`
    out(r, () => r.map(line).join('\n') || 'none')
  })

  about(program.command('backup <file>'),
    'a consistent copy of the store while the node runs (SQLite online backup); see README for restoring it',
    'backup /var/backups/samepage-store.db')
    .action(async (file: string) => {
      const r = await api().call('POST', '/v1/backup', { path: path.resolve(file) }) as { path: string, bytes: number }
      const keep = 'keep identity.key with it (README: Backup and restore)'
      out(r, () => `backed up the store to ${r.path} (${bytes(r.bytes)}); ${keep}`)
    })

  about(program.command('stats'), 'traffic since start: sync messages and bytes by type, file chunks in and out',
    'stats')
    .action(async () => {
      type Blocks = { bytesIn: number, bytesOut: number, blocksIn: number, blocksOut: number }
      const r = await api().call('GET', '/v1/stats') as { sync: unknown, blocks: Blocks }
      const b = r.blocks
      out(r, () => `file chunks: ${b.blocksIn} in (${bytes(b.bytesIn)}), ${b.blocksOut} out (${bytes(b.bytesOut)})\n` +
        `sync: ${JSON.stringify(r.sync)}`)
    })

  about(program.command('status'),
    'this node (load, memory, disk, temperature, links, folders, alerts) and the network in numbers',
    'status', 'status --watch')
    .option('--watch', 'refresh every 2 s until Ctrl-C (with --json: one JSON line per refresh)')
    .action(async (o: { watch?: boolean }) => {
      for (;;) {
        const r = await api().call('GET', '/v1/status') as StatusView
        if (o.watch !== true) { out(r, () => statusText(r)); return }
        if (globals().json) console.log(JSON.stringify(r))
        else process.stdout.write(`\x1b[H\x1b[2J${statusText(r)}\n`)
        await new Promise(resolve => setTimeout(resolve, 2000))
      }
    })

  about(program.command('net'),
    'the network map: every node of the deployment, its health, and who links to whom (--json: the graph)',
    'net', '--json net')
    .action(async () => {
      const r = await api().call('GET', '/v1/net') as NetworkMap
      out(r, () => netText(r))
    })

  about(program.command('alerts'), 'open alerts of every node of the deployment, newest first', 'alerts')
    .action(async () => {
      const r = await api().call('GET', '/v1/alerts') as { alerts: NetworkMap['alerts'] }
      out(r.alerts, () => alertsText(r.alerts))
    })

  about(program.command('dashboard'), 'the URL of the web dashboard (with its token: keep it private)', 'dashboard')
    .action(async () => {
      const r = await api().call('GET', '/v1/id') as { peerId: string }
      const url = `${api().dashboardUrl()}`
      out({ peerId: r.peerId, url }, () => url)
    })
}

/**
 * The two sync systems the folder benchmarks compare, behind one interface:
 * samepage daemons driven over their HTTP API, and Syncthing instances
 * driven over its REST API (bench/syncthing.ts). Each node is its own
 * process on 127.0.0.1.
 */
import path from 'node:path'
import { shareFolder, startDaemon, stopDaemon, until, wireBytesIn } from './samepage-daemons.ts'
import type { Daemon } from './samepage-daemons.ts'
import * as st from './syncthing.ts'

const MB = 1e6

/** What a benchmark needs of a sync system. */
export interface SyncNode { readonly folder: string, readonly pid: number }
export interface System<N extends SyncNode> {
  readonly name: string
  start (root: string, n: number, capsMB?: (number | undefined)[]): Promise<N[]>
  /** Shares one folder among `nodes`; returns once every node has it set up. */
  share (nodes: N[]): Promise<void>
  /** Joins a node that was not in share() (the swarm's fifth node), once the others agree on `files` files. */
  add (nodes: N[], late: N, files: number): Promise<void>
  /** Bytes this node received over the wire (its own counters). */
  received (node: N): Promise<number>
  stop (nodes: N[], node?: N): Promise<void>
}

export function samepage (): System<Daemon & SyncNode> {
  let space = ''
  return {
    name: 'samepage',
    async start (root, n, caps = []) {
      const nodes: Daemon[] = []
      try {
        for (let i = 0; i < n; i++) {
          const cap = caps[i]
          const peers = nodes.flatMap(d => ['--peer', d.addrs[0] as string])
          const limit = cap === undefined ? [] : ['--max-up', `${cap}MB`]
          nodes.push(await startDaemon(path.join(root, `node${i}`), path.join(root, `folder${i}`), [...peers, ...limit]))
        }
      } catch (err) {
        for (const d of nodes) await stopDaemon(d)
        throw err
      }
      return nodes
    },
    async share (nodes) {
      space = await shareFolder(nodes, 'bench')
    },
    async add (nodes, late, files) {
      const [first] = nodes as [Daemon]
      await until('seeders agree', async () => {
        for (const n of nodes) {
          const s = (await n.call('GET', `/v1/spaces/${space}/folder`)).status
          if (s.state !== 'idle' || s.localFiles !== files) return false
        }
        return true
      }, 600_000)
      const { token } = await first.call('POST', `/v1/spaces/${space}/invites`, { role: 'reader' })
      await late.call('POST', '/v1/join', { token })
      const hasSpace = async (): Promise<boolean> => ((await late.call('GET', '/v1/spaces')) as any[]).some(s => s.id === space && s.role === 'reader')
      await until('the late node has the space', hasSpace, 30_000)
      await until('the late node sees all seeders', async () => ((await late.call('GET', '/v1/peers')) as any[]).length >= nodes.length, 30_000)
      await late.call('POST', '/v1/folders', { space, path: late.folder, mode: 'receive-only' })
    },
    // Everything received, as Syncthing's connection counters count it: chunks, file records (and their parts), status.
    received: async node => await wireBytesIn(node),
    async stop (nodes, one) {
      for (const d of one === undefined ? nodes : [one]) await stopDaemon(d, one === undefined ? 'SIGTERM' : 'SIGKILL')
    }
  }
}

export function syncthing (): System<st.SyncthingNode> {
  return {
    name: 'syncthing',
    async start (root, n, caps = []) {
      return await st.startSyncthings(root, n, { maxSendKbps: caps.map(c => c === undefined ? 0 : Math.round(c * MB / 1024)) })
    },
    async share (nodes) {
      await st.shareFolder(nodes)
    },
    async add (nodes, late, files) {
      await st.waitSynced(nodes, { timeoutMs: 600_000, expectFiles: files })
      await st.shareFolder([...nodes, late])
    },
    received: async node => (await st.connectionBytes(node)).inBytes,
    async stop (nodes, one) {
      await st.stopSyncthings(one === undefined ? nodes : [one])
    }
  }
}

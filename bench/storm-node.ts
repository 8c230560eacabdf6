/**
 * One node of the write-storm benchmark, in its own process: a real samepage
 * Node on 127.0.0.1, driven by the parent (bench/storm.ts) over IPC. It
 * records when each write of a run first reached it, and its traffic
 * counters and memory, so the parent can compute propagation and copies.
 */
import fs from 'node:fs'
import { Node, decodeInviteToken, encodeInviteToken } from '../src/node/index.ts'
import { FloodRelay } from './flood-relay.ts'

/** How new entries travel in this run: the protocol, or naive flooding (bench/flood-relay.ts). */
export type RelayName = 'announce' | 'flood'

export type StormRequest =
  | { op: 'open', dir: string, relay: RelayName }
  | { op: 'create' }
  | { op: 'invite', uses: number }
  | { op: 'join', token: string, via: string }
  | { op: 'dial', addrs: string[] }
  | { op: 'state' }
  | { op: 'runStart', prefix: string }
  | { op: 'put', key: string, value: string }
  | { op: 'runEnd' }
  | { op: 'close' }

let node: Node | undefined
let space = ''
let run: { prefix: string, arrivals: Map<string, number>, stats: Counters, rssMaxBytes: number, sampler: NodeJS.Timeout } | undefined

interface Counters { entriesIn: number, duplicatesIn: number, haveBytes: number, wantBytes: number, entriesBytes: number, bytesIn: number }

function counters (): Counters {
  const s = node!.syncStats()
  const sum = (r: Partial<Record<string, number>>) => Object.values(r).reduce<number>((a, b) => a + (b ?? 0), 0)
  return { entriesIn: s.entriesIn, duplicatesIn: s.duplicatesIn, haveBytes: s.bytesIn.have ?? 0, wantBytes: s.bytesIn.want ?? 0, entriesBytes: s.bytesIn.entries ?? 0, bytesIn: sum(s.bytesIn) }
}

async function handle (req: StormRequest): Promise<unknown> {
  switch (req.op) {
    case 'open': {
      // meshLinks off: peer exchange would dial every member it hears of, and the storm measures one sparse topology.
      node = Node.open({
        dir: req.dir, listen: ['/ip4/127.0.0.1/tcp/0'], meshLinks: false, ...(req.relay === 'flood' ? { relay: new FloodRelay() } : {})
      })
      await node.start()
      node.on('entries', ev => {
        if (run === undefined || ev.space !== space) return
        const now = Date.now()
        for (const e of ev.entries) {
          if (e.body.t === 'kv.put' && e.body.key.startsWith(run.prefix) && !run.arrivals.has(e.body.key)) run.arrivals.set(e.body.key, now)
        }
      })
      return { ...node.id(), rssBytes: process.memoryUsage().rss }
    }
    case 'create':
      space = node!.createSpace('storm').id
      return { space }
    case 'invite':
      return node!.invite(space, 'writer', req.uses, 3_600_000)
    case 'join': {
      // The token names the inviter's addresses; this node is placed in the topology by joining through its neighbour `via`.
      const token = encodeInviteToken({ ...decodeInviteToken(req.token), addrs: [req.via] })
      space = (await node!.join(token)).id
      return { space }
    }
    case 'dial':
      for (const addr of req.addrs) await node!.dial(addr)
      return {}
    case 'state': {
      const me = node!.spaces().find(s => s.id === space)
      return { role: me?.role ?? null, members: me?.members ?? 0, peers: node!.peers().length, rssBytes: process.memoryUsage().rss, arrived: run?.arrivals.size ?? 0 }
    }
    case 'runStart': {
      const sampler = setInterval(() => { if (run !== undefined) run.rssMaxBytes = Math.max(run.rssMaxBytes, process.memoryUsage().rss) }, 50)
      run = { prefix: req.prefix, arrivals: new Map(), stats: counters(), rssMaxBytes: process.memoryUsage().rss, sampler }
      return { rssBytes: run.rssMaxBytes }
    }
    case 'put':
      node!.kvPut(space, req.key, req.value)
      return { atMs: Date.now() }
    case 'runEnd': {
      const r = run!
      clearInterval(r.sampler)
      run = undefined
      const now = counters()
      const delta = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - r.stats[k as keyof Counters]]))
      return { arrivals: Object.fromEntries(r.arrivals), traffic: delta, rssMaxBytes: r.rssMaxBytes, rssBytes: process.memoryUsage().rss, peakRssBytes: peakRss() }
    }
    case 'close':
      await node?.stop()
      setImmediate(() => process.exit(0))
      return {}
  }
}

function peakRss (): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m === null ? NaN : Number(m[1]) * 1024
}

process.on('message', (msg: { id: number, req: StormRequest }) => {
  handle(msg.req).then(
    result => process.send!({ id: msg.id, result }),
    (err: unknown) => process.send!({ id: msg.id, error: err instanceof Error ? err.message : String(err) })
  )
})
process.on('disconnect', () => process.exit(0))

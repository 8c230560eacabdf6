/**
 * bench/latejoin-peer.ts: one process of the samepage side of the
 * late-joiner benchmark (bench/latejoin.ts spawns it).
 *
 *   prepare <dir> <entries> <valueBytes>
 *       Builds the seeder's data directory, not timed: its identity, one
 *       space it owns, and `entries` kv.put entries in its feed. The entries
 *       are signed exactly as Node.kvPut signs them and go through the
 *       replica's ordinary ingest path (SpaceReplica.ingestRun), in runs of
 *       RUN_ENTRIES_MAX and so one commit per run instead of one per entry
 *       (node.kvPut at ~3k/s would take a minute for 100,000). The store is
 *       what a node that wrote them holds, except that only the last entry
 *       of each run is marked verified, as after any catch-up; the runs the
 *       seeder serves end on those entries.
 *   seed <dir>
 *       Opens the node of that directory on a loopback port, invites a
 *       reader, and serves until the parent ends it.
 *   join <dir> <token> <expect>
 *       A node with an empty directory joins with the token; the clock runs
 *       from join() until the owner's feed holds `expect` entries (its kv
 *       view is committed with them, in the same transaction). Its CPU time
 *       (user + system, all threads) over the same span is reported.
 *
 * One JSON line per milestone on stdout; every wait is bounded (LIMIT_MS).
 * Each process runs with the daemon's V8 settings: bench/latejoin.ts starts it
 * with daemon-v8.js preloaded (daemonLike says why the import below is not enough).
 */
import './daemon-v8.js' // when run by hand: only after Node loaded every module below (latejoin.ts daemonLike)
import fs from 'node:fs'
import path from 'node:path'
import { RUN_ENTRIES_MAX } from '../src/codec/index.ts'
import type { Entry, SignedBytes } from '../src/codec/index.ts'
import { loadOrCreateIdentity } from '../src/identity/index.ts'
import { Node } from '../src/node/index.ts'
import { growYoungGenerationInBursts } from '../src/cli/young-generation.ts'
import { signEntry, SpaceReplica } from '../src/space/index.ts'
import { SqliteStore } from '../src/store/index.ts'
import { memory } from './proc-memory.ts'

const LIMIT_MS = 5 * 60_000
const SPACE_NAME = 'latejoin'

const say = (obj: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(obj) + '\n') }

/** The key of entry i: fixed width, so every key is 10 bytes. */
export function kvKey (i: number): string {
  return `k${String(i).padStart(9, '0')}`
}

function prepare (dir: string, entries: number, valueBytes: number): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const owner = loadOrCreateIdentity(dir)
  const store = SqliteStore.open(path.join(dir, 'store.db'))
  try {
    const now = Date.now()
    const replica = SpaceReplica.create(store, owner, SPACE_NAME, now)
    // As Node.kvPut would write them: one epoch (opened at the first write), consecutive seqs linked by
    // hash, clocks strictly increasing and not in the future.
    const epoch = now
    const filler = 'v'.repeat(valueBytes)
    let prev: Entry | undefined
    const run: SignedBytes[] = []
    for (let seq = 0; seq < entries; seq++) {
      const value = (String(seq) + filler).slice(0, valueBytes)
      prev = signEntry(owner, {
        space: replica.id, author: owner.publicKey, epoch, seq, prev: prev?.id ?? null,
        clock: { wallMs: now, counter: seq + 1 }, body: { t: 'kv.put', key: kvKey(seq), value }
      })
      run.push([prev.bytes, prev.sig])
      if (run.length === RUN_ENTRIES_MAX || seq === entries - 1) {
        const result = replica.ingestRun(run, 'local', now)
        if (result.reject !== undefined || result.stored.length !== run.length) throw new Error(`prepare: run ending at ${seq} not stored: ${JSON.stringify(result.reject)}`)
        run.length = 0
      }
    }
    say({ prepared: true, entries, space: replica.key })
  } finally {
    store.close()
  }
}

async function seed (dir: string): Promise<void> {
  const node = Node.open({ dir, listen: ['/ip4/127.0.0.1/tcp/0'] })
  const stop = async (): Promise<void> => { await node.stop().catch(() => {}); process.exit(0) }
  process.on('SIGTERM', () => { void stop() })
  await node.start()
  const space = node.spaces().find(s => s.name === SPACE_NAME)
  if (space === undefined) throw new Error(`seed: no space ${SPACE_NAME} in ${dir}; run prepare first`)
  const { token } = node.invite(space.id, 'reader', 1, LIMIT_MS)
  const replica = node.space(space.id)
  const ownFeed = replica.vector().find(r => Buffer.from(r.author).toString('hex') === replica.owner)
  await new Promise(resolve => setTimeout(resolve, 500)) // let start-up garbage settle before "at rest"
  say({ ready: true, token, expect: ownFeed?.count ?? 0, space: space.id, rest: memory() })
  setInterval(() => {}, 60_000) // served until the parent ends it; LIMIT_MS bounds it otherwise
}

async function join (dir: string, token: string, expect: number): Promise<void> {
  const node = Node.open({ dir, listen: ['/ip4/127.0.0.1/tcp/0'] })
  growYoungGenerationInBursts(node) // as `samepage start` does (src/cli/start.ts)
  await node.start()
  let received = 0
  let done: (() => void) | undefined
  const finished = new Promise<void>(resolve => { done = resolve })
  let spaceId: string | undefined
  // Cheap: the 'stored' events count what arrives; the store is asked (one SQL query) only once they add up.
  const caughtUp = (): boolean => {
    if (spaceId === undefined) return false
    const replica = node.space(spaceId)
    return replica.vector().some(r => Buffer.from(r.author).toString('hex') === replica.owner && r.count >= expect)
  }
  node.on('stored', ev => {
    if (ev.from === 'local') return
    received += ev.count
    if (received >= expect && caughtUp()) done?.()
  })
  const poll = setInterval(() => { if (caughtUp()) done?.() }, 1000) // a fallback, should events ever be merged
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  const joined = await node.join(token)
  spaceId = joined.id
  if (caughtUp()) done?.()
  await finished
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const cpuSeconds = Math.round((cpu.user + cpu.system) / 1000) / 1000
  clearInterval(poll)
  const mem = memory() // before the check below, which reads the whole view
  const keys = node.kvList(joined.id).length
  say({ done: true, seconds, cpuSeconds, received, keys, memory: mem })
  await node.stop()
  process.exit(0)
}

if (import.meta.main) {
  const timer = setTimeout(() => { process.stderr.write(`latejoin-peer: over ${LIMIT_MS / 1000} s, giving up\n`); process.exit(3) }, LIMIT_MS)
  timer.unref()
  const [mode, dir, ...args] = process.argv.slice(2)
  if (mode === 'prepare' && dir !== undefined) prepare(dir, Number(args[0]), Number(args[1]))
  else if (mode === 'seed' && dir !== undefined) await seed(dir)
  else if (mode === 'join' && dir !== undefined && args[0] !== undefined) await join(dir, args[0], Number(args[1]))
  else {
    process.stderr.write('usage: latejoin-peer.ts prepare <dir> <entries> <valueBytes> | seed <dir> | join <dir> <token> <expect>\n')
    process.exit(2)
  }
}

/**
 * npm run bench [-- --quick] [-- --only validate|spread|catchup|chunking|storm|latejoin|folders|status|relay|idle]
 * [-- --case idle|big|edits|small|mixed|fanout|swarm|swarmSlowestStops] (one folder case; implies --only folders):
 * every benchmark, one JSON document
 * on stdout (progress on stderr). Ratios are measured side by side in this
 * one run. Benchmarks, not tests: nothing here asserts on time.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { benchValidate } from './validate.ts'
import { benchSpread } from './spread.ts'
import { benchCatchupMetadata } from './catchup-metadata.ts'
import { benchStorm } from './storm.ts'
import { benchLateJoin } from './latejoin.ts'
import { benchChunking } from './chunking.ts'
import { benchFolders, FOLDER_CASES } from './folders.ts'
import type { FolderCase } from './folders.ts'
import { benchStatus } from './status.ts'
import { benchEncrypters } from './encrypters.ts'
import { benchCli } from './cli.ts'
import { benchLiveWrites } from './live-writes.ts'
import { benchRelay } from './relay.ts'
import { benchIdle } from './idle.ts'
import { daemonEntry } from '../lib/daemon-bundle.js'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, case: { type: 'string' } } })
const quick = values.quick === true
const folderCase = values.case as FolderCase | undefined
if (folderCase !== undefined && !FOLDER_CASES.includes(folderCase)) {
  process.stderr.write(`bench: --case is one of ${FOLDER_CASES.join(', ')}\n`)
  process.exit(2)
}
const only = folderCase === undefined ? values.only : 'folders'
const started = performance.now()
const log = (msg: string): void => { process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`) }
// The daemons the cases start run its bundle (lib/daemon-bundle.js): made now if stale, so that no case pays for it.
if (daemonEntry() === undefined) log('the daemons run from src/, unbundled: their memory is not that of `samepage start`')
const result: Record<string, unknown> = {
  machine: { node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: os.loadavg(), quick }
}

if (only === undefined || only === 'validate') {
  log('validate: signatures, catch-up and live ingest on one core')
  result.validate = await benchValidate({ entries: quick ? 20_000 : 100_000, repeats: quick ? 1 : 3 })
}
if (only === undefined || only === 'spread') {
  const nodes = quick ? 200 : 1000
  log(`spread: one write to ${nodes} simulated nodes, next to naive flooding`)
  result.spread = benchSpread({ nodes, writes: 5, seed: 1 })
}
if (only === undefined || only === 'catchup') {
  const rows: Record<string, unknown>[] = []
  for (const writers of quick ? [10, 100] : [10, 100, 1000]) {
    for (const entries of [10, 1000]) {
      log(`catch-up metadata: ${writers} writers x ${entries} entries`)
      rows.push(benchCatchupMetadata(writers, entries))
    }
  }
  result.catchupMetadata = {
    rows,
    note: 'metadataBytes = every message but the entries themselves, both directions; it must grow with writers, not with entries'
  }
}
if (only === undefined || only === 'chunking') {
  log('chunking: content-defined chunks, cut and hashed on one core; an edit in the middle')
  result.chunking = benchChunking({ mebibytes: quick ? 64 : 256 })
}
if (only === undefined || only === 'storm') {
  const nodes = quick ? 8 : 20
  const writes = quick ? 200 : 1000
  log(`storm: ${writes} kv writes over ${nodes} node processes on 127.0.0.1, next to naive flooding`)
  result.storm = await benchStorm({ nodes, writes, rates: [10, 100, 1000, 'max'], seed: 1, log })
}
if (only === undefined || only === 'latejoin') {
  const entries = quick ? 20_000 : 100_000
  log(`latejoin: a new node catches up ${entries} kv entries over libp2p, next to Hypercore`)
  result.lateJoin = await benchLateJoin({ entries, valueBytes: 100, log })
}
if (only === undefined || only === 'folders') {
  // Quick: 192 MiB, not 256, which is where chunking steps from 64 to 256 KiB: an insert would recut the whole file.
  const bigMiB = quick ? 192 : 1024
  const mixedMB = quick ? 64 : 500
  log(`folders: samepage next to Syncthing (${bigMiB} MiB file, small files, a ${mixedMB} MB tree, fan-out, capped seeders)`)
  const oneCase = folderCase === undefined ? {} : { only: folderCase }
  result.folders = await benchFolders({ bigMiB, smallFiles: quick ? 2_000 : 10_000, mixedMB, ...oneCase, log })
}
if (only === undefined || only === 'status') {
  const realSizes = quick ? [5, 20] : [5, 20, 50]
  const simSizes = quick ? [1000] : [1000, 10_000]
  log(`status: telemetry traffic at ${realSizes.join(', ')} real nodes and ${simSizes.join(', ')} simulated; time from a SIGKILL to shown down`)
  result.status = await benchStatus({ realSizes, windowMs: quick ? 30_000 : 60_000, warmupMs: 10_000, simSizes, simWindowMs: 60_000, crossCheckNodes: 100, seed: 1, log })
}
if (only === undefined || only === 'encrypters') {
  result.encrypters = await benchEncrypters({ rawMiB: quick ? 64 : 256, rawRuns: 3, folderMiB: quick ? 256 : 1024, folderRuns: 1, log })
}
if (only === undefined || only === 'cli') result.cli = await benchCli({ runs: quick ? 5 : 20, log })
if (only === undefined || only === 'livewrites') {
  log('livewrites: kv writes from 1, 8, 64 and 256 concurrent HTTP clients to one daemon (group commit)')
  result.liveWrites = await benchLiveWrites({ clients: quick ? [1, 8] : [1, 8, 64, 256], seconds: quick ? 3 : 10, log })
}
if (only === undefined || only === 'relay') {
  const mib = quick ? 64 : 256
  log(`relay: a ${mib} MiB folder sync through a member relay next to a direct link`)
  result.relay = await benchRelay({ mib, runs: quick ? 1 : 3, log })
}
if (only === undefined || only === 'idle') {
  log('idle: a started daemon with an empty directory, 30 s after it is up: RSS (target under 80 MB)')
  result.idle = await benchIdle({ runs: quick ? 1 : 3, log })
}
result.benchSeconds = Math.round((performance.now() - started) / 1000)
result.loadAverageAfter = os.loadavg()
console.log(JSON.stringify(result, null, 2))

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { startDaemon, stopDaemon } from './samepage-daemons.ts'

/**
 * The command line's own cost (issue 14: a command answers in at most 0.4 s):
 * `samepage id` answered by a running daemon, and `samepage status` against a
 * data directory with no daemon (the way every client command fails when none
 * runs), each run `runs` times as a user runs it, timed from spawn to exit.
 * Beside them `node -e 0`, the floor no command goes under. Also the modules
 * each command loads (test/helpers/record-modules.ts). Median, min and max in ms.
 */
const BIN = path.join(import.meta.dirname, '..', 'bin', 'samepage.js')
const RECORDER = pathToFileURL(path.join(import.meta.dirname, '..', 'test', 'helpers', 'record-modules.ts')).href

interface Timing { medianMs: number, minMs: number, maxMs: number }

function timed (runs: number, args: readonly string[], exitCode: number): Timing {
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint()
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
    ms.push(Number(process.hrtime.bigint() - started) / 1e6)
    if (r.status !== exitCode) throw new Error(`bench cli: ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  }
  ms.sort((a, b) => a - b)
  const round = (v: number): number => Math.round(v * 10) / 10
  const median = ms[Math.floor(ms.length / 2)] as number
  return { medianMs: round(median), minMs: round(ms[0] as number), maxMs: round(ms.at(-1) as number) }
}

function modulesLoaded (args: readonly string[], scratch: string): number {
  const record = path.join(scratch, 'modules.txt')
  spawnSync(process.execPath, ['--import', RECORDER, ...args], { env: { ...process.env, SAMEPAGE_RECORD_MODULES: record } })
  return fs.readFileSync(record, 'utf8').split('\n').filter(line => line !== '').length
}

export async function benchCli (opts: { runs: number, log: (msg: string) => void }): Promise<Record<string, unknown>> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-bench-cli-'))
  const dir = path.join(scratch, 'node')
  const idle = path.join(scratch, 'no-daemon')
  opts.log(`cli: ${opts.runs} runs each of node -e 0, samepage id (daemon running), samepage status (no daemon)`)
  const daemon = await startDaemon(dir, path.join(scratch, 'folder'))
  try {
    const loadAverageBefore = os.loadavg()
    const id = [BIN, '--dir', dir, 'id']
    const status = [BIN, '--dir', idle, 'status']
    const result = {
      runs: opts.runs,
      nodeAlone: timed(opts.runs, ['-e', '0'], 0),
      id: { ...timed(opts.runs, id, 0), modules: modulesLoaded(id, scratch) },
      statusNoDaemon: { ...timed(opts.runs, status, 1), modules: modulesLoaded(status, scratch) },
      loadAverageBefore,
      loadAverageAfter: os.loadavg()
    }
    return result
  } finally {
    await stopDaemon(daemon)
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

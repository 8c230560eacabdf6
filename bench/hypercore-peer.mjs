/**
 * bench/hypercore-peer.mjs: one process of the Hypercore side of the
 * late-joiner benchmark (bench/latejoin.ts spawns it). Plain JavaScript,
 * because Hypercore is not a dependency of samepage: it is installed by the
 * bench into a temporary directory, passed here as HYPERCORE_DIR (the folder
 * holding node_modules/hypercore), and resolved from there.
 *
 *   prepare <dir> <blocks> <bytes>   append the blocks (not timed), close, exit
 *   seed    <dir>                    open the core, listen on 127.0.0.1, replicate to whoever connects
 *   fetch   <dir> <port> <key> <blocks>
 *                                    connect, replicate, download blocks [0, blocks); the clock runs
 *                                    from connect until all of them are held locally
 *
 * Each process writes one JSON line per milestone on stdout; progress and
 * errors go to stderr. Every wait is bounded (LIMIT_MS).
 */
import { createRequire } from 'node:module'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

const LIMIT_MS = 5 * 60_000
const dirOfInstall = process.env.HYPERCORE_DIR
if (dirOfInstall === undefined) throw new Error('HYPERCORE_DIR is not set: the folder where hypercore was installed')
const Hypercore = createRequire(path.join(dirOfInstall, 'package.json'))('hypercore')

const say = (obj) => { process.stdout.write(JSON.stringify(obj) + '\n') }

function memory () {
  const status = fs.readFileSync('/proc/self/status', 'utf8')
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMB: Math.round(kb('VmRSS') / 1024), peakRssMB: Math.round(kb('VmHWM') / 1024) }
}

const timer = setTimeout(() => { process.stderr.write(`hypercore-peer: over ${LIMIT_MS / 1000} s, giving up\n`); process.exit(3) }, LIMIT_MS)
timer.unref()

const [mode, dir, ...args] = process.argv.slice(2)

if (mode === 'prepare') {
  const blocks = Number(args[0])
  const bytes = Number(args[1])
  const core = new Hypercore(dir)
  await core.ready()
  const batch = []
  for (let i = 0; i < blocks; i++) {
    // 100 bytes of distinct content per block (an index, padded).
    batch.push(Buffer.from(String(i).padStart(bytes, '.')))
    if (batch.length === 1000 || i === blocks - 1) { await core.append(batch); batch.length = 0 }
  }
  say({ prepared: core.length, key: core.key.toString('hex') })
  await core.close()
  process.exit(0)
} else if (mode === 'seed') {
  const core = new Hypercore(dir)
  await core.ready()
  const server = net.createServer(socket => {
    socket.setNoDelay(true)
    const stream = core.replicate(false)
    socket.pipe(stream).pipe(socket)
    const end = () => { socket.destroy(); stream.destroy() }
    socket.on('error', end)
    stream.on('error', end)
  })
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  say({ ready: true, port: server.address().port, key: core.key.toString('hex'), length: core.length, rest: memory() })
  // Runs until the parent ends it (SIGTERM); the timer above bounds it otherwise.
  setInterval(() => {}, 60_000)
} else if (mode === 'fetch') {
  const [portText, keyHex, blocksText] = args
  const blocks = Number(blocksText)
  const core = new Hypercore(dir, Buffer.from(keyHex, 'hex'))
  await core.ready()
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  const socket = net.connect(Number(portText), '127.0.0.1')
  socket.setNoDelay(true)
  const stream = core.replicate(true)
  socket.pipe(stream).pipe(socket)
  socket.on('error', err => { process.stderr.write(`hypercore-peer fetch: socket ${err.message}\n`) })
  stream.on('error', err => { process.stderr.write(`hypercore-peer fetch: stream ${err.message}\n`) })
  const range = core.download({ start: 0, end: blocks })
  await range.done()
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const cpuSeconds = Math.round((cpu.user + cpu.system) / 1000) / 1000
  if (core.contiguousLength < blocks) throw new Error(`only ${core.contiguousLength} of ${blocks} blocks held after the download`)
  // A spot check, not timed: the last block is the writer's.
  const last = (await core.get(blocks - 1, { wait: false }))?.toString().replace(/^\.+/, '')
  say({ done: true, blocks: core.contiguousLength, seconds, cpuSeconds, lastBlockOk: last === String(blocks - 1), memory: memory() })
  socket.destroy()
  await core.close().catch(() => {})
  process.exit(0)
} else {
  process.stderr.write('usage: hypercore-peer.mjs prepare|seed|fetch <dir> ...\n')
  process.exit(2)
}

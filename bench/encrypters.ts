/**
 * The connection encrypters side by side, in one run: TLS 1.3 (OpenSSL's
 * AES-GCM on the TCP socket's handle, src/net/tls-direct.ts) and Noise (with
 * samepage's node:crypto ChaCha20-Poly1305), each as the daemon builds it
 * (src/net/encrypters.ts); in raw mode also 'tls-js', the stock @libp2p/tls
 * over a JS Duplex, which the daemon no longer uses:
 *
 *   raw     MiB over one stream of one libp2p connection (TCP, the encrypter,
 *           Yamux; no samepage protocol), the sender in this process, the
 *           receiver in a child process: MB/s, CPU-seconds of each side;
 *   folder  one random file between two samepage daemons that offer only
 *           that encrypter: time to synced, MB/s, CPU-seconds of both daemons.
 *
 * Runs alternate (TLS, Noise, TLS, Noise, ...) so that a change in the
 * machine's load falls on both; the load average is recorded before and after.
 *
 * Alone, one raw transfer (for an outside timer to compare whole processes):
 *   node bench/encrypters.ts send tls 512      prints that transfer's JSON (tls, tls-js or noise)
 *   node bench/encrypters.ts sink tls          the receiver, which send starts
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { connectionEncrypters } from '../src/net/index.ts'
import type { EncrypterName } from '../src/net/index.ts'
import { shareFolder, startDaemon, stopDaemon, waitSynced } from './samepage-daemons.ts'
import type { Daemon } from './samepage-daemons.ts'

export interface EncrypterBenchOptions {
  readonly rawMiB: number
  readonly rawRuns: number
  readonly folderMiB: number
  readonly folderRuns: number
  readonly log: (msg: string) => void
}

const SINK_PROTOCOL = '/samepage-bench/sink/1.0.0'
const CHUNK_BYTES = 256 * 1024
const MB = 1e6
const NAMES: readonly EncrypterName[] = ['tls', 'noise']
/** Raw mode also measures the stock @libp2p/tls, which config.json (so a daemon) cannot ask for. */
const RAW_NAMES: readonly EncrypterName[] = ['tls', 'tls-js', 'noise']
const CLOCK_TICKS_PER_SECOND = 100

export async function benchEncrypters (opts: EncrypterBenchOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { loadAverageBefore: os.loadavg() }
  const raw: Record<string, Record<string, number>[]> = { tls: [], 'tls-js': [], noise: [] }
  for (let i = 0; i < opts.rawRuns; i++) {
    for (const name of RAW_NAMES) {
      opts.log(`encrypters: raw ${opts.rawMiB} MiB over ${name}, run ${i + 1} of ${opts.rawRuns}`)
      raw[name]?.push(await rawTransfer(name, opts.rawMiB))
    }
  }
  out.raw = { MiB: opts.rawMiB, ...summary(raw) }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-encrypters-'))
  try {
    const data = path.join(root, 'data.bin')
    writeRandom(data, opts.folderMiB * 1024 * 1024)
    const folder: Record<string, Record<string, number>[]> = { tls: [], noise: [] }
    for (let i = 0; i < opts.folderRuns; i++) {
      for (const name of NAMES) {
        opts.log(`encrypters: a ${opts.folderMiB} MiB file between two daemons over ${name}, run ${i + 1} of ${opts.folderRuns}`)
        folder[name]?.push(await folderTransfer(name, path.join(root, `${name}${i}`), data))
      }
    }
    out.folder = { MiB: opts.folderMiB, ...summary(folder) }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  out.loadAverageAfter = os.loadavg()
  out.note = 'tlsSpeedup = noise seconds / tls seconds (median runs); cpuSeconds = sender + receiver'
  return out
}

/** Per encrypter: every run, the medians; and TLS's speed-up over Noise. */
function summary (runs: Record<string, Record<string, number>[]>): Record<string, unknown> {
  const medians: Record<string, Record<string, number>> = {}
  for (const [name, rs] of Object.entries(runs)) {
    medians[name] = Object.fromEntries(Object.keys(rs[0] ?? {}).map(k => [k, median(rs.map(r => r[k] as number))]))
  }
  return {
    runs,
    medians,
    tlsSpeedup: round((medians.noise?.seconds ?? NaN) / (medians.tls?.seconds ?? NaN))
  }
}

// ------------------------------------------------------------------ raw: one stream, two processes

async function bareNode (name: EncrypterName, listen: boolean): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: connectionEncrypters([name]),
    streamMuxers: [yamux()]
  })
}

/** `mib` MiB to a receiver in a child process over `name`; timed until the receiver says it has them all. */
async function rawTransfer (name: EncrypterName, mib: number): Promise<Record<string, number>> {
  const sink = spawn(process.execPath, [import.meta.filename, 'sink', name], { stdio: ['ignore', 'pipe', 'inherit'] })
  const node = await bareNode(name, false)
  try {
    const addr = await firstLine(sink)
    const connection = await node.dial(multiaddr(addr))
    const stream = await connection.newStream(SINK_PROTOCOL)
    const chunk = crypto.randomBytes(CHUNK_BYTES)
    const bytes = mib * 1024 * 1024
    const cpu0 = process.cpuUsage()
    const sinkCpu0 = cpuSecondsOf(sink.pid as number)
    const t0 = performance.now()
    const answer = (async () => {
      let got = 0
      for await (const buf of stream) got += buf.byteLength
      return got
    })()
    for (let sent = 0; sent < bytes; sent += CHUNK_BYTES) {
      if (!stream.send(chunk)) await stream.onDrain()
    }
    await stream.close()
    const acknowledged = await answer
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const sender = (cpu.user + cpu.system) / 1e6
    const receiver = cpuSecondsOf(sink.pid as number) - sinkCpu0
    if (acknowledged !== 8) throw new Error(`the receiver answered ${acknowledged} bytes, not its count`)
    if (connection.encryption !== (name === 'noise' ? '/noise' : '/tls/1.0.0')) {
      throw new Error(`asked for ${name}, got ${connection.encryption ?? 'none'}`)
    }
    return transferFigures(bytes, seconds, sender, receiver)
  } finally {
    await node.stop()
    await stopChild(sink)
  }
}

/** The receiver: prints its address, counts what each stream brings, answers with the count when it ends. */
async function runSink (name: EncrypterName): Promise<void> {
  const node = await bareNode(name, true)
  await node.handle(SINK_PROTOCOL, async stream => {
    let got = 0
    for await (const buf of stream) got += buf.byteLength
    const count = Buffer.alloc(8)
    count.writeBigUInt64BE(BigInt(got))
    stream.send(count)
    await stream.close()
  })
  console.log(node.getMultiaddrs()[0]?.toString())
  await new Promise<void>(resolve => { process.once('SIGTERM', () => { resolve() }) })
  await node.stop()
}

// ------------------------------------------------------------------ folder: two daemons

async function folderTransfer (name: EncrypterName, root: string, data: string): Promise<Record<string, number>> {
  const config = JSON.stringify({ encrypters: [name] })
  const nodes: Daemon[] = []
  try {
    for (const i of [0, 1]) {
      const dir = path.join(root, `node${i}`)
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, 'config.json'), config)
      const peers = nodes.flatMap(d => ['--peer', d.addrs[0] as string])
      nodes.push(await startDaemon(dir, path.join(root, `folder${i}`), peers))
    }
    const [a, b] = nodes as [Daemon, Daemon]
    const bytes = fs.statSync(data).size
    fs.copyFileSync(data, path.join(a.folder, 'big.bin'))
    const cpu0 = nodes.map(n => cpuSecondsOf(n.pid))
    const t0 = performance.now()
    const space = await shareFolder(nodes, 'bench')
    await waitSynced(nodes, space, { files: 1, bytes })
    const seconds = (performance.now() - t0) / 1000
    const [sender, receiver] = nodes.map((n, i) => cpuSecondsOf(n.pid) - (cpu0[i] as number)) as [number, number]
    const peers = await b.call('GET', '/v1/peers') as { encryption?: string }[]
    if (peers[0]?.encryption !== (name === 'tls' ? '/tls/1.0.0' : '/noise')) {
      throw new Error(`asked for ${name}, the daemons agreed on ${peers[0]?.encryption ?? 'nothing'}`)
    }
    return {
      ...transferFigures(bytes, seconds, sender, receiver),
      senderPeakRssMB: round(peakRss(a.pid) / MB),
      receiverPeakRssMB: round(peakRss(b.pid) / MB)
    }
  } finally {
    for (const d of nodes) await stopDaemon(d)
  }
}

// ------------------------------------------------------------------ processes and data

/** User + system CPU of a live process, from the kernel's accounting (clock ticks). */
function cpuSecondsOf (pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

function peakRss (pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024
}

async function firstLine (child: ChildProcess): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! })
    lines.once('line', line => { resolve(line) })
    child.once('exit', code => { reject(new Error(`the receiver exited with ${code}`)) })
  })
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

function writeRandom (file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w')
  try {
    for (let done = 0; done < bytes; done += 1024 * 1024) fs.writeSync(fd, crypto.randomBytes(Math.min(1024 * 1024, bytes - done)))
  } finally {
    fs.closeSync(fd)
  }
}

function median (xs: readonly number[]): number {
  const sorted = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)] as number
}

/** Time, throughput and the CPU of both ends, in total and per GiB moved. */
function transferFigures (bytes: number, seconds: number, sender: number, receiver: number): Record<string, number> {
  return {
    seconds: round(seconds),
    MBps: round(bytes / MB / seconds),
    senderCpuSeconds: round(sender),
    receiverCpuSeconds: round(receiver),
    cpuSeconds: round(sender + receiver),
    cpuSecondsPerGiB: round((sender + receiver) * 1024 ** 3 / bytes)
  }
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

if (import.meta.main) {
  const [role, name, mib] = process.argv.slice(2)
  if ((role !== 'send' && role !== 'sink') || !RAW_NAMES.includes(name as EncrypterName)) {
    console.error('usage: node bench/encrypters.ts send tls|tls-js|noise [MiB] | sink tls|tls-js|noise')
    process.exit(2)
  }
  if (role === 'sink') await runSink(name as EncrypterName)
  else console.log(JSON.stringify({ encrypter: name, ...await rawTransfer(name as EncrypterName, Number(mib ?? 256)) }))
}

import v8 from 'node:v8'
import { createLogger, isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from '../log/index.ts'
import type { LogFormat, Logger } from '../log/index.ts'
import type { NodeConfig } from '../node/index.ts'
import { isMultiaddr, Node, readConfig, rememberPort, stablePort } from '../node/index.ts'
import type { NodeOptions } from '../node/index.ts'
import { loadApiServer } from '../api/index.ts'
import { printable } from '../ids/index.ts'
import { CliError } from './client.ts'
import { growYoungGenerationInBursts } from './young-generation.ts'
import { returnMemoryWhenQuiet } from './quiet-gc.ts'
import { parseRate } from './rate.ts'

/** The flags of `samepage start`, as commander parses them. */
export interface StartFlags {
  listen: string[]
  peer: string[]
  api?: string
  mdns?: boolean
  maxUp?: string
  maxDown?: string
  logLevel?: string
  logFormat?: string
}

/** The flags, and the global ones (`--dir`, `--json`). */
interface StartOptions extends StartFlags {
  dir: string
  json: boolean
}

/** Where peers reach a node and where its API listens when nothing says otherwise (their ports: node/ports.ts). */
const LISTEN_HOST = '0.0.0.0'
const API_HOST = '127.0.0.1'

/**
 * Runs a node and its API in the foreground until SIGINT, SIGTERM or
 * `samepage stop`, then stops cleanly and ends the process (exit code 0). The command line wins over
 * config.json in the data directory; peers from both are dialled. Where
 * neither names an address, the node listens on every interface and the API
 * on 127.0.0.1, each at its stable port (chosen once the directory is locked, remembered once bound).
 * `inject` is for test daemons (test/helpers/), which start this same
 * daemon with a fault injected.
 */
export async function startDaemon (opts: StartOptions, inject: Pick<NodeOptions, 'blockAnswers'> = {}): Promise<void> {
  // Plain lines until the logger is made (and after, in the human format: their form is a contract of their own).
  let say = plainLine
  process.on('SIGHUP', () => { say('warn', HANG_UP_IGNORED) })
  const config = readConfig(opts.dir)
  for (const [flag, values] of [['--peer', opts.peer], ['--listen', opts.listen]] as const) {
    const bad = values.find(v => !isMultiaddr(v))
    if (bad !== undefined) {
      const like = flag === '--peer' ? '/ip4/192.0.2.7/tcp/4815/p2p/12D3KooW…' : '/ip4/0.0.0.0/tcp/4815'
      throw new CliError(`${flag} ${JSON.stringify(bad)} is not a multiaddr like ${like}`, 2)
    }
  }
  const { logger, format } = daemonLogger(opts, config)
  if (format === 'json') say = (level, message) => { logger[level]({}, message) }
  const apiText = opts.api ?? config.api
  const [host, portText] = apiText === undefined ? [API_HOST, undefined] : splitHostPort(apiText)
  const listenGiven = opts.listen.length > 0 ? opts.listen : config.listen
  let listenPort: number | undefined
  const listen = listenGiven ?? (async () => {
    listenPort = await stablePort(opts.dir, 'listen', LISTEN_HOST)
    return [`/ip4/${LISTEN_HOST}/tcp/${listenPort}`]
  })
  // Before the node opens: nothing to close if it failed to load.
  const ApiServer = await loadApiServer()
  // SIGINT, SIGTERM and `samepage stop` (POST /v1/stop) stop the daemon the same clean way.
  let requestStop = (): void => {}
  const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
  const stopAsked = (): void => {
    say('info', 'stopping: samepage stop asked for it')
    requestStop()
  }
  // Before the node says it is up: a SIGTERM that follows that line at once must stop it cleanly, not kill it
  // (a signal without a handler ends the process where it stands). One during start stops it once started.
  process.once('SIGINT', requestStop)
  process.once('SIGTERM', requestStop)
  const node = Node.open({
    dir: opts.dir,
    listen,
    peers: [...(config.peers ?? []), ...opts.peer],
    mdns: opts.mdns ?? config.mdns ?? false,
    maxUpBytesPerSecond: opts.maxUp === undefined ? 0 : parseRate('--max-up', opts.maxUp),
    maxDownBytesPerSecond: opts.maxDown === undefined ? 0 : parseRate('--max-down', opts.maxDown),
    name: config.name,
    alerts: config.alerts,
    blockStallMs: config.blockStallSeconds === undefined ? undefined : config.blockStallSeconds * 1000,
    diskReserveBytes: config.diskReserveBytes,
    encrypters: config.encrypters,
    meshLinks: config.meshLinks,
    relayLimits: config.relay,
    logger,
    ...inject
  })
  node.on('notice', n => { say('warn', n.message, n.atMs) })
  const stopGrowingInBursts = growYoungGenerationInBursts(node)
  let api: InstanceType<typeof ApiServer> | undefined
  try {
    optimizeFromNow()
    await node.start()
    // The API's port is chosen after the node's is bound, so that the two never choose the same one.
    const apiPort = portText === undefined ? await stablePort(opts.dir, 'api', host) : Number(portText)
    api = new ApiServer({ node, host, port: apiPort, onStopRequest: stopAsked, apiHosts: config.apiHosts, logger })
    const address = await api.start()
    if (listenPort !== undefined) rememberPort(opts.dir, 'listen', listenPort)
    if (portText === undefined) rememberPort(opts.dir, 'api', apiPort)
    const id = node.id()
    if (opts.json) console.log(JSON.stringify({ peerId: id.peerId, addrs: id.addrs, api: address.url }))
    else {
      console.log([
        `samepage node ${id.peerId}`,
        ...id.addrs.map(a => `  listening on ${a}`),
        `  api on ${address.url} (token in ${opts.dir}/api.json)`,
        'Stop with Ctrl-C or samepage stop.'
      ].join('\n'))
    }
  } catch (err) {
    await api?.stop().catch(() => {})
    await node.stop().catch(() => {})
    throw err
  }
  const stopReturningMemory = returnMemoryWhenQuiet()
  await stopRequested
  stopReturningMemory()
  stopGrowingInBursts()
  await api.stop()
  await node.stop()
  // Everything is closed and durable: end the process here rather than when its event loop has drained. Node's
  // teardown after a drained loop waits for every libuv request it still counts (FreeEnvironment's
  // CleanupHandles); a stopped daemon was seen spinning there without end, its store long closed, and whoever
  // waited for it (a service manager, `samepage stop`, a test) waited with it. process.exit skips that teardown.
  // Its lines are written already: stderr and stdout are synchronous for files, pipes and terminals on Linux.
  process.exit(0)
}

/**
 * V8's optimizing compilers were off while the daemon loaded its modules and opened its store, code that runs
 * once (lib/daemon-v8.js, deferOptimizingCompilers, says why); from here on, before the network and the folders
 * start (a restart's first scan of a large folder is hot code), they are on. Harmless where they never were off.
 */
function optimizeFromNow (): void {
  v8.setFlagsFromString('--maglev')
  v8.setFlagsFromString('--turbofan')
}

/**
 * SIGHUP (a closed terminal, or a `kill -HUP` sent by habit) would
 * kill the daemon by default, leaving its lock and WAL behind. Nothing it
 * reads at start can change while it runs (ports, peers, encrypters), so it
 * is ignored, and said so: a change to config.json needs a restart.
 */
const HANG_UP_IGNORED = 'SIGHUP ignored (nothing to reload): config.json is read at start; ' +
  'to apply a change, restart: samepage stop, then samepage start'

/** The most of one line the daemon prints on stderr (a notice is a few hundred characters). */
const LINE_CHARS_MAX = 2000

/** What the daemon tells its operator, as the "samepage: TIME message" line it has always printed on stderr. */
function plainLine (_level: 'info' | 'warn', message: string, atMs = Date.now()): void {
  // A notice may quote a peer's text (a space's name): one line, no control character reaches the terminal.
  process.stderr.write(`samepage: ${new Date(atMs).toISOString()} ${printable(message, LINE_CHARS_MAX)}\n`)
}

/** The logger on stderr: --log-level, then SAMEPAGE_LOG_LEVEL, then config.json; --log-format, then config.json. */
function daemonLogger (opts: StartOptions, config: NodeConfig): { logger: Logger, format: LogFormat } {
  const fromEnv = process.env.SAMEPAGE_LOG_LEVEL === '' ? undefined : process.env.SAMEPAGE_LOG_LEVEL
  const [levelFrom, level] = opts.logLevel !== undefined
    ? ['--log-level', opts.logLevel]
    : fromEnv !== undefined ? ['SAMEPAGE_LOG_LEVEL', fromEnv] : ['config.json "logLevel"', config.logLevel ?? 'info']
  if (!isLogLevel(level)) {
    throw new CliError(`${levelFrom} ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`, 2)
  }
  const format = opts.logFormat ?? config.logFormat ?? 'human'
  if (!isLogFormat(format)) {
    throw new CliError(`--log-format ${JSON.stringify(format)} is not one of ${LOG_FORMATS.join(', ')}`, 2)
  }
  return { logger: createLogger({ level, format }), format }
}

function splitHostPort (text: string): [string, string] {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text)
  if (m === null) {
    throw new CliError(`--api ${JSON.stringify(text)} is not HOST:PORT (like 127.0.0.1:4816, or port 0 for any)`, 2)
  }
  return [(m[1] as string).replace(/^\[|\]$/g, ''), m[2] as string]
}

import { Node, readConfig } from '../node/index.ts'
import type { NodeOptions } from '../node/index.ts'
import { loadApiServer } from '../api/index.ts'
import { CliError } from './client.ts'
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
}

/** The flags, and the global ones (`--dir`, `--json`). */
interface StartOptions extends StartFlags {
  dir: string
  json: boolean
}

/**
 * Runs a node and its API in the foreground until SIGINT or SIGTERM, then
 * stops cleanly. The command line wins over config.json in the data
 * directory; peers from both are dialled. `inject` is for test daemons
 * (test/helpers/), which start this same daemon with a fault injected.
 */
export async function startDaemon (opts: StartOptions, inject: Pick<NodeOptions, 'blockAnswers'> = {}): Promise<void> {
  const config = readConfig(opts.dir)
  const [host, portText] = splitHostPort(opts.api ?? config.api ?? '127.0.0.1:0')
  const listen = opts.listen.length > 0 ? opts.listen : config.listen ?? ['/ip4/127.0.0.1/tcp/0']
  // Before the node opens: nothing to close if it failed to load.
  const ApiServer = await loadApiServer()
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
    ...inject
  })
  const api = new ApiServer({ node, host, port: Number(portText) })
  node.on('notice', n => { process.stderr.write(`samepage: ${new Date(n.atMs).toISOString()} ${n.message}\n`) })
  try {
    await node.start()
    const address = await api.start()
    const id = node.id()
    if (opts.json) console.log(JSON.stringify({ peerId: id.peerId, addrs: id.addrs, api: address.url }))
    else {
      console.log([
        `samepage node ${id.peerId}`,
        ...id.addrs.map(a => `  listening on ${a}`),
        `  api on ${address.url} (token in ${opts.dir}/api.json)`,
        'Stop with Ctrl-C.'
      ].join('\n'))
    }
  } catch (err) {
    await api.stop().catch(() => {})
    await node.stop().catch(() => {})
    throw err
  }
  const stopReturningMemory = returnMemoryWhenQuiet()
  await new Promise<void>(resolve => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  stopReturningMemory()
  await api.stop()
  await node.stop()
}

function splitHostPort (text: string): [string, string] {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text)
  if (m === null) {
    throw new CliError(`--api ${JSON.stringify(text)} is not HOST:PORT (like 127.0.0.1:7070, or port 0 for any)`, 2)
  }
  return [(m[1] as string).replace(/^\[|\]$/g, ''), m[2] as string]
}

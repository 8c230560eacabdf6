import net from 'node:net'
import path from 'node:path'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'

/**
 * Stable ports for `samepage start` when neither the command line nor
 * config.json names an address: peers reach a node on TCP 4815 on every
 * interface, its API listens on 127.0.0.1:4816. If one is taken, the next
 * free port above it (16 tried in all), and if none of those is free, any
 * port the system gives. The port a data directory got is remembered in
 * ports.json there and tried first at the next start, so a node that
 * restarts is found again where its peers last saw it, even when another
 * node on the machine took the default meanwhile.
 *
 * 4815 and 4816: registered to nobody in the system's list of well-known
 * ports (/etc/services), below the range the system hands out for port 0,
 * and clear of Syncthing (22000, 21027), IPFS (4001, 5001, 8080) and Zenoh (7447).
 */
export const PEER_PORT = 4815
export const API_PORT = 4816
/** The ports tried from the default up, before any free port is asked for. */
const PORTS_TRIED = 16
const PORTS_FILE = 'ports.json'

/** Which of the node's two listening sockets a port is for. */
type PortUse = 'listen' | 'api'
type RememberedPorts = Partial<Record<PortUse, number>>

/**
 * The port for `use` on `host`: the one this directory used before if it is
 * free, else the first free one from `first` (the default for `use`) up,
 * else any free one. Each is tried by binding it and letting it go at once;
 * the caller binds it for good straight after (a program that takes it in
 * between makes the start fail, and the next start chooses again).
 */
export async function stablePort (dir: string, use: PortUse, host: string, first = defaultPort(use)): Promise<number> {
  const remembered = readPorts(dir)[use]
  const tried = [...new Set([...(remembered === undefined ? [] : [remembered]),
    ...Array.from({ length: PORTS_TRIED }, (_, i) => first + i)])]
  for (const port of tried) {
    if (await bindable(host, port)) return port
  }
  return await anyFreePort(host)
}

/** Remembers the port `use` got, for the next start (written only when it changed). */
export function rememberPort (dir: string, use: PortUse, port: number): void {
  const ports = readPorts(dir)
  if (ports[use] === port) return
  writeFileAtomic(path.join(dir, PORTS_FILE), JSON.stringify({ ...ports, [use]: port }) + '\n')
}

function defaultPort (use: PortUse): number {
  return use === 'listen' ? PEER_PORT : API_PORT
}

/**
 * What ports.json says. It is the node's own memory, not a setting: a file
 * that does not hold ports (edited by hand) is as good as none, and is
 * replaced at the next start.
 */
function readPorts (dir: string): RememberedPorts {
  const text = readTextOr(path.join(dir, PORTS_FILE), null)
  if (text === null) return {}
  let raw: unknown
  try { raw = JSON.parse(text) } catch { return {} }
  if (typeof raw !== 'object' || raw === null) return {}
  const out: RememberedPorts = {}
  for (const use of ['listen', 'api'] as const) {
    const port = (raw as Record<string, unknown>)[use]
    if (Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536) out[use] = port as number
  }
  return out
}

/** Whether `port` on `host` can be listened on now: taken (or not ours to take) is false, any other failure thrown. */
async function bindable (host: string, port: number): Promise<boolean> {
  if (port > 65535) return false
  const server = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, () => resolve())
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES') return false
    throw err
  }
  await new Promise<void>(resolve => server.close(() => resolve()))
  return true
}

async function anyFreePort (host: string): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

import fs from 'node:fs'
import path from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { NodeError } from './errors.ts'

/**
 * `config.json` in the data directory: what `samepage start` uses when the
 * command line does not say otherwise. Optional; every field is optional.
 *
 *   { "listen": ["/ip4/0.0.0.0/tcp/4001"], "peers": ["/ip4/…/tcp/4001/p2p/12D3KooW…"],
 *     "mdns": false, "api": "127.0.0.1:7070" }
 *
 * Peers from here and from `--peer` are both dialled; `--listen`, `--api`
 * and `--mdns` given on the command line win.
 */
export interface NodeConfig {
  readonly listen?: readonly string[] | undefined
  readonly peers?: readonly string[] | undefined
  readonly mdns?: boolean | undefined
  readonly api?: string | undefined
}

export const CONFIG_FILE = 'config.json'

export function readConfig (dir: string): NodeConfig {
  const file = path.join(dir, CONFIG_FILE)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  const fix = `fix ${file} or remove it`
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new NodeError('BAD_CONFIG', `${file} is not valid JSON (${(err as Error).message}); ${fix}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new NodeError('BAD_CONFIG', `${file} must hold a JSON object like {"peers": []}; ${fix}`)
  const o = raw as Record<string, unknown>
  const unknown = Object.keys(o).filter(k => !['listen', 'peers', 'mdns', 'api'].includes(k))
  if (unknown.length > 0) throw new NodeError('BAD_CONFIG', `${file} has unknown field ${JSON.stringify(unknown[0])} (known: listen, peers, mdns, api); ${fix}`)
  const addrs = (field: 'listen' | 'peers'): string[] | undefined => {
    const v = o[field]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || !v.every(a => typeof a === 'string')) throw new NodeError('BAD_CONFIG', `${file}: "${field}" must be a list of multiaddr strings; ${fix}`)
    for (const a of v as string[]) {
      try { multiaddr(a) } catch { throw new NodeError('BAD_CONFIG', `${file}: "${field}" holds ${JSON.stringify(a)}, which is not a multiaddr like /ip4/127.0.0.1/tcp/4001; ${fix}`) }
    }
    return v as string[]
  }
  if (o.mdns !== undefined && typeof o.mdns !== 'boolean') throw new NodeError('BAD_CONFIG', `${file}: "mdns" must be true or false; ${fix}`)
  if (o.api !== undefined && typeof o.api !== 'string') throw new NodeError('BAD_CONFIG', `${file}: "api" must be a string like "127.0.0.1:7070"; ${fix}`)
  return { listen: addrs('listen'), peers: addrs('peers'), mdns: o.mdns as boolean | undefined, api: o.api as string | undefined }
}

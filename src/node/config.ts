import path from 'node:path'
import { readTextOr } from '../atomic-file/index.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { NodeError } from './errors.ts'
import { DEFAULT_THRESHOLDS } from '../telemetry/index.ts'
import type { AlertThresholds } from '../telemetry/index.ts'
import type { EncrypterName, RelayLimits } from '../net/index.ts'
import { parseRelayLimits } from './relay-limits.ts'
import { isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from '../log/index.ts'
import type { LogFormat, LogLevel } from '../log/index.ts'

/**
 * `config.json` in the data directory: what `samepage start` uses when the
 * command line does not say otherwise. Optional; every field is optional.
 *
 *   { "listen": ["/ip4/0.0.0.0/tcp/4815"], "peers": ["/ip4/…/tcp/4815/p2p/12D3KooW…"],
 *     "mdns": false, "api": "127.0.0.1:4816", "name": "rack-3", "blockStallSeconds": 30,
 *     "encrypters": ["tls", "noise"], "logLevel": "info", "logFormat": "human",
 *     "alerts": { "temperatureC": 85, "diskFreePercent": 5, "memoryFreePercent": 3,
 *                 "peerUnreachableSeconds": 60, "folderStuckSeconds": 300 } }
 *
 * `name` is how the node shows in the network map (default: the host name);
 * `alerts` sets thresholds (each optional; the defaults are shown);
 * `blockStallSeconds` is the least time a chunk request waits unanswered
 * before its peer counts as stalled for a folder pass (1 to 3600; default 30).
 * `diskReserveBytes` is the free disk a folder write must leave (default:
 * 1% of the disk, at least 256 MiB, at most 5% of it).
 * `encrypters` are the connection encrypters offered, most preferred first
 * (default TLS, then Noise; the dialler's order wins).
 * `relay` sets how this node relays for members (relay-limits.ts).
 * `meshLinks` false: peer exchange only refreshes the addresses of peers this
 * node already reaches and never links it to members it never met (default true).
 * `logLevel` (debug, info, warn, error, silent) and `logFormat` (human, json)
 * are how the daemon logs on stderr; `--log-level`, `SAMEPAGE_LOG_LEVEL` and `--log-format` win.
 *
 * Peers from here and from `--peer` are both dialled; `--listen`, `--api`
 * and `--mdns` given on the command line win. Without "listen" or "api" (here
 * or on the command line), the node takes its stable ports (ports.ts).
 */
export interface NodeConfig {
  readonly listen?: readonly string[] | undefined
  readonly peers?: readonly string[] | undefined
  readonly mdns?: boolean | undefined
  readonly meshLinks?: boolean | undefined
  readonly api?: string | undefined
  /** More host names the API answers to than its own (api/own-host.ts): a proxy's, say. */
  readonly apiHosts?: readonly string[] | undefined
  readonly name?: string | undefined
  readonly alerts?: Partial<AlertThresholds> | undefined
  readonly blockStallSeconds?: number | undefined
  /**
   * Free bytes a folder write must leave on its disk for the node's store
   * (default: 1% of the disk, at least 256 MiB, at most 5%).
   */
  readonly diskReserveBytes?: number | undefined
  readonly encrypters?: readonly EncrypterName[] | undefined
  /** Relaying for members: relay-limits.ts has the fields, their bounds and defaults. */
  readonly relay?: RelayLimits | undefined
  readonly logLevel?: LogLevel | undefined
  readonly logFormat?: LogFormat | undefined
}

export const CONFIG_FILE = 'config.json'
/** Every encrypter a node can offer (a type import only: reading the config loads no libp2p). */
const ENCRYPTERS: readonly EncrypterName[] = ['tls', 'noise']

export function readConfig (dir: string): NodeConfig {
  const file = path.join(dir, CONFIG_FILE)
  const text = readTextOr(file, null)
  if (text === null) return {}
  const fix = `fix ${file} or remove it`
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new NodeError('BAD_CONFIG', `${file} is not valid JSON (${(err as Error).message}); ${fix}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new NodeError('BAD_CONFIG', `${file} must hold a JSON object like {"peers": []}; ${fix}`)
  }
  const o = raw as Record<string, unknown>
  const known = ['listen', 'peers', 'mdns', 'meshLinks', 'api', 'apiHosts', 'name', 'alerts', 'blockStallSeconds',
    'diskReserveBytes', 'encrypters', 'relay', 'logLevel', 'logFormat']
  const unknown = Object.keys(o).filter(k => !known.includes(k))
  if (unknown.length > 0) {
    throw new NodeError('BAD_CONFIG',
      `${file} has unknown field ${JSON.stringify(unknown[0])} (known: ${known.join(', ')}); ${fix}`)
  }
  const addrs = (field: 'listen' | 'peers'): string[] | undefined => {
    const v = o[field]
    if (v === undefined) return undefined
    if (!Array.isArray(v) || !v.every(a => typeof a === 'string')) {
      throw new NodeError('BAD_CONFIG', `${file}: "${field}" must be a list of multiaddr strings; ${fix}`)
    }
    for (const a of v as string[]) {
      if (!isMultiaddr(a)) {
        throw new NodeError('BAD_CONFIG',
          `${file}: "${field}" holds ${JSON.stringify(a)}, ` +
          `which is not a multiaddr like /ip4/127.0.0.1/tcp/4815; ${fix}`)
      }
    }
    return v as string[]
  }
  for (const flag of ['mdns', 'meshLinks'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      throw new NodeError('BAD_CONFIG', `${file}: "${flag}" must be true or false; ${fix}`)
    }
  }
  if (o.api !== undefined && typeof o.api !== 'string') {
    throw new NodeError('BAD_CONFIG', `${file}: "api" must be a string like "127.0.0.1:4816"; ${fix}`)
  }
  const apiHosts = o.apiHosts
  if (apiHosts !== undefined && !(Array.isArray(apiHosts) && apiHosts.every(h => typeof h === 'string' &&
      /^[a-z0-9.-]{1,253}$/i.test(h)))) {
    throw new NodeError('BAD_CONFIG', `${file}: "apiHosts" must be a list of host names like "samepage.lan"; ${fix}`)
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '' || o.name.length > 64)) {
    throw new NodeError('BAD_CONFIG', `${file}: "name" must be a string of 1 to 64 characters; ${fix}`)
  }
  const stall = o.blockStallSeconds
  if (stall !== undefined && (typeof stall !== 'number' || !Number.isFinite(stall) || stall < 1 || stall > 3600)) {
    throw new NodeError('BAD_CONFIG', `${file}: "blockStallSeconds" must be a number from 1 to 3600; ${fix}`)
  }
  const reserve = o.diskReserveBytes
  if (reserve !== undefined && !(Number.isSafeInteger(reserve) && (reserve as number) >= 0)) {
    throw new NodeError('BAD_CONFIG', `${file}: "diskReserveBytes" must be a whole number of bytes, 0 or more; ${fix}`)
  }
  const encrypters = o.encrypters
  const names: readonly unknown[] = ENCRYPTERS
  if (encrypters !== undefined && !(Array.isArray(encrypters) && encrypters.length > 0 &&
      encrypters.every((e, i) => names.includes(e) && encrypters.indexOf(e) === i))) {
    throw new NodeError('BAD_CONFIG',
      `${file}: "encrypters" must list "tls" and/or "noise", each once, most preferred first; ${fix}`)
  }
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel)) {
    throw new NodeError('BAD_CONFIG', `${file}: "logLevel" must be one of ${LOG_LEVELS.join(', ')}; ${fix}`)
  }
  if (o.logFormat !== undefined && !isLogFormat(o.logFormat)) {
    throw new NodeError('BAD_CONFIG', `${file}: "logFormat" must be one of ${LOG_FORMATS.join(', ')}; ${fix}`)
  }
  return {
    listen: addrs('listen'),
    peers: addrs('peers'),
    mdns: o.mdns as boolean | undefined,
    meshLinks: o.meshLinks as boolean | undefined,
    api: o.api as string | undefined,
    apiHosts: apiHosts as string[] | undefined,
    name: o.name as string | undefined,
    alerts: alerts(o.alerts, file, fix),
    blockStallSeconds: stall as number | undefined,
    diskReserveBytes: reserve as number | undefined,
    encrypters: encrypters as EncrypterName[] | undefined,
    relay: relayLimits(o.relay, file, fix),
    logLevel: o.logLevel,
    logFormat: o.logFormat
  }
}

function relayLimits (v: unknown, file: string, fix: string): RelayLimits | undefined {
  if (v === undefined) return undefined
  try {
    return parseRelayLimits(v)
  } catch (err) {
    throw new NodeError('BAD_CONFIG', `${file}: ${(err as Error).message}; ${fix}`)
  }
}

function alerts (v: unknown, file: string, fix: string): Partial<AlertThresholds> | undefined {
  if (v === undefined) return undefined
  const names = Object.keys(DEFAULT_THRESHOLDS)
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new NodeError('BAD_CONFIG', `${file}: "alerts" must be an object like {"diskFreePercent": 5}; ${fix}`)
  }
  const out: Record<string, number> = {}
  for (const [k, n] of Object.entries(v)) {
    if (!names.includes(k)) {
      throw new NodeError('BAD_CONFIG',
        `${file}: "alerts" has unknown field ${JSON.stringify(k)} (known: ${names.join(', ')}); ${fix}`)
    }
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new NodeError('BAD_CONFIG', `${file}: "alerts.${k}" must be a number of at least 0; ${fix}`)
    }
    out[k] = n
  }
  return out
}

/** The one check of an address a user gives (config.json's "peers" and "listen", `--peer` and `--listen`). */
export function isMultiaddr (text: string): boolean {
  try {
    multiaddr(text)
    return true
  } catch {
    return false
  }
}

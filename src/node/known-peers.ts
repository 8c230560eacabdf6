import fs from 'node:fs'

/**
 * Addresses of the peers this node has reached, as they announced them
 * (identify), kept in `peers.json` in the data directory and dialled again at
 * start: a node restarted on a new port finds its peers by itself. Bounded;
 * written atomically (temporary file, then rename).
 */
const PEERS_MAX = 500
const ADDRS_PER_PEER_MAX = 8

export class KnownPeers {
  readonly #file: string
  readonly #peers: Map<string, string[]>

  constructor (file: string) {
    this.#file = file
    this.#peers = new Map(readPeers(file))
  }

  addrs (): string[] {
    return [...this.#peers.values()].flat()
  }

  remember (peerId: string, addrs: readonly string[]): void {
    const next = [...new Set(addrs)].slice(0, ADDRS_PER_PEER_MAX)
    const old = this.#peers.get(peerId)
    if (old !== undefined && old.join() === next.join()) return
    this.#peers.delete(peerId)
    this.#peers.set(peerId, next)
    while (this.#peers.size > PEERS_MAX) this.#peers.delete(this.#peers.keys().next().value as string)
    const tmp = `${this.#file}.${process.pid}.tmp`
    try {
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#peers), null, 1), { mode: 0o600 })
      fs.renameSync(tmp, this.#file)
    } catch {
      // Remembering peers is a convenience: a full disk must not stop syncing.
    }
  }
}

function readPeers (file: string): [string, string[]][] {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown
    if (raw === null || typeof raw !== 'object') return []
    return Object.entries(raw).filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every(a => typeof a === 'string'))
  } catch {
    return []
  }
}

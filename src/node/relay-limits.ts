import type { RelayLimits } from '../net/index.ts'

/**
 * The limits of a member relay (config.json "relay"; net/relay.ts applies
 * them), parsed here without loading libp2p: config.ts reads them before any
 * network exists.
 *
 *   "relay": { "serve": true, "maxReservations": 32, "circuitsPerPeer": 8,
 *              "circuitMiB": 1024, "circuitMinutes": 60, "maxMiBps": 16 }
 *
 * `serve`: whether this node relays for members at all. `maxReservations`:
 * members holding a slot here at once (libp2p's default is 15).
 * `circuitsPerPeer`: relayed connections to one reserved member at once. A
 * relayed connection carries `circuitMiB` both ways together and lives
 * `circuitMinutes` at most, then is reset (the sync resumes where it
 * stopped once the link is dialled again). libp2p's defaults (128 KiB, 2 minutes) are made
 * for signalling; these are made for folders. So this node relays at most
 * maxReservations × circuitsPerPeer connections of circuitMiB each at once,
 * and `maxMiBps` MiB a second through all of them together (0: no cap; each
 * relayed byte counted once, though it crosses this node's network twice).
 */
export const RELAY_DEFAULTS: RelayLimits = {
  serve: true, maxReservations: 32, circuitsPerPeer: 8, circuitMiB: 1024, circuitMinutes: 60, maxMiBps: 16
}

/** Each number's bounds: a typo must not make a relay of unbounded cost, or one that cannot carry a file. */
const BOUNDS: Record<Exclude<keyof RelayLimits, 'serve'>, readonly [number, number]> = {
  maxReservations: [0, 1024],
  circuitsPerPeer: [1, 64],
  circuitMiB: [1, 1024 * 1024],
  circuitMinutes: [1, 24 * 60],
  maxMiBps: [0, 100_000]
}

/** config.json's "relay" (absent: the defaults); throws a message naming the field, for BAD_CONFIG. */
export function parseRelayLimits (v: unknown): RelayLimits {
  if (v === undefined) return RELAY_DEFAULTS
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error('"relay" must be an object like {"maxReservations": 32}')
  }
  const out: Record<string, number | boolean> = { ...RELAY_DEFAULTS }
  for (const [k, n] of Object.entries(v)) {
    if (k === 'serve') {
      if (typeof n !== 'boolean') throw new Error('"relay.serve" must be true or false')
      out[k] = n
      continue
    }
    const bounds = (BOUNDS as Record<string, readonly [number, number] | undefined>)[k]
    if (bounds === undefined) {
      const known = ['serve', ...Object.keys(BOUNDS)].join(', ')
      throw new Error(`"relay" has unknown field ${JSON.stringify(k)} (known: ${known})`)
    }
    if (!Number.isSafeInteger(n) || (n as number) < bounds[0] || (n as number) > bounds[1]) {
      throw new Error(`"relay.${k}" must be a whole number from ${bounds[0]} to ${bounds[1]}`)
    }
    out[k] = n as number
  }
  return out as unknown as RelayLimits
}

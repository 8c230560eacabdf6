import { BlockList } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'

/**
 * Peer exchange's address rule, on plain data: which of its own listen
 * addresses a node tells the members of its deployment (in its signed status
 * record), and which of the addresses a member claims there another node
 * will dial. The same rule on both sides and on every node, so an honest
 * node never publishes what others refuse.
 *
 * An address is taken only if it is at most PEX_ADDR_CHARS_MAX characters,
 * parses as a multiaddr, and is exactly `/ip4|ip6/<host>/tcp/<port>`,
 * optionally followed by one relay hop `/p2p/<relay>/p2p-circuit` whose
 * relay is neither the author nor the reader (no loops, no nesting) and,
 * when read, one the reader accepts (a member: `relayOk`). Refused
 * hosts: unspecified (0.0.0.0, ::), multicast, broadcast and reserved,
 * IPv4-mapped IPv6, IPv6 link-local (unusable without the author's interface). A loopback
 * address means "on the author's own machine": it is published only by a
 * node that has nothing else, and dialled only by a node that itself
 * listens on loopback alone (nodes sharing one host, as in tests), since on
 * any other node it would point at the reader's own machine. Port 0 is no
 * port. At most PEX_ADDRS_MAX are taken, in the order given, duplicates once.
 */
export const PEX_ADDRS_MAX = 8
export const PEX_ADDR_CHARS_MAX = 128

const NEVER = new BlockList()
NEVER.addSubnet('0.0.0.0', 8, 'ipv4') // "this network", unspecified
NEVER.addSubnet('224.0.0.0', 4, 'ipv4') // multicast
NEVER.addSubnet('240.0.0.0', 4, 'ipv4') // reserved, and broadcast
NEVER.addSubnet('::', 128, 'ipv6') // unspecified
NEVER.addSubnet('ff00::', 8, 'ipv6') // multicast
NEVER.addSubnet('fe80::', 10, 'ipv6') // link-local: needs a zone (the author's interface), which a multiaddr lacks
/** IPv4 written as IPv6: a node publishes the /ip4/ form. Apart, as a BlockList matches IPv4 against it too. */
const MAPPED = new BlockList()
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6')

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addSubnet('::1', 128, 'ipv6')

interface Parsed {
  /** The address as text, without any /p2p/ of its author. */
  readonly addr: string
  readonly loopback: boolean
  /** The relay of a relayed address (`/p2p/R/p2p-circuit`), else undefined. */
  readonly relay: string | undefined
}

/**
 * One claimed address read by the rule, or undefined when refused. `author`:
 * the peer whose address it is; `reader`: the node applying the rule.
 */
function parse (claimed: unknown, author: string, reader: string): Parsed | undefined {
  if (typeof claimed !== 'string' || claimed.length > PEX_ADDR_CHARS_MAX) return undefined
  let parts
  try {
    parts = multiaddr(claimed).getComponents()
  } catch {
    return undefined
  }
  const [host, tcp, relay, circuit, ...rest] = parts
  if (host === undefined || tcp === undefined || rest.length > 0) return undefined
  const family = host.name === 'ip4' ? 'ipv4' : host.name === 'ip6' ? 'ipv6' : undefined
  if (family === undefined || host.value === undefined || tcp.name !== 'tcp') return undefined
  if (NEVER.check(host.value, family) || (family === 'ipv6' && MAPPED.check(host.value, 'ipv6'))) return undefined
  if (!(Number(tcp.value) > 0)) return undefined
  if (relay !== undefined) {
    if (relay.name !== 'p2p' || circuit?.name !== 'p2p-circuit') return undefined
    if (relay.value === author || relay.value === reader) return undefined
  }
  return { addr: claimed, loopback: LOOPBACK.check(host.value, family), relay: relay?.value }
}

/** Our own listen addresses (each ending /p2p/<self>) without that suffix. */
function withoutSelf (own: readonly string[], self: string): string[] {
  const suffix = `/p2p/${self}`
  return own.map(a => a.endsWith(suffix) ? a.slice(0, -suffix.length) : a)
}

function onlyLoopback (parsed: readonly Parsed[]): boolean {
  return parsed.length > 0 && parsed.every(p => p.loopback)
}

function taken (
  claimed: readonly unknown[], author: string, reader: string, loopbackOk: boolean, relayOk: (relay: string) => boolean
): Parsed[] {
  const out = new Map<string, Parsed>()
  for (const c of claimed.slice(0, PEX_ADDRS_MAX * 4)) {
    const p = parse(c, author, reader)
    if (p === undefined || (p.loopback && !loopbackOk) || out.has(p.addr)) continue
    if (p.relay !== undefined && !relayOk(p.relay)) continue
    out.set(p.addr, p)
    if (out.size === PEX_ADDRS_MAX) break
  }
  return [...out.values()]
}

/**
 * What this node publishes of its own listen addresses (libp2p's, each
 * ending /p2p/<self>): those the rule takes, loopback only when it has
 * nothing else, and an address through a relay only if `relayOk` takes the
 * relay.
 */
export function advertisedAddrs (own: readonly string[], self: string, relayOk: (relay: string) => boolean): string[] {
  const mine = withoutSelf(own, self).flatMap(a => parse(a, self, '') ?? [])
  return taken(mine.map(p => p.addr), self, '', onlyLoopback(mine), relayOk).map(p => p.addr)
}

/**
 * The addresses of `author` this node (`reader`, listening on `own`) will
 * dial, out of those the author claimed in its status record, each ending
 * /p2p/<author> so that a peer with another key is refused by the handshake.
 * `relayOk`: whether a relay the author names may be dialled (the node passes
 * "a member of a space held here": a member cannot make us dial a stranger).
 */
export function dialableAddrs (
  author: string, claimed: readonly unknown[], own: readonly string[], reader: string,
  relayOk: (relay: string) => boolean = () => true
): string[] {
  const mine = withoutSelf(own, reader).flatMap(a => parse(a, reader, '') ?? [])
  return taken(claimed, author, reader, onlyLoopback(mine), relayOk).map(p => `${p.addr}/p2p/${author}`)
}

import { AsyncLocalStorage } from 'node:async_hooks'
import { RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import type { Connection, CreateListenerOptions, Listener, PeerId, Stream, Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { RateLimit } from './rate-limit.ts'
import { chargeLeg } from './relay-throttle.ts'

/**
 * What @libp2p/circuit-relay-v2 sees of the node: its components through views that hold it to "members relay for
 * members" where the library's own hooks (the connection gater's) come too late or not at all.
 *
 * The server: a hop stream from a peer that is no member is reset at once, unread (the library would read its
 * request, answer, and leave the stream open with its reader attached, holding up to 4 MiB a stream for as long as
 * the stranger liked). A member's hop stream that the library did not join into a circuit (a reservation, a refusal)
 * is ended once the handler returns: the answer goes out, nothing more is read, and the stream is reset if the peer
 * has not closed its end within HOP_LINGER_MS. The two legs of a circuit are charged to the relay's cap
 * (relay-throttle.ts) from the moment they are joined, never before.
 *
 * The transport: a STOP stream (a relay bringing us a circuit) is reset unread unless its sender is a relay this node
 * chose itself (reachability.ts) and a member. The library, on a STOP stream from any peer it holds no reservation
 * at, first reserves a slot there and lists every address that peer names as its own, before it reads the request
 * or asks the gater: a stranger with one stream it never wrote on had a node announce 41 addresses of its choosing
 * (identify then failed past its 8 KiB). And of the addresses a chosen relay names in its reservation, the node lists
 * RELAY_ADDRS_MAX as its own through it: a member relay could name thousands.
 */

type Handler = (stream: Stream, connection: Connection) => void | Promise<void>
interface Registrar { handle: (protocol: string, handler: Handler, options?: object) => Promise<void> }
interface ServerComponents {
  readonly registrar: Registrar
  readonly connectionManager: { getConnections: (peerId?: PeerId) => Connection[] }
}
interface TransportComponents {
  readonly registrar: Registrar
  readonly addressManager: { confirmObservedAddr: (addr: Multiaddr, options?: object) => void }
}

/**
 * The addresses of one relay this node lists as its own (each `…/p2p/<relay>/p2p-circuit`): an honest relay names a
 * few (a LAN, a public and an IPv6 address); two relays' worth fill peer exchange's 8.
 */
const RELAY_ADDRS_MAX = 4

/** How long a member has to close a hop stream that carries no circuit, once answered: one round trip is enough. */
const HOP_LINGER_MS = 5_000

/** The stop stream the library opened while handling one hop stream (by the hop handler's async context). */
const stopLegs = new AsyncLocalStorage<{ stop?: Stream }>()

/** The components a relay server is made with: members only; circuits' legs charged to `bytesPerSecond` (0: none). */
export function relayServerComponents<C extends ServerComponents> (
  components: C, member: (peerId: string) => boolean, bytesPerSecond: number
): C {
  const limit = new RateLimit(bytesPerSecond)
  const hop = async (handler: Handler, stream: Stream, connection: Connection): Promise<void> => {
    if (!member(connection.remotePeer.toString())) {
      stream.abort(new Error('not a member of a space held here'))
      return
    }
    const legs: { stop?: Stream } = {}
    try {
      await stopLegs.run(legs, async () => { await handler(stream, connection) })
    } catch {
      // The library ends the stream itself on its errors.
    }
    if (legs.stop !== undefined && joined(stream, legs.stop)) {
      chargeLeg(stream, limit)
      chargeLeg(legs.stop, limit)
      return
    }
    legs.stop?.abort(new Error('no circuit'))
    endUnjoined(stream)
  }
  const registrar = guardedHandler(components.registrar, RELAY_V2_HOP_CODEC, hop)
  const connectionManager = override(components.connectionManager, {
    getConnections: (peerId?: PeerId) => components.connectionManager.getConnections(peerId).map(c => override(c, {
      newStream: async (protocols: string | string[], options?: object) => {
        const stream = await c.newStream(protocols, options)
        const legs = stopLegs.getStore()
        if (legs !== undefined && [protocols].flat().includes(RELAY_V2_STOP_CODEC)) legs.stop = stream
        return stream
      }
    }))
  })
  return override(components, { registrar, connectionManager })
}

/**
 * The circuit transport, made with a view of the node's components: STOP streams only from `chosenRelay`s, and at most
 * RELAY_ADDRS_MAX addresses through each relay (its listener's, and only those confirmed to the address manager).
 */
export function chosenRelaysOnly<C extends TransportComponents> (
  make: (components: C) => Transport, chosenRelay: (peerId: string) => boolean
): (components: C) => Transport {
  return components => {
    const listeners = new Set<Listener>()
    const stop = async (handler: Handler, stream: Stream, connection: Connection): Promise<void> => {
      if (chosenRelay(connection.remotePeer.toString())) await handler(stream, connection)
      else stream.abort(new Error('not a relay this node chose'))
    }
    const addressManager = override(components.addressManager, {
      // The listener confirms every address a reservation names; only those it lists are confirmed (listed first).
      confirmObservedAddr: (addr: Multiaddr, options?: object) => {
        const relayed = addr.toString().includes('/p2p-circuit')
        if (relayed && ![...listeners].some(l => l.getAddrs().some(a => a.equals(addr)))) return
        components.addressManager.confirmObservedAddr(addr, options)
      }
    })
    const registrar = guardedHandler(components.registrar, RELAY_V2_STOP_CODEC, stop)
    const transport = make(override(components, { registrar, addressManager }))
    return override(transport, {
      createListener: (options: CreateListenerOptions) => {
        const listener = transport.createListener(options)
        const bounded = override(listener, { getAddrs: () => listener.getAddrs().slice(0, RELAY_ADDRS_MAX) })
        listeners.add(bounded)
        listener.addEventListener('close', () => { listeners.delete(bounded) }, { once: true })
        return bounded
      }
    })
  }
}

/** The registrar, with `protocol`'s handler called through `guard` (which calls it, or not). */
function guardedHandler<R extends Registrar> (
  registrar: R, protocol: string, guard: (handler: Handler, stream: Stream, connection: Connection) => Promise<void>
): R {
  return override(registrar, {
    handle: async (p: string, handler: Handler, options?: object) => {
      const guarded: Handler = p === protocol
        ? async (stream, connection) => { await guard(handler, stream, connection) }
        : handler
      await registrar.handle(p, guarded, options)
    }
  })
}

/**
 * Whether the library joined the hop stream to the stop stream: it hands the stop stream on (open, writable) only
 * when the destination said OK, closes it otherwise, and resets the hop stream when answering it failed.
 */
function joined (hop: Stream, stop: Stream): boolean {
  return hop.status === 'open' && stop.status === 'open' && stop.writeStatus === 'writable'
}

/** The library's answer goes out, then our end; what the peer sends now is dropped; reset if the peer's end stays. */
function endUnjoined (stream: Stream): void {
  if (stream.status !== 'open') return
  const reset = (): void => { stream.abort(new Error('hop stream carries no circuit')) }
  const timer = setTimeout(reset, HOP_LINGER_MS)
  timer.unref()
  stream.addEventListener('close', () => { clearTimeout(timer) }, { once: true })
  void stream.closeRead().then(async () => { await stream.close() }).catch(reset)
}

/** `target` with some members replaced; the rest read from it, methods bound to it (libp2p's own objects). */
function override<T extends object> (target: T, members: Record<string, unknown>): T {
  return new Proxy(target, {
    get: (t, prop) => {
      if (typeof prop === 'string' && prop in members) return members[prop]
      const v: unknown = Reflect.get(t, prop, t)
      return typeof v === 'function' ? v.bind(t) : v
    }
  })
}

import { RELAY_V2_HOP_CODEC, RELAY_V2_STOP_CODEC } from '@libp2p/circuit-relay-v2'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { RateLimit } from './rate-limit.ts'
import { capReading, holdWindowUpdates } from './yamux-window.ts'

/**
 * A relay's node-wide cap on relayed bytes per second (config.json
 * "relay.maxMiBps"). @libp2p/circuit-relay-v2 joins a relayed connection's
 * two legs (the hop stream from its source, the stop stream it opens to its
 * destination) inside the server, with no hook on the bytes; so the server
 * is given its components through a view that hands it each leg's stream as
 * it is made: the registrar's hop handler and the destination connection's
 * newStream for the stop protocol. Every message a leg receives is charged
 * to one token bucket (rate-limit.ts) shared by all relayed connections; the
 * leg stops reading until the bucket has paid for it, and a paused Yamux
 * stream withholds its window updates, so the sending member slows down
 * instead of the relay buffering more than the leg's window (held small:
 * yamux-window.ts). Each relayed byte is charged once (on the leg it arrives
 * on), though it crosses the relay's network twice.
 */

type Handler = (stream: Stream, connection: Connection) => void | Promise<void>
interface ServerComponents {
  readonly registrar: { handle: (protocol: string, handler: Handler, options?: object) => Promise<void> }
  readonly connectionManager: { getConnections: (peerId?: PeerId) => Connection[] }
}

/** The components a relay server is made with, seen through the cap; as given when the rate is 0 (no cap). */
export function throttledComponents<C extends ServerComponents> (components: C, bytesPerSecond: number): C {
  const limit = new RateLimit(bytesPerSecond)
  if (!limit.limited) return components
  const registrar = override(components.registrar, {
    handle: async (protocol: string, handler: Handler, options?: object) => {
      const watched: Handler = protocol === RELAY_V2_HOP_CODEC
        ? (stream, connection) => { charge(stream, limit); return handler(stream, connection) }
        : handler
      await components.registrar.handle(protocol, watched, options)
    }
  })
  const connectionManager = override(components.connectionManager, {
    getConnections: (peerId?: PeerId) => components.connectionManager.getConnections(peerId).map(c => override(c, {
      newStream: async (protocols: string | string[], options?: object) => {
        const stream = await c.newStream(protocols, options)
        if ([protocols].flat().includes(RELAY_V2_STOP_CODEC)) charge(stream, limit)
        return stream
      }
    }))
  })
  return override(components, { registrar, connectionManager })
}

/** Every message the stream receives is paid for before it reads the next. */
function charge (stream: Stream, limit: RateLimit): void {
  capReading(stream, limit)
  let paying = false
  stream.addEventListener('message', evt => {
    try { stream.pause() } catch { return } // closing: nothing more to read
    paying = true
    void limit.take(evt.data.byteLength).then(() => {
      paying = false
      try { stream.resume() } catch { return } // closed meanwhile
      // resume() handed on what the leg took in while paused, as one message, which paused it again (above), and
      // then turned Yamux's window updates back on: while that message waited for payment, the sender got its window
      // back for every frame it sent, and the next message carried all of it (up to 1.1 MB under a 1 MiB/s cap).
      if (paying) holdWindowUpdates(stream)
    })
  })
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

import type { Stream } from '@libp2p/interface'
import type { RateLimit } from './rate-limit.ts'
import { capReading, holdWindowUpdates } from './yamux-window.ts'

/**
 * A relay's node-wide cap on relayed bytes per second (config.json
 * "relay.maxMiBps"). @libp2p/circuit-relay-v2 joins a relayed connection's
 * two legs (the hop stream from its source, the stop stream it opens to its
 * destination) inside the server, with no hook on the bytes; relay-views.ts
 * sees each leg's stream as it is made and hands both here once the library
 * joined them into a circuit (never before: a refused stream is no leg).
 * Every message a leg receives is charged to one token bucket
 * (rate-limit.ts) shared by all relayed connections; the leg stops reading
 * until the bucket has paid for it, and a paused Yamux stream withholds its
 * window updates, so the sending member slows down instead of the relay
 * buffering more than the leg's window (held small: yamux-window.ts). Each
 * relayed byte is charged once (on the leg it arrives on), though it crosses
 * the relay's network twice.
 */

/** Every message the stream receives is paid for before it reads the next. */
export function chargeLeg (stream: Stream, limit: RateLimit): void {
  if (!limit.limited) return
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

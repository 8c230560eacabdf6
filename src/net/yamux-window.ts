import type { Stream } from '@libp2p/interface'
import type { RateLimit } from './rate-limit.ts'

/**
 * What a capped reader (the relay's legs, --max-down's block links) does to a
 * Yamux stream so that its sender slows down instead of this node buffering
 * ahead of what it has paid for. A paused stream withholds its window
 * updates, so the sender can send no more than its window; these keep that
 * window small and the updates held. The fields and methods are
 * @libp2p/yamux's own; a stream of another muxer has none and is left as it is.
 */

/** Yamux's initial stream window (@libp2p/yamux's INITIAL_STREAM_WINDOW, not exported): none is held below it. */
const YAMUX_INITIAL_WINDOW = 256 * 1024

/**
 * resume() first hands on what the stream took in while paused, then lets Yamux send window updates once more: a
 * reader that is still paying for what it took in holds the updates again here, by the muxer's own pause (sendPause).
 */
export function holdWindowUpdates (stream: Stream): void {
  const muxed = stream as unknown as { sendPause?: unknown }
  if (typeof muxed.sendPause === 'function') muxed.sendPause.call(stream)
}

/**
 * Holds a Yamux stream's receive window at `bytes` at most (never below Yamux's initial window): it may have grown
 * already, and it would go on doubling while data is read quickly (up to 16 MiB). YamuxStream reads its window and
 * its bound at each window update; a smaller window only makes the next updates smaller, which Yamux allows.
 */
function holdWindow (stream: Stream, bytes: number): void {
  const yamux = stream as unknown as { recvWindow?: unknown, maxStreamWindowSize?: unknown }
  if (typeof yamux.recvWindow !== 'number' || typeof yamux.maxStreamWindowSize !== 'number') return
  const bound = Math.min(yamux.maxStreamWindowSize, Math.max(YAMUX_INITIAL_WINDOW, Math.ceil(bytes)))
  yamux.maxStreamWindowSize = bound
  yamux.recvWindow = Math.min(yamux.recvWindow, bound)
}

/**
 * What a capped reader's stream may take in beyond what is paid for, in seconds of the cap: its receive window (never
 * below Yamux's initial 256 KiB). Yamux doubles a stream's window while data is read quickly (up to 16 MiB), and a
 * stream paused for payment keeps receiving until its window is spent. Measured on the relay without this bound
 * (test/e2e/relay.test.ts, a 1 MiB/s cap): messages of up to 2.4 MB, and the test's 4 MiB across in 2.1-2.7 s in 4
 * runs of 10 (it asks at least 3 s); with the window only kept from growing, not brought down, 2 of 10 (the stop
 * leg's window was 1 MiB already); held: 13 of 13 over 4 s.
 */
const UNPAID_SECONDS = 0.25

/** A stream read under `down` (a relay's leg, a block link): its window held to what `down` pays in UNPAID_SECONDS. */
export function capReading (stream: Stream, down: RateLimit): void {
  if (down.limited) holdWindow(stream, down.bytesPerSecond * UNPAID_SECONDS)
}

/**
 * Resolves once `bytes` read from `stream` are paid for under `down`, the stream paused meanwhile. The stream's
 * reader takes every message as it comes, and Yamux grants window for what it handed on: unpaused, a block server
 * sent the whole pipeline of requests at full speed (8 MiB on the wire where a 1 MiB/s cap had paid for 0.5).
 * Paused, Yamux sends no window updates, so the server can send one window (capReading) ahead at most.
 */
export async function paidPaused (stream: Stream, down: RateLimit, bytes: number): Promise<void> {
  if (!down.limited) return
  const paying = down.take(bytes)
  try { stream.pause() } catch { return await paying } // closing: nothing more comes
  await paying
  // Closed meanwhile: nothing more to read. (resume() hands on what came while paused, then turns the window
  // updates back on; the reader pauses again at its next answer, after that.)
  try { stream.resume() } catch {}
}

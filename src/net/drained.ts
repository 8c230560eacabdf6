import type { Stream } from '@libp2p/interface'

/**
 * Resolves once the stream takes more bytes (it is no longer waiting for a drain); rejects when it closes first.
 *
 * Not `stream.onDrain()`: @libp2p/utils keeps the promise of a stream's first drain resolved for good, so every later
 * call resolved at once and a block server fed a peer that never reads every chunk it asked for (2 GB queued for
 * 8,000 requests of 256 KiB). And a drain of the whole connection reaches every stream: after one, the stream tries
 * its queue again and, its window still shut, waits anew; this loop waits with it.
 */
export async function drained (stream: Stream): Promise<void> {
  while (stream.writableNeedsDrain) {
    if (stream.status !== 'open') throw new Error(`the stream is ${stream.status}`)
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { off(); resolve() }
      const closed = (): void => { off(); reject(new Error('the stream closed while its answers waited')) }
      const off = (): void => {
        stream.removeEventListener('drain', done)
        stream.removeEventListener('close', closed)
      }
      stream.addEventListener('drain', done)
      stream.addEventListener('close', closed)
    })
    // The library's own drain listener (added first) tried the queue again in a microtask queued before this
    // continuation: writableNeedsDrain now says whether it all went.
  }
}

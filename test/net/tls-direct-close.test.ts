import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from 'libp2p'
import type { Connection } from '@libp2p/interface'
import { bareNode, closeCounter, closed, connect, layersOf, rawBytesRead, sendToSink, serveSink, until } from './tls-nodes.ts'

/**
 * How a connection over TLS on the TCP socket's handle (src/net/tls-direct.ts)
 * ends, between real libp2p nodes over TCP on 127.0.0.1, against itself and
 * against the stock `@libp2p/tls`: a local close, a remote close, an abort
 * (an RST on the TCP socket), a reset of the encrypted stream, and the TCP
 * inactivity timeout each end the connection on both sides (also in the
 * middle of a transfer), with one
 * 'connection:close' per side and the raw sockets gone; an idle connection
 * still times out, a busy one does not.
 */
const started: Libp2p[] = []
after(async () => { for (const n of started) await n.stop() })

async function node (encrypter: 'tls' | 'tls-js', inactivityTimeout?: number): Promise<Libp2p> {
  const n = await bareNode(encrypter, inactivityTimeout)
  started.push(n)
  await serveSink(n)
  return n
}

/** Both ends closed once each (one 'connection:close' per node), their raw sockets destroyed. */
async function assertEndedOnBothSides (ends: [Connection, Connection], counts: Map<string, number>,
  endings: Promise<unknown>[]): Promise<void> {
  await Promise.all(endings)
  // one more turn of the event loop, for a second close event to show if there were one
  await new Promise(resolve => setImmediate(resolve))
  for (const end of ends) {
    assert.equal(counts.get(end.id), 1, `${end.direction}: 'connection:close' dispatched ${counts.get(end.id) ?? 0} times`)
    assert.notEqual(end.status, 'open')
    assert.equal(layersOf(end).maConn.socket.destroyed, true, `${end.direction}: the raw socket is not destroyed`)
  }
}

const sides = [['tls-js', 'tls-js'], ['tls', 'tls'], ['tls', 'tls-js'], ['tls-js', 'tls']] as const

describe('ending a direct TLS connection', { timeout: 300_000 }, () => {
  for (const [dialler, listener] of sides) {
    const name = `${dialler} dials ${listener}`
    test(`${name}: the dialler closes after a transfer; both ends close, once`, async () => {
      const [a, b] = [await node(dialler), await node(listener)]
      const counts = closeCounter(a, b)
      const ends = await connect(a, b)
      const [sent, got] = await sendToSink(ends[0], 1 << 20, 7)
      assert.equal(got, sent)
      const endings = ends.map(closed)
      await ends[0].close()
      await assertEndedOnBothSides(ends, counts, endings)
    })

    test(`${name}: the listener closes (a remote close for the dialler); both ends close, once`, async () => {
      const [a, b] = [await node(dialler), await node(listener)]
      const counts = closeCounter(a, b)
      const ends = await connect(a, b)
      const endings = ends.map(closed)
      await ends[1].close()
      await assertEndedOnBothSides(ends, counts, endings)
    })

    test(`${name}: the dialler aborts (an RST); both ends close once, with the error on the aborting side`, async () => {
      const [a, b] = [await node(dialler), await node(listener)]
      const counts = closeCounter(a, b)
      const ends = await connect(a, b)
      const endings = ends.map(closed)
      ends[0].abort(new Error('test abort'))
      await assertEndedOnBothSides(ends, counts, endings)
      const [local] = await Promise.all(endings)
      assert.equal(local?.error?.message, 'test abort')
    })

    test(`${name}: the listener's encrypted stream is reset; both ends close once`, async () => {
      const [a, b] = [await node(dialler), await node(listener)]
      const counts = closeCounter(a, b)
      const ends = await connect(a, b)
      const endings = ends.map(closed)
      // what the muxer does when the bytes it reads make no sense
      layersOf(ends[1]).encrypted.abort(new Error('test reset'))
      await assertEndedOnBothSides(ends, counts, endings)
      const [, local] = await Promise.all(endings)
      assert.equal(local?.error?.message, 'test reset')
    })
  }
})

describe('ending a direct TLS connection in the middle of a transfer', { timeout: 300_000 }, () => {
  for (const [who, index] of [['sender', 0], ['receiver', 1]] as const) {
    for (const how of ['aborts', 'closes'] as const) {
      test(`the ${who} ${how} while 64 MiB are in flight: both ends close once`, async () => {
        const [a, b] = [await node('tls'), await node('tls')]
        const counts = closeCounter(a, b)
        const ends = await connect(a, b)
        const endings = ends.map(closed)
        // Not awaited: a stream cut by its connection's abort does not always
        // settle the sender's wait for drain (the same over @libp2p/tls).
        void sendToSink(ends[0], 64 << 20, 5).catch(() => {})
        await until(() => layersOf(ends[1]).maConn.socket.bytesRead > 1 << 20, 120_000, 'the transfer to start')
        if (how === 'aborts') ends[index].abort(new Error(`the ${who} aborts`))
        else void ends[index].close().catch(() => {})
        await assertEndedOnBothSides(ends, counts, endings)
      })
    }
  }
})

describe('the TCP inactivity timeout over direct TLS', { timeout: 300_000 }, () => {
  // No assertion races the timeout: an idle connection is waited for until it
  // closes; a busy one is kept busy by exchanges ten times more frequent than
  // the timeout, each waited for, over twice the timeout, and stays open. The
  // timeout is 5 s so that only a machine stalled for seconds between two
  // back-to-back exchanges could close a busy link (1.5 s left a loaded
  // machine too little room).
  const TIMEOUT_MS = 5000

  for (const [dialler, listener] of sides) {
    test(`${dialler} dials ${listener}: a busy connection stays open, then times out once idle, on both sides`, async () => {
      const [a, b] = [await node(dialler, TIMEOUT_MS), await node(listener, TIMEOUT_MS)]
      const counts = closeCounter(a, b)
      const ends = await connect(a, b)
      const rawReads = ends.map(rawBytesRead)
      const endings = ends.map(closed)
      for (let i = 0; i < 20; i++) {
        const [sent, got] = await sendToSink(ends[i % 2] as Connection, 1000, i)
        assert.equal(got, sent)
        await new Promise(resolve => setTimeout(resolve, TIMEOUT_MS / 10))
      }
      for (const end of ends) assert.equal(end.status, 'open', `${end.direction} closed while busy`)
      // Now idle: the timer of one side fires first and aborts; the other sees that.
      await assertEndedOnBothSides(ends, counts, endings)
      const errors = (await Promise.all(endings)).map(evt => evt.error?.name)
      assert.ok(errors.includes('TimeoutError'), `no side timed out: ${JSON.stringify(errors)}`)
      ends.forEach((end, i) => {
        const direct = (i === 0 ? dialler : listener) === 'tls'
        if (direct) assert.equal(rawReads[i]?.(), 0, `${end.direction}: ciphertext reached JS`)
      })
    })
  }
})

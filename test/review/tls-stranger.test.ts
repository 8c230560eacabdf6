/**
 * A stranger on TCP against TLS on the socket's handle (src/net/tls-direct.ts),
 * at every step of the handshake: garbage where TLS is expected, a FIN or an
 * RST in the middle of the handshake or right after it (while the listener
 * still checks the certificate), a handshake left hanging when the node
 * stops. Each time the listener ends the connection (no libp2p connection
 * stays open, no socket stays behind), nothing throws, and stop() returns.
 * Against both the direct path and `@libp2p/tls` (which 'tls' falls back
 * to). These held on review; they stay as guards.
 */
import { execFileSync } from 'node:child_process'
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Libp2p } from 'libp2p'
import { bareNode, until } from '../net/tls-nodes.ts'
import { clientHello, negotiatedTls, socketClosed, strangerCertificate, tlsClient } from './tls-stranger.ts'

const started: Libp2p[] = []
after(async () => { for (const n of started) await n.stop() })

/**
 * The TCP sockets this process holds on `node`'s listening port other than the listener itself: the kernel's
 * view (`ss`), so a socket JS forgot but never closed counts too; the strangers' own sockets (another local port)
 * do not.
 */
function acceptedSockets (node: Libp2p): number {
  const port = node.getMultiaddrs()[0]!.toString().split('/')[4]
  const lines = execFileSync('ss', ['-tanpH', 'sport', '=', `:${port}`]).toString().split('\n')
  return lines.filter(l => l.includes(`pid=${process.pid},`) && !l.startsWith('LISTEN')).length
}

/** A listener and a check that, after a stranger's try, it holds no connection and no socket more than before. */
async function listener (encrypter: 'tls' | 'tls-js'): Promise<{ node: Libp2p, settled: (what: string) => Promise<void> }> {
  const node = await bareNode(encrypter)
  started.push(node)
  let opened = 0
  let closed = 0
  node.addEventListener('connection:open', () => { opened++ })
  node.addEventListener('connection:close', () => { closed++ })
  const settled = async (what: string): Promise<void> => {
    // A safety net, not a measure: the listener's upgrade timeout (10 s) is the longest step waited for.
    await until(() => opened === closed && node.getConnections().length === 0 && acceptedSockets(node) === 0, 60_000,
      `${what}: the listener to hold nothing (opened ${opened}, closed ${closed}, sockets ${acceptedSockets(node)})`)
  }
  return { node, settled }
}

type Try = (node: Libp2p) => Promise<void>

const tries: Record<string, Try> = {
  'garbage where the ClientHello goes': async node => {
    const s = await negotiatedTls(node)
    s.on('error', () => {})
    s.resume()
    s.write(Buffer.alloc(70_000, 0x16))
    await socketClosed(s)
  },
  'half a record, then a FIN': async node => {
    const s = await negotiatedTls(node)
    s.on('error', () => {})
    s.resume()
    s.end(Buffer.from('1603010200', 'hex'))
    await socketClosed(s)
  },
  'a ClientHello, then an RST': async node => {
    const hello = await clientHello(await strangerCertificate())
    const s = await negotiatedTls(node)
    s.on('error', () => {})
    s.resume()
    s.write(hello, () => { s.resetAndDestroy() })
    await socketClosed(s)
  },
  'a full handshake, then close_notify and a FIN at once': async node => {
    const s = await negotiatedTls(node)
    const c = tlsClient(s, await strangerCertificate())
    c.on('error', () => {})
    c.once('secureConnect', () => { c.end() })
    await new Promise(resolve => c.once('secureConnect', resolve))
  },
  'a full handshake, then an RST at once': async node => {
    const s = await negotiatedTls(node)
    s.on('error', () => {})
    const c = tlsClient(s, await strangerCertificate())
    c.on('error', () => {})
    c.once('secureConnect', () => { s.resetAndDestroy() })
    await socketClosed(s)
  }
}

describe('a stranger on TCP against TLS on the socket handle', { timeout: 300_000 }, () => {
  for (const encrypter of ['tls', 'tls-js'] as const) {
    for (const [name, run] of Object.entries(tries)) {
      test(`${encrypter}: ${name}: the listener ends it and holds nothing`, async () => {
        const { node, settled } = await listener(encrypter)
        await run(node)
        await settled(name)
      })
    }

    test(`${encrypter}: the node stops while a stranger's handshake hangs after its ClientHello`, async () => {
      const { node } = await listener(encrypter)
      const hello = await clientHello(await strangerCertificate())
      const s = await negotiatedTls(node)
      s.on('error', () => {})
      s.resume()
      let answered = false
      s.once('data', () => { answered = true })
      s.write(hello)
      await until(() => answered, 60_000, 'the listener to answer the ClientHello')
      await node.stop()
      await socketClosed(s)
      assert.equal(node.getConnections().length, 0)
    })
  }
})

/**
 * Helper of mdns-stranger.test.ts, run inside a network namespace:
 *   victim HOST PORT SECONDS      a plain TCP server (any LAN service) that counts the connections it gets, then
 *                                 prints {"connections": N} and exits
 *   announce IFACE SECONDS ADDR…  a stranger on the LAN: unsolicited mDNS responses every 500 ms (and answers to
 *                                 queries) for 40 peer ids it made up, each naming ADDR… as its addresses
 */
import net from 'node:net'
import makeMdns from 'multicast-dns'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const SERVICE = '_samepage._udp.local'
const [mode, ...args] = process.argv.slice(2)

if (mode === 'victim') {
  const [host, port, seconds] = args as [string, string, string]
  let connections = 0
  const server = net.createServer(socket => { connections++; socket.on('error', () => {}); socket.destroy() })
  server.listen(Number(port), host, () => { process.stdout.write('listening\n') })
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ connections }) + '\n')
    server.close()
    process.exit(0)
  }, Number(seconds) * 1000)
} else if (mode === 'announce') {
  const [iface, seconds, ...targets] = args as [string, string, ...string[]]
  const ids: string[] = []
  for (let i = 0; i < 40; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString())
  const mdns = makeMdns({ interface: iface })
  const responses = ids.map((id, i) => {
    const name = `stranger${i}.${SERVICE}`
    return {
      answers: [
        { name: SERVICE, type: 'PTR', class: 'IN', ttl: 120, data: name } as const,
        ...targets.map(t => ({ name, type: 'TXT', class: 'IN', ttl: 120, data: `dnsaddr=${t}/p2p/${id}` }) as const)
      ]
    }
  })
  const announce = (): void => { for (const r of responses) mdns.respond(r) }
  mdns.on('query', (q: { questions: Array<{ name: string }> }) => {
    if (q.questions.some(x => x.name === SERVICE)) announce()
  })
  const timer = setInterval(announce, 500)
  announce()
  process.stdout.write('announcing\n')
  setTimeout(() => { clearInterval(timer); mdns.destroy(); process.exit(0) }, Number(seconds) * 1000)
}

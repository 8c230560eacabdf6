import { hop, stranger } from './relay-hop.ts'

/**
 * Run inside a namespace by relay-nat.test.ts: a stranger on the internet asks
 * the relay (argv[2]) for a slot, then for a relayed connection to a member
 * (argv[3]), and prints the relay's two answers as JSON.
 */
const [relayAddr, target] = process.argv.slice(2) as [string, string]
const node = await stranger()
const reserve = await hop(node, relayAddr, 'reserve')
const connect = await hop(node, relayAddr, { connectTo: target })
console.log(JSON.stringify({ reserve, connect }))
await node.stop()

import type { Network } from '../net/index.ts'
import { isMultiaddr } from './config.ts'
import { NodeError } from './errors.ts'

/**
 * A user's "link to this address" (POST /v1/peers): the address is kept and dialled again on its schedule once it is
 * one, and each refusal says why, with its code: not an address (BAD_INPUT), this node's own (BAD_PEER), or not
 * reached now (PEER_UNREACHABLE). Each was a 500 INTERNAL ("see its log"), with a stack trace in the log.
 */
export async function dialGiven (network: Network, self: string, addr: string): Promise<void> {
  if (!isMultiaddr(addr)) {
    throw new NodeError('BAD_INPUT', `${JSON.stringify(addr)} is not an address; one looks like ` +
      '/ip4/192.0.2.7/tcp/4815/p2p/12D3KooW… (`samepage id` on that node prints its own)')
  }
  if (addr.split('/').includes(self)) {
    throw new NodeError('BAD_PEER', `${addr} is this node's own address; give another node's`)
  }
  try {
    await network.dial(addr, true)
  } catch (err) {
    throw new NodeError('PEER_UNREACHABLE', `${addr} was not reached now (${(err as Error).message}); this node ` +
      'keeps dialling it on its schedule, and `samepage peers` lists it once linked', { cause: err })
  }
}

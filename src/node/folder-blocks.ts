import type { ChunkFetcher } from '../blocks/index.ts'
import { toHex } from '../codec/index.ts'
import { isAuthorKey, isSpaceKey } from '../ids/index.ts'
import type { FolderSync } from '../files/index.ts'
import { BlockFetch } from '../net/index.ts'
import type { BlockLink, BlockServed } from '../net/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'

/**
 * The block provider of this node's folders, both ways, and the one place
 * of the rule of who may have a space's chunks: the space's members (by
 * their current role, so a removed member is refused at once). A peer asks
 * this node for a chunk (serve): a non-member is "denied", and so is anyone
 * asking for a space this node does not hold, so a stranger cannot tell
 * which it holds; the bytes come from the bound folder's own files, hashed
 * before they go ("changed" if the file moved on since its scan). This node
 * asks for chunks (fetcher): of its connected members only.
 */
interface FolderBlocksHost {
  replica (key: SpaceKey): SpaceReplica | undefined
  /** The folder bound to the space and running here, if any. */
  folder (space: SpaceKey): FolderSync | undefined
  connected (): string[]
  link (author: string): Promise<BlockLink>
  corrupt (author: string, reason: string): void
  /** The least time a chunk request waits unanswered before its peer counts as stalled for the pass (default 30 s). */
  readonly blockStallMs?: number | undefined
}

export class FolderBlocks {
  readonly #host: FolderBlocksHost

  constructor (host: FolderBlocksHost) {
    this.#host = host
  }

  /** Whether `author` (hex) may have the chunks of `space`: a member of a space this node holds. */
  mayFetch (author: string, space: SpaceKey): boolean {
    const replica = this.#host.replica(space)
    return replica !== undefined && isAuthorKey(author) && replica.acl.currentRole(author) !== null
  }

  async serve (author: string, space: string, hash: Uint8Array): Promise<BlockServed> {
    // `space` is a peer's text: one that is not a space key names no space held here.
    if (!isSpaceKey(space) || !this.mayFetch(author, space)) return 'denied'
    const bytes = await this.#host.folder(space)?.readChunk(toHex(hash)) ?? null
    if (bytes === null) return 'missing'
    return bytes
  }

  /** One pass's chunk downloads for the space's folder, from the members connected now. */
  fetcher (space: SpaceKey): ChunkFetcher {
    const host = this.#host
    if (host.replica(space) === undefined) {
      throw new NodeError('UNKNOWN_SPACE', `space ${space} is no longer held by this node`)
    }
    return new BlockFetch({
      space,
      peers: host.connected().filter(a => this.mayFetch(a, space)),
      link: a => host.link(a),
      onCorrupt: (a, reason) => { host.corrupt(a, reason) },
      stallMs: host.blockStallMs
    })
  }
}

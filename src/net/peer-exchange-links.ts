/**
 * Which members peer exchange introduces: the new links a node makes to
 * members it never reached, on plain data, the same rule on every node.
 *
 * A member qualifies when it shares a data space with this node (one held
 * here, not the deployment's status spaces) and its signed status record
 * names addresses the address rule takes (peer-exchange.ts). Each new link
 * is charged to one of the spaces it shares: at most MESH_LINKS_PER_SPACE
 * per space and MESH_LINKS_MAX in all. Among members heard together, those
 * with whom the node shares a bound folder (a space both have a folder in)
 * go first, then the most recently heard, then the smaller peer id (so two
 * nodes given the same members choose alike). A link once chosen keeps its
 * place for the life of the process: a slot is not handed back and forth,
 * so no member's claims can make this node dial a stream of others.
 */
export const MESH_LINKS_PER_SPACE = 8
export const MESH_LINKS_MAX = 32

export interface MeshCandidate {
  readonly peerId: string
  /** The data spaces held here that it is a current member of. */
  readonly spaces: readonly string[]
  /** Of those, the ones in which both it and this node have a folder bound. */
  readonly folderSpaces: readonly string[]
  /** When its record was heard (ms); the later, the more likely it is up. */
  readonly heardMs: number
}

interface MeshBounds {
  readonly perSpace: number
  readonly max: number
}

export class MeshLinks {
  readonly #bounds: MeshBounds
  /** Chosen members, each with the space it is charged to. */
  readonly #chosen = new Map<string, string>()
  readonly #perSpace = new Map<string, number>()

  constructor (bounds: MeshBounds = { perSpace: MESH_LINKS_PER_SPACE, max: MESH_LINKS_MAX }) {
    this.#bounds = bounds
  }

  has (peerId: string): boolean {
    return this.#chosen.has(peerId)
  }

  get size (): number {
    return this.#chosen.size
  }

  /** Every slot is given: no candidate needs to be looked at any more. */
  full (): boolean {
    return this.#chosen.size >= this.#bounds.max
  }

  /** Those of `candidates` given a new link now, best first; the rest have none (the bounds are reached). */
  choose (candidates: readonly MeshCandidate[]): string[] {
    const ranked = [...candidates].sort((a, b) =>
      Number(b.folderSpaces.length > 0) - Number(a.folderSpaces.length > 0) ||
      b.heardMs - a.heardMs ||
      (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
    const out: string[] = []
    for (const c of ranked) {
      if (this.#chosen.size >= this.#bounds.max) break
      if (this.#chosen.has(c.peerId)) continue
      const space = [...[...c.folderSpaces].sort(), ...[...c.spaces].sort()]
        .find(s => (this.#perSpace.get(s) ?? 0) < this.#bounds.perSpace)
      if (space === undefined) continue
      this.#chosen.set(c.peerId, space)
      this.#perSpace.set(space, (this.#perSpace.get(space) ?? 0) + 1)
      out.push(c.peerId)
    }
    return out
  }
}

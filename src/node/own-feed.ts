import { bytesEqual, fromHex } from '../codec/index.ts'
import type { Entry } from '../codec/index.ts'
import { printable } from '../ids/index.ts'
import type { SpaceKey } from '../ids/index.ts'

/** As much of a space's name as a notice shows (the command line's `shown()` shows as much). */
const SPACE_NAME_CHARS = 200

/**
 * Notices that peers held entries of this node's own feeds that its store
 * lacked (decision 15): the data directory was restored from an older copy,
 * or lost data. Such entries come back only by catch-up (a node never writes
 * an entry twice), each signed by this node, so no peer can fake one. One
 * line per feed and process: the user learns what happened, once.
 */
export class OwnFeedWatch {
  /** This node's public key, as entries carry it: compared as bytes, not converted to hex per entry stored. */
  readonly #me: Uint8Array
  readonly #told = new Set<string>()
  /** Spaces this node left: joined again, its entries come back by catch-up, and that is no restore. */
  readonly #left = new Set<SpaceKey>()

  constructor (me: string) {
    this.#me = fromHex(me)
  }

  /** This node left the space (`space leave`): what of its own comes back after a new join is expected. */
  left (space: SpaceKey): void {
    this.#left.add(space)
  }

  /** Entries stored from a peer: the line to log, when some of them are ours and this feed was not reported yet. */
  stored (space: SpaceKey, spaceName: string, entries: readonly Entry[], fromPeer: string): string | undefined {
    if (this.#left.has(space)) return undefined
    // Our own join waits in pending until the inviter's invite arrives, and is stored only then, from a peer.
    const ours = entries.filter(e => bytesEqual(e.author, this.#me) && e.body.t !== 'join')
    const fresh = [...new Set(ours.map(e => e.epoch))].filter(epoch => !this.#told.has(`${space}/${epoch}`))
    if (fresh.length === 0) return undefined
    for (const epoch of fresh) this.#told.add(`${space}/${epoch}`)
    const count = ours.filter(e => fresh.includes(e.epoch)).length
    // The name is its creator's choice (the genesis), and this line goes to stderr and the event stream as it is.
    const name = printable(spaceName, SPACE_NAME_CHARS)
    return `space ${name}: peer ${fromPeer} holds entries this node wrote that its store lacked ` +
      `(${count} so far, epoch ${fresh.join(', ')}); ` +
      'this data directory was restored from an older copy or lost data. ' +
      'Getting them back by catch-up; new writes go in a new epoch, so nothing is forked.'
  }
}

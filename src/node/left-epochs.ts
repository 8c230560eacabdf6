import { readTextOr } from '../atomic-file/index.ts'
import { parseSpaceKey } from '../ids/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'
import { saveNodeFile } from './storage-health.ts'

/**
 * The highest epoch this node had opened in each space it left, kept in one
 * small JSON file written atomically (D/left-epochs.json).
 *
 * Leaving removes the space's rows, this node's own feeds with them. A later
 * join opens a new epoch (decision 15) at the wall time plus the process's
 * salt, which after a restart can fall below an epoch opened minutes before
 * under a larger salt; and the role the node still holds is a window that
 * starts at its first join's epoch, so entries of a lower epoch would be
 * nobody's (NOT_ALLOWED on every write). The store cannot tell after the
 * leave; this file can: a join of the space opens above what it names.
 */
export class LeftEpochs {
  readonly #file: string | undefined
  readonly #epochs: Map<SpaceKey, number>

  constructor (file: string | undefined) {
    this.#file = file
    this.#epochs = new Map(file === undefined ? [] : readEpochs(file))
  }

  get (key: SpaceKey): number | undefined {
    return this.#epochs.get(key)
  }

  /** The space is being left: its highest own epoch so far (kept if higher than one recorded before). */
  record (key: SpaceKey, epoch: number): void {
    if (epoch <= (this.#epochs.get(key) ?? -1)) return
    // On disk first: a write that fails (a full disk) must not leave the record only in memory, where a retried
    // leave would find it and write nothing.
    const next = new Map(this.#epochs).set(key, epoch)
    if (this.#file !== undefined) {
      saveNodeFile(this.#file, JSON.stringify({ epochs: Object.fromEntries(next) }, null, 2) + '\n')
    }
    this.#epochs.set(key, epoch)
  }
}

function readEpochs (file: string): [SpaceKey, number][] {
  const text = readTextOr(file, null)
  if (text === null) return []
  try {
    const v = JSON.parse(text) as { epochs?: unknown }
    if (v.epochs !== null && typeof v.epochs === 'object') {
      return Object.entries(v.epochs).map(([k, n]) => {
        if (!Number.isSafeInteger(n) || (n as number) < 0) throw new TypeError(`the epoch of ${k} is not a count`)
        return [parseSpaceKey(k), n as number]
      })
    }
  } catch {}
  throw new NodeError('BAD_CONFIG',
    `${file} is not {"epochs": {space id: epoch}}; restore it (removing it risks writes refused after a rejoin)`)
}

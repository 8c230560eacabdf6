import path from 'node:path'
import { readTextOr } from '../atomic-file/index.ts'
import { parseSpaceKey } from '../ids/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'
import { saveNodeFile } from './storage-health.ts'

/**
 * The deployment's status spaces, kept in `D/deployment.json`. A node
 * creates one when it first invites another node (the first node of a
 * deployment), and every invite it issues carries it, so every node that
 * joins any space of this node joins it too. A node invited from two
 * deployments is in both, and publishes into both.
 */
const DEPLOYMENT_FILE = 'deployment.json'
export const DEPLOYMENT_SPACE_NAME = 'samepage-status'

export class DeploymentSpaces {
  readonly #file: string
  readonly #keys: SpaceKey[]

  constructor (dir: string) {
    this.#file = path.join(dir, DEPLOYMENT_FILE)
    this.#keys = load(this.#file)
  }

  get keys (): readonly SpaceKey[] { return this.#keys }

  has (key: SpaceKey): boolean { return this.#keys.includes(key) }

  /**
   * On disk first: a save the disk refuses (STORAGE_FULL) leaves the key out of memory too, so the next add of it
   * writes it (kept only in memory, has() said it was there, and a restart dropped it).
   */
  add (key: SpaceKey): void {
    if (this.has(key)) return
    saveNodeFile(this.#file, JSON.stringify({ spaces: [...this.#keys, key] }, null, 2) + '\n')
    this.#keys.push(key)
  }
}

function load (file: string): SpaceKey[] {
  const text = readTextOr(file, null)
  if (text === null) return []
  try {
    const v = JSON.parse(text) as { spaces?: unknown }
    if (Array.isArray(v.spaces)) return v.spaces.map(k => parseSpaceKey(k))
  } catch {}
  throw new NodeError('BAD_CONFIG',
    `${file} is not {"spaces": [space ids]}; restore it, or remove it to leave the deployment's status space`)
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DeploymentSpaces } from '../../src/node/deployment.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

/**
 * Review L2 (node/deployment.ts add): the key was pushed in memory before deployment.json was written; a write
 * that failed (a full disk) left it only in memory, has() said it was there, no later add wrote it, and a restart
 * dropped the deployment. Now the file is written first, and a failed write changes nothing.
 */
test('a deployment space whose save failed is not held in memory, and the next add of it saves it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-deployment-'))
  try {
    const key = SpaceReplica.create(new MemoryStore(), seededKey('review-l2', 'owner'), 'samepage-status', T0).key
    const dir = path.join(root, 'not-yet') // its directory missing: the write fails
    fs.mkdirSync(dir)
    const spaces = new DeploymentSpaces(dir)
    fs.rmdirSync(dir)
    assert.throws(() => { spaces.add(key) })
    assert.equal(spaces.has(key), false, 'not saved, so not held')
    fs.mkdirSync(dir)
    spaces.add(key)
    assert.deepEqual(new DeploymentSpaces(dir).keys, [key], 'on disk after the retry')
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

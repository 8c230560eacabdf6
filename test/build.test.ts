import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Another project installs samepage and writes `import { Node } from
 * 'samepage'`: Node strips no types under node_modules, so the package ships
 * JS and .d.ts built at pack time (npm run build). Here: build into a scratch
 * folder and use the built Node as plain JavaScript.
 */
test('the library builds to JS and types, and the built Node runs', { timeout: 600_000 }, async () => {
  const root = path.join(import.meta.dirname, '..')
  const out = path.join(root, '.build-test')
  fs.rmSync(out, { recursive: true, force: true })
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'pipe' })
    assert.ok(fs.existsSync(path.join(out, 'node', 'index.d.ts')), 'types are emitted')
    const js = fs.readFileSync(path.join(out, 'node', 'node.js'), 'utf8')
    assert.doesNotMatch(js, /from '\.[^']*\.ts'/, 'relative imports are rewritten to .js')
    const lib = await import(path.join(out, 'node', 'index.js')) as typeof import('../src/node/index.ts')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-lib-'))
    const node = lib.Node.open({ dir })
    try {
      const { id } = node.createSpace('from-the-library')
      node.kvPut(id, 'k', 'v')
      assert.deepEqual(node.kvGet(id, 'k'), { key: 'k', value: 'v' })
      assert.match(node.peerId, /^12D3KooW/)
    } finally {
      await node.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { daemonEntry, staleInput } from '../../lib/daemon-bundle.js'

/**
 * Which bundle of the daemon `samepage start` runs (lib/daemon-bundle.js). A checkout runs one only when it
 * was made from exactly the files there now; an installed package runs the one it shipped. The bundle itself
 * runs in every test that starts a daemon (test/e2e/idle-loads.test.ts says from which files it did).
 */
function fakeBuild (): { root: string, pointer: { dir: string, inputs: [string, number, number][] } } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-bundle-'))
  const dir = 'daemon-0123456789abcdef'
  fs.mkdirSync(path.join(root, 'dist', dir), { recursive: true })
  fs.writeFileSync(path.join(root, 'dist', dir, 'main.js'), '')
  fs.mkdirSync(path.join(root, 'src'))
  const inputs: [string, number, number][] = ['src/a.ts', 'src/b.ts'].map(file => {
    fs.writeFileSync(path.join(root, file), `// ${file}\n`)
    const st = fs.statSync(path.join(root, file))
    return [file, st.size, st.mtimeMs]
  })
  const pointer = { dir, inputs }
  fs.writeFileSync(path.join(root, 'dist', 'daemon.json'), JSON.stringify(pointer))
  return { root, pointer }
}

test('a build is current while every file it was made from is as it was', () => {
  const { root, pointer } = fakeBuild()
  try {
    assert.equal(staleInput(root, pointer), undefined)
    fs.appendFileSync(path.join(root, 'src', 'b.ts'), 'changed\n')
    assert.equal(staleInput(root, pointer), 'src/b.ts', 'a file of another size')
    fs.writeFileSync(path.join(root, 'src', 'b.ts'), '// src/b.ts\n')
    const later = new Date(Date.now() + 5000)
    fs.utimesSync(path.join(root, 'src', 'b.ts'), later, later)
    assert.equal(staleInput(root, pointer), 'src/b.ts', 'a file of the same size, written since')
    fs.rmSync(path.join(root, 'src', 'a.ts'))
    assert.equal(staleInput(root, pointer), 'src/a.ts', 'a file gone')
    fs.rmSync(path.join(root, 'dist', pointer.dir, 'main.js'))
    assert.equal(staleInput(root, pointer), path.join('dist', pointer.dir, 'main.js'), 'the build gone')
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

test('an installed package runs the build it shipped, unchecked, or none', () => {
  const { root, pointer } = fakeBuild()
  try {
    fs.rmSync(path.join(root, 'src'), { recursive: true }) // a package ships no source to compare
    assert.equal(daemonEntry(root, { installed: true }),
      new URL(`file://${path.join(root, 'dist', pointer.dir, 'main.js')}`).href)
    fs.rmSync(path.join(root, 'dist', pointer.dir), { recursive: true })
    assert.equal(daemonEntry(root, { installed: true }), undefined, 'a bundle named but not there: its dist/cli/ runs')
    fs.rmSync(path.join(root, 'dist', 'daemon.json'))
    assert.equal(daemonEntry(root, { installed: true }), undefined, 'no bundle shipped: its dist/cli/ runs')
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

test('a checkout whose bundle cannot be made runs the source, and says why', () => {
  const { root } = fakeBuild()
  try {
    fs.appendFileSync(path.join(root, 'src', 'a.ts'), 'changed\n') // stale: a build is tried, of a tree with no entry
    const said: string[] = []
    assert.equal(daemonEntry(root, { warn: (msg: string) => { said.push(msg) } }), undefined)
    assert.equal(said.length, 1)
    assert.match(said[0] as string, /^samepage: running the daemon from its source: bundling it failed \(.+\)/)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Which data directory a command means (cli/program.ts globals()): an empty
 * SAMEPAGE_HOME is unset, so ~/.samepage, never the current directory
 * (path.resolve('') is the current directory); an empty --dir is a usage error.
 */
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'samepage.js')

function run (t: { after: (fn: () => void) => void }, args: string[]): { code: number | null, stdout: string, cwd: string, home: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-data-dir-'))
  t.after(() => { fs.rmSync(root, { recursive: true, force: true }) })
  const cwd = path.join(root, 'project')
  const home = path.join(root, 'home')
  fs.mkdirSync(cwd)
  fs.mkdirSync(home)
  const r = spawnSync(process.execPath, [BIN, '--json', ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, HOME: home, SAMEPAGE_HOME: '' }
  })
  return { code: r.status, stdout: r.stdout, cwd, home }
}

test('an empty SAMEPAGE_HOME is the default ~/.samepage: nothing is written in the current directory', t => {
  const r = run(t, ['init'])
  assert.equal(r.code, 0, r.stdout)
  assert.deepEqual(fs.readdirSync(r.cwd), [], 'the current directory is not the data directory')
  assert.equal(JSON.parse(r.stdout).dir, path.join(r.home, '.samepage'))
  assert.ok(fs.existsSync(path.join(r.home, '.samepage', 'identity.key')))
})

test('an empty --dir is a usage error (exit 2), and nothing is written', t => {
  const r = run(t, ['--dir', '', 'init'])
  assert.equal(r.code, 2, r.stdout)
  assert.equal(JSON.parse(r.stdout).error.code, 'USAGE')
  assert.match(JSON.parse(r.stdout).error.message, /--dir.*It is empty/)
  assert.deepEqual(fs.readdirSync(r.cwd), [])
  assert.deepEqual(fs.readdirSync(r.home), [])
})

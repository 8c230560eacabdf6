import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * The systemd unit in contrib/systemd/ (issue 16) as systemd itself reads
 * it: `systemd-analyze verify` finds nothing to say (it exits 0 even on
 * unknown keys, so its output must be empty too), and `systemd-analyze
 * security` rates its hardening. verify also checks that ExecStart's program
 * exists: the unit's is where `npm install -g` puts it, so the copy checked
 * here points at this checkout's bin/samepage.js instead.
 */
const ROOT = path.join(import.meta.dirname, '..', '..')
const UNIT = path.join(ROOT, 'contrib', 'systemd', 'samepage.service')
const BIN = path.join(ROOT, 'bin', 'samepage.js')
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' })
const skip = analyze.error === undefined ? false : 'systemd-analyze is not installed (Debian: apt-get install systemd)'

function checkedCopy (edit: (text: string) => string = t => t): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-unit-'))
  const text = fs.readFileSync(UNIT, 'utf8').replace(/^ExecStart=\S+/m, `ExecStart=${BIN}`)
  const file = path.join(dir, 'samepage.service')
  fs.writeFileSync(file, edit(text))
  return file
}

test('systemd-analyze verify finds nothing to say about the unit', { skip }, () => {
  const unit = checkedCopy()
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr + r.stdout, '', 'no warning')
  const text = fs.readFileSync(UNIT, 'utf8')
  for (const line of ['Restart=on-failure', 'User=samepage', 'Environment=SAMEPAGE_HOME=/var/lib/samepage',
    'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/samepage']) {
    assert.match(text, new RegExp(`^${line}$`, 'm'), line)
  }
  assert.match(text, /^ExecStart=\S+\/samepage start$/m)
  // The check is not blind: a key systemd does not know is reported.
  const brokenUnit = checkedCopy(t => t.replace('Restart=on-failure', 'Restart=sometimes'))
  const broken = spawnSync('systemd-analyze', ['verify', brokenUnit], { encoding: 'utf8' })
  assert.match(broken.stderr, /restart specifier/)
  for (const file of [unit, brokenUnit]) fs.rmSync(path.dirname(file), { recursive: true, force: true })
})

test('systemd-analyze security rates the unit\'s exposure at most 2.0 (of 10)', { skip }, t => {
  const unit = checkedCopy()
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' })
  fs.rmSync(path.dirname(unit), { recursive: true, force: true })
  if (r.status !== 0 && /offline/.test(r.stderr)) {
    t.skip('this systemd-analyze has no --offline (before systemd 250): it rates only loaded units')
    return
  }
  const m = /Overall exposure level for samepage\.service: (\d+\.\d+)/.exec(r.stdout)
  assert.ok(m !== null, r.stdout + r.stderr)
  assert.ok(Number(m[1]) <= 2, `exposure ${m[1]}`)
})

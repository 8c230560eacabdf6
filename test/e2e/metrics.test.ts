import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * A real daemon's /metrics, sharing a folder, read by Prometheus's own
 * linter (`promtool check metrics`, from Debian's prometheus package; .ci/run
 * installs it): no finding on any of samepage's families. What libp2p and
 * prom-client's standard process metrics register is theirs: such findings
 * are allowed, and only under their prefixes.
 */
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
const hasPromtool = promtool.error === undefined && promtool.status === 0

describe('/metrics against promtool', { timeout: 600_000, skip: hasPromtool ? false : 'needs promtool (apt-get install prometheus)' }, () => {
  const root = tempRoot()
  const folder = path.join(root, 'shared')
  let d: Daemon

  before(async () => {
    fs.mkdirSync(folder)
    d = await startDaemon(path.join(root, 'n1'))
    ok(d.dir, 'space', 'create', 'team')
    ok(d.dir, 'folder', 'add', 'team', folder)
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'a file, so the folder has something to count\n')
  })
  after(async () => {
    await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('promtool check metrics finds nothing in samepage\'s own families', async () => {
    const api = JSON.parse(fs.readFileSync(path.join(d.dir, 'api.json'), 'utf8')) as { url: string, token: string }
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })
      assert.equal(res.status, 200)
      return await res.text()
    }
    // Scraped once the folder has recorded its file, so that its counters have moved.
    const body = await eventually('the folder counts its file out', scrape,
      t => /^samepage_folder_files_total\{[^}]*direction="out"[^}]*\} [1-9]/m.test(t))
    for (const family of ['samepage_folder_bytes_total', 'samepage_folder_state', 'samepage_space_entries',
      'samepage_misbehaviour_events_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      assert.match(body, new RegExp(`^${family}(\\{| )`, 'm'), `${family} has samples`)
    }
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })
    // 0: clean; 3: lint findings (on stderr, one a line, the metric's name first); 1: it could not parse.
    assert.ok(r.status === 0 || r.status === 3, `promtool exited ${r.status}: ${r.stderr}`)
    const findings = r.stderr.split('\n').filter(l => l.trim() !== '')
    assert.ok(findings.every(l => !l.startsWith('error')), r.stderr)
    const ours = findings.filter(l => !/^(libp2p|nodejs)_/.test(l))
    assert.deepEqual(ours, [], 'no finding outside libp2p\'s and prom-client\'s own families')
  })
})

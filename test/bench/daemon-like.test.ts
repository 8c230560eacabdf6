import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import { bundledScript, daemonLike } from '../../bench/daemon-like.ts'

/**
 * The late-joiner bench's samepage processes run with a daemon's young generation (1 MiB semi-spaces,
 * lib/daemon-v8.js): the flags are set before the node's modules load, as bin/samepage.js sets them. With
 * only an import at the top of the script, loading the ~800 modules first grew it to 2 × 16 MiB.
 */
for (const form of ['source', 'bundle'] as const) {
  test(`a bench peer started daemonLike (${form}) loads the node with the daemon's young generation`, async () => {
    const source = path.join(import.meta.dirname, 'young-probe.ts')
    // The late joiner's and the storm's peers run bundled, as `samepage start` runs the daemon.
    const probe = form === 'bundle' ? await bundledScript(source) : source
    if (form === 'bundle') assert.match(probe, /\.bench-tmp\/young-probe-[0-9a-f]{16}\/young-probe\.js$/)
    const run = spawnSync(process.execPath, daemonLike(probe), { encoding: 'utf8', timeout: 60_000 })
    assert.equal(run.status, 0, run.stderr)
    const { newSpaceBytes } = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { newSpaceBytes: number }
    assert.ok(newSpaceBytes <= 4 * 1024 * 1024, `young generation ${newSpaceBytes} bytes`)
  })
}

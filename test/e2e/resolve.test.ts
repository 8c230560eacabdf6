import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * Resolving a real conflict between two daemons on 127.0.0.1 with
 * `samepage resolve` (POST /v1/spaces/SPACE/conflicts/resolve): the second
 * node edits a file while stopped, the first edits it later (so it wins);
 * the first keeps the losing version. Both end with it under the name, no
 * conflict listed on either, and the copies gone. Then the refusals, with
 * their codes and exit codes.
 */
const WAIT_MS = 180_000

/** A call to a daemon's API (the CLI has no command that runs a folder pass now). */
async function post (d: Daemon, route: string): Promise<void> {
  const api = JSON.parse(fs.readFileSync(path.join(d.dir, 'api.json'), 'utf8')) as { url: string, token: string }
  const res = await fetch(`${api.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } })
  assert.equal(res.status, 200, await res.text())
}

describe('resolving a conflict by keeping a version, between two daemons', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const daemons: Daemon[] = []
  after(async () => {
    await Promise.all(daemons.map(async d => { await stop(d) }))
    fs.rmSync(root, { recursive: true, force: true })
  })

  let a: Daemon
  let b: Daemon
  let space = ''
  const dirA = path.join(root, 'files-a')
  const dirB = path.join(root, 'files-b')
  const shared = (dir: string): string => path.join(dir, 'shared.txt')
  const read = (file: string): string | false => fs.existsSync(file) && fs.readFileSync(file, 'utf8')
  const names = (dir: string): string[] => fs.readdirSync(dir).filter(n => n !== '.samepage').sort()
  const LOSER = 'edited on b while it was offline'
  const WINNER = 'edited on a, later'

  before(async () => {
    a = await startDaemon(path.join(root, 'a'))
    b = await startDaemon(path.join(root, 'b'))
    daemons.push(a, b)
    for (const dir of [dirA, dirB]) fs.mkdirSync(dir)
    space = ok(a.dir, 'space', 'create', 'files').id as string
    ok(b.dir, 'space', 'join', ok(a.dir, 'space', 'invite', space, '--role', 'writer').token as string)
    ok(a.dir, 'folder', 'add', space, dirA)
    ok(b.dir, 'folder', 'add', space, dirB)
    fs.writeFileSync(shared(dirA), 'v1')
    await eventually('the second daemon has v1', () => read(shared(dirB)), v => v === 'v1', WAIT_MS)

    // Both edit while the second is stopped; the first records its edit before the second is back.
    await stop(b)
    fs.writeFileSync(shared(dirB), LOSER)
    fs.utimesSync(shared(dirB), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000))
    const filesOut = (): number => ok(a.dir, 'folder', 'status', space).status.totals.filesOut as number
    const before = filesOut()
    fs.writeFileSync(shared(dirA), WINNER)
    await eventually('the first daemon recorded its edit', filesOut, n => n > before, WAIT_MS)
    b = await startDaemon(b.dir, ['--peer', a.addrs[0] as string])
    daemons[1] = b
    for (const d of [a, b]) {
      await eventually(`${d.dir} lists the conflict, resolved in the space, its copy on disk`,
        () => ok(d.dir, 'conflicts', space) as any[], l => l.length === 1 && l[0].copies.length === 1 && l[0].versions.length === 0, WAIT_MS)
    }
    // Each node records the copy it wrote in the pass after (a new file, as any): one pass now on each makes sure it
    // is, then a marker written after it on the second node, once seen on the first, says the first holds its record.
    for (const d of [a, b]) await post(d, `/v1/spaces/${space}/folder/sync`)
    ok(b.dir, 'kv', 'put', space, 'copies-recorded', 'yes')
    await eventually('the first daemon holds the second\'s records', () => cli(a.dir, 'kv', 'get', space, 'copies-recorded').json,
      v => v?.value === 'yes', WAIT_MS)
  })

  test('the refusals: usage, no folder, no conflict, not one of its versions, receive-only', () => {
    const usage = cli(a.dir, 'resolve', space, 'shared.txt')
    assert.equal(usage.code, 2, usage.stderr)
    const other = ok(a.dir, 'space', 'create', 'no-folder').id as string
    const noFolder = cli(a.dir, 'resolve', other, 'shared.txt', 'x')
    assert.equal(noFolder.code, 1)
    assert.match(noFolder.stderr, /not bound to a folder/)
    const noConflict = cli(a.dir, '--json', 'resolve', space, 'nothing.txt', 'x')
    assert.equal(noConflict.code, 1)
    assert.equal(noConflict.json.error.code, 'NO_CONFLICT')
    const notOne = cli(a.dir, '--json', 'resolve', space, 'shared.txt', 'f'.repeat(64))
    assert.equal(notOne.code, 2)
    assert.equal(notOne.json.error.code, 'BAD_INPUT')
    assert.match(notOne.json.error.message, /keep one of/)

    const mirrorDir = path.join(root, 'mirror')
    fs.mkdirSync(mirrorDir)
    ok(a.dir, 'folder', 'add', other, mirrorDir, '--mode', 'receive-only')
    const receiveOnly = cli(a.dir, '--json', 'resolve', other, 'shared.txt', 'x')
    assert.equal(receiveOnly.code, 1)
    assert.equal(receiveOnly.json.error.code, 'RECEIVE_ONLY')
    assert.match(receiveOnly.json.error.message, /receive-only: it records nothing/)

    assert.equal(read(shared(dirA)), WINNER, 'nothing changed')
    assert.equal((ok(a.dir, 'conflicts', space) as any[]).length, 1, 'still in conflict')
  })

  test('keeping the losing version: both nodes end with it under the name, no conflict on either, the copies gone', async () => {
    const [conflict] = ok(a.dir, 'conflicts', space) as any[]
    const copy = conflict.copies[0] as string
    assert.equal(read(path.join(dirA, copy)), LOSER)

    const r = cli(a.dir, 'resolve', space, 'shared.txt', copy)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.path, 'shared.txt')
    assert.deepEqual(r.json.removed, [copy])
    assert.match(r.json.recorded, /^[0-9a-f]{64}$/, 'the choice is a new record')
    assert.equal(read(shared(dirA)), LOSER, 'at once under the name on the resolving node')
    assert.deepEqual(names(dirA), ['shared.txt'], 'the copy is gone on the resolving node')

    await eventually('the second daemon has the kept version and no copy', () => [read(shared(dirB)), names(dirB)],
      ([v, n]) => v === LOSER && JSON.stringify(n) === JSON.stringify(['shared.txt']), WAIT_MS)
    for (const d of [a, b]) {
      await eventually(`${d.dir} lists no conflict`, () => ok(d.dir, 'conflicts', space) as any[], l => l.length === 0, WAIT_MS)
    }
    // Settled: a pass on each finds nothing more to do; the first still holds the kept version.
    for (const d of [a, b]) await post(d, `/v1/spaces/${space}/folder/sync`)
    assert.equal(read(shared(dirA)), LOSER)
    assert.deepEqual(names(dirA), ['shared.txt'])
    assert.deepEqual(ok(a.dir, 'folder', 'status', space).status.errors, [])
    assert.deepEqual(ok(b.dir, 'folder', 'status', space).status.errors, [])
  })
})

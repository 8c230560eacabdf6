import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { ApiClient } from '../../src/cli/client.ts'
import { cli, eventually, ok } from '../e2e/harness.ts'
import { Daemons } from '../e2e/daemons.ts'

/**
 * Accidents to a node's data directory (decision 15), with real daemons:
 * a SIGKILL in the middle of a stream of writes, two copies of one directory
 * running at once, and `samepage backup` aimed where it must not write. No
 * fork is ever proven, no honest node is scored, every acknowledged write
 * stays effective, nothing is written where a backup is refused, and every
 * daemon keeps answering.
 */
const WAIT_MS = 180_000

describe('restores, crashes and backups never fork a node nor lose its writes', { timeout: 900_000 }, () => {
  const nodes = new Daemons()
  const root = nodes.root
  const dir = (n: string): string => nodes.dir(n)
  const addr = (name: string): string => (ok(dir(name), 'id') as { addrs: string[] }).addrs[0] as string
  const kv = (name: string): Map<string, string> => new Map((ok(dir(name), 'kv', 'list', 'team') as { key: string, value: string }[]).map(e => [e.key, e.value]))
  const holds = async (name: string, keys: readonly string[]): Promise<void> => {
    await eventually(`${name} reads ${keys.length} keys`, () => kv(name), m => keys.every(k => m.get(k) === `v-${k}`), WAIT_MS)
  }
  /** Fork proofs in a node's store, read beside the running daemon (WAL readers do not block it). */
  const forks = (name: string): number => {
    const db = new DatabaseSync(path.join(dir(name), 'store.db'), { readOnly: true })
    try {
      return Number((db.prepare('SELECT COUNT(*) AS n FROM forks').get() as { n: number }).n)
    } finally {
      db.close()
    }
  }
  /** Every running daemon answers, recorded no misbehaviour, and holds no fork proof. */
  const allHonest = (): void => {
    for (const name of nodes.running.keys()) {
      assert.equal(cli(dir(name), 'id').code, 0, `${name} answers`)
      assert.deepEqual(ok(dir(name), 'misbehaviour'), [], `misbehaviour recorded on ${name}`)
      assert.equal(forks(name), 0, `fork proof stored on ${name}`)
    }
  }

  before(async () => {
    for (const name of ['b', 'c', 'a']) await nodes.run(name)
    await nodes.team('b', ['a', 'c'], WAIT_MS)
  })
  after(async () => { await nodes.close() })

  test('a node SIGKILLed in the middle of a stream of writes restarts without forking: every acknowledged write stays effective everywhere', async () => {
    const api = new ApiClient(dir('a'))
    const acked: string[] = []
    let failure: unknown
    // Writes back to back until the daemon dies under them: the kill lands while the stream is running.
    const writer = (async () => {
      for (let i = 0; ; i++) {
        const key = `kill-${i}`
        try {
          await api.call('PUT', `/v1/spaces/team/kv/${key}`, { value: `v-${key}` })
        } catch (err) {
          failure = err
          return
        }
        acked.push(key)
      }
    })()
    await eventually('A acknowledged 30 writes', () => acked.length, n => n >= 30, WAIT_MS)
    await nodes.halt('a', 'SIGKILL')
    await writer
    assert.ok(failure !== undefined, 'the write stream was still running when the kill landed')

    await nodes.run('a')
    ok(dir('a'), 'kv', 'put', 'team', 'after-kill', 'v-after-kill')
    for (const name of ['a', 'b', 'c']) await holds(name, [...acked, 'after-kill'])
    allHonest()
  })

  test('two copies of one data directory running at once, both writing: no fork proof, both branches effective on every node', async () => {
    await nodes.halt('a')
    fs.cpSync(dir('a'), dir('a-twin'), { recursive: true })
    // Each copy reaches the space through another node (they are one peer id: one session per peer), and
    // only through it: peer exchange would link each to the other's member too.
    for (const name of ['a', 'a-twin']) {
      fs.rmSync(path.join(dir(name), 'peers.json'), { force: true })
      fs.writeFileSync(path.join(dir(name), 'config.json'), JSON.stringify({ meshLinks: false }))
    }
    const [bAddr, cAddr] = [addr('b'), addr('c')]
    await Promise.all([nodes.run('a', ['--peer', bAddr]), nodes.run('a-twin', ['--peer', cAddr])])
    // Both write at the same moment, each in its own process.
    await Promise.all(['a', 'a-twin'].map(async name => await new ApiClient(dir(name)).call('PUT', `/v1/spaces/team/kv/twin-${name}`, { value: `v-twin-${name}` })))
    const both = ['twin-a', 'twin-a-twin']
    for (const name of ['a', 'a-twin', 'b', 'c']) await holds(name, both)
    allHonest()
    await nodes.halt('a-twin')
  })

  test('a backup inside the data directory (directly or through a symbolic link) is refused and writes nothing', async () => {
    fs.symlinkSync(dir('b'), path.join(root, 'link-to-b'))
    const targets = [path.join(dir('b'), 'backup.db'), path.join(dir('b'), 'no-such-dir', 'x.db'), path.join(root, 'link-to-b', 'linked.db'), dir('b')]
    for (const target of targets) {
      const r = cli(dir('b'), 'backup', target)
      assert.notEqual(r.code, 0, `backup to ${target} was accepted`)
      assert.equal(r.json?.error?.code, 'BACKUP_REFUSED', `${target}: ${r.stdout}`)
      assert.match(r.stderr, /inside the node's data directory/)
    }
    for (const name of ['backup.db', 'no-such-dir', 'linked.db']) assert.ok(!fs.existsSync(path.join(dir('b'), name)), `${name} was written in the data directory`)
    assert.deepEqual(fs.readdirSync(dir('b')).filter(f => f.endsWith('.partial')), [], 'no temporary file left in the data directory')
    const relative = await new ApiClient(dir('b')).call('POST', '/v1/backup', { path: 'backup.db' }).then(() => 'accepted', (err: { code?: string }) => err.code)
    assert.equal(relative, 'BAD_INPUT', 'a relative path through the API is refused')
    allHonest()
  })

  test('a backup over an existing file or a symbolic link is refused and leaves it as it was', () => {
    const existing = path.join(root, 'existing.db')
    fs.writeFileSync(existing, 'precious')
    const dangling = path.join(root, 'dangling.db')
    fs.symlinkSync(path.join(root, 'nowhere', 'x.db'), dangling)
    for (const target of [existing, dangling]) {
      const r = cli(dir('b'), 'backup', target)
      assert.notEqual(r.code, 0)
      assert.equal(r.json?.error?.code, 'BACKUP_EXISTS')
    }
    assert.equal(fs.readFileSync(existing, 'utf8'), 'precious')
    assert.equal(fs.readlinkSync(dangling), path.join(root, 'nowhere', 'x.db'))
    assert.ok(!fs.existsSync(path.join(root, 'nowhere')))
    assert.deepEqual(fs.readdirSync(root).filter(f => f.endsWith('.partial')), [], 'no temporary file left')
    allHonest()
  })

  test('a backup into a shared folder (which would sync every space\'s data to its members) is refused', () => {
    const shared = dir('shared')
    fs.mkdirSync(shared)
    ok(dir('b'), 'folder', 'add', 'team', shared)
    const r = cli(dir('b'), 'backup', path.join(shared, 'store-backup.db'))
    assert.notEqual(r.code, 0)
    assert.equal(r.json?.error?.code, 'BACKUP_REFUSED')
    assert.deepEqual(fs.readdirSync(shared).filter(f => !f.startsWith('.samepage')), [])
    allHonest()
  })
})

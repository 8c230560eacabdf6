import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { toHex } from '../../src/codec/index.ts'
import { publicKeyFromPeerId } from '../../src/identity/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { eventually, ok } from './harness.ts'
import { Daemons } from './daemons.ts'
import { parseSpaceKey } from '../../src/ids/index.ts'

/**
 * Decision 15 with three real daemons: node A is restored from an older copy
 * of its data directory (a file copy of the stopped node, then `samepage
 * backup` of the running one) and writes again. No fork is recorded
 * anywhere, every write A ever made is effective on all three nodes, and A
 * gets back by catch-up what it wrote after the copy, saying so on stderr.
 */
const WAIT_MS = 180_000

describe('a node restored from an older copy never forks itself', { timeout: 900_000 }, () => {
  const nodes = new Daemons()
  const root = nodes.root
  const dir = (n: string): string => nodes.dir(n)
  let space = ''
  /** Every kv key A wrote so far, with its value, and every ledger tx. */
  const written = new Map<string, string>()
  const ledger: { phase: string }[] = []
  const write = (phase: string, n: number): void => {
    for (let i = 0; i < n; i++) {
      const key = `${phase}-${i}`
      ok(dir('a'), 'kv', 'put', 'team', key, `v-${key}`)
      written.set(key, `v-${key}`)
    }
    ok(dir('a'), 'ledger', 'append', 'team', JSON.stringify({ phase }))
    ledger.push({ phase })
  }
  /** Waits until `name` reads every write A made so far, through the CLI. */
  const holdsAll = async (name: string): Promise<void> => {
    const want = [...written].sort()
    await eventually(`${name} reads every kv write of A`, () => (ok(dir(name), 'kv', 'list', 'team') as { key: string, value: string }[]).filter(e => written.has(e.key)).map(e => [e.key, e.value]).sort(),
      got => JSON.stringify(got) === JSON.stringify(want), WAIT_MS)
    const phases = ledger.map(t => t.phase).sort()
    await eventually(`${name} reads every ledger entry of A`, () => (ok(dir(name), 'ledger', 'list', 'team') as { phase: string }[]).map(t => t.phase).sort(),
      got => JSON.stringify(got) === JSON.stringify(phases), WAIT_MS)
  }
  const noMisbehaviour = (): void => {
    for (const name of nodes.running.keys()) assert.deepEqual(ok(dir(name), 'misbehaviour'), [], `misbehaviour recorded on ${name}`)
  }
  /** The old copy put back in place of A's directory, as a user restores one (A is stopped). */
  const putBack = (copy: string): void => {
    fs.rmSync(dir('a'), { recursive: true, force: true })
    fs.cpSync(copy, dir('a'), { recursive: true })
  }

  before(async () => {
    for (const name of ['b', 'a', 'c']) await nodes.run(name)
    space = await nodes.team('b', ['a', 'c'], WAIT_MS)
  })
  after(async () => { await nodes.close() })

  test('stop, copy the directory, write more, put the copy back, write again: no fork, nothing lost, A gets its writes back', async () => {
    write('first', 3)
    for (const name of ['b', 'c']) await holdsAll(name)
    await nodes.halt('a')
    fs.cpSync(dir('a'), dir('a-copy'), { recursive: true }) // the user's copy of the stopped node

    await nodes.run('a')
    write('after-copy', 3)
    for (const name of ['b', 'c']) await holdsAll(name)
    await nodes.halt('a')

    putBack(dir('a-copy'))
    await nodes.run('a')
    write('restored', 2) // at once, before catch-up could bring anything back
    for (const name of ['a', 'b', 'c']) await holdsAll(name)
    await eventually('A says on stderr that peers held writes its store lacked', () => nodes.stderr.get('a') ?? '', s => /holds entries this node wrote that its store lacked/.test(s), WAIT_MS)
    noMisbehaviour()
  })

  test('samepage backup, write more, restore the backup, write again: no fork, nothing lost, A gets its writes back', async () => {
    const file = path.join(root, 'backups', 'a-store.db')
    fs.mkdirSync(path.dirname(file))
    const made = ok(dir('a'), 'backup', file) as { path: string, bytes: number }
    assert.equal(made.path, fs.realpathSync(file))
    assert.ok(made.bytes > 0 && fs.statSync(file).size === made.bytes)
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a-store.db'], 'no temporary file left beside the backup')

    write('after-backup', 3)
    for (const name of ['b', 'c']) await holdsAll(name)
    await nodes.halt('a')

    // README, "Backup and restore": the store's WAL files go, the backup takes the store's place.
    for (const f of ['store.db', 'store.db-wal', 'store.db-shm']) fs.rmSync(path.join(dir('a'), f), { force: true })
    fs.copyFileSync(file, path.join(dir('a'), 'store.db'))
    await nodes.run('a')
    write('from-backup', 2)
    for (const name of ['a', 'b', 'c']) await holdsAll(name)
    noMisbehaviour()
  })

  test('no fork proof is stored on any node, and every node holds the same feeds of A', async () => {
    const feedsOf = new Map<string, string>()
    const author = toHex(publicKeyFromPeerId(nodes.running.get('a')?.peerId as string) as Uint8Array)
    for (const name of ['a', 'b', 'c']) await nodes.halt(name)
    for (const name of ['a', 'b', 'c']) {
      const store = SqliteStore.open(path.join(dir(name), 'store.db'))
      try {
        assert.deepEqual(store.forks(parseSpaceKey(space)), [], `fork proof stored on ${name}`)
        const feeds = store.feeds(parseSpaceKey(space)).filter(f => f.author === author).map(f => `${f.author}/${f.epoch}/${f.count}/${f.head}/${String(f.frozenAt)}`).sort()
        feedsOf.set(name, JSON.stringify(feeds))
      } finally {
        store.close()
      }
    }
    assert.ok(JSON.parse(feedsOf.get('a') as string).length >= 4, 'A wrote in at least four epochs (one per start that wrote)')
    assert.equal(feedsOf.get('a'), feedsOf.get('b'))
    assert.equal(feedsOf.get('c'), feedsOf.get('b'))
  })
})

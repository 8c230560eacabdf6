import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (durable gate, a045ada): a peer's runs are now committed without
 * their fsync, and the gate tells nobody about them until a WAL sync covers
 * them. A SIGKILL between the commit and that sync leaves the frames in the
 * -wal file but possibly only in the page cache. The restarted process reads
 * them back, holds them, and tells every peer it has them (hello, have,
 * served wants) while nothing has synced them: a power cut then loses what
 * it told (design rule 12; the gate's own promise). Before the gate every
 * peer run was committed with synchronous=FULL, so whatever a restart found
 * in the WAL was durable. Strace of a restart over such a WAL showed no
 * fsync of the -wal file between open and stop (only the checkpoint at
 * close). The contract checked here: a node restarted over a WAL its killed
 * process left syncs it (through its WAL sync, the store's test hook)
 * before its network starts, i.e. before it can tell anyone anything.
 */
test('a node restarted after a SIGKILL syncs the WAL it found before its network starts', async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-kill-'))
  const dir = path.join(root, 'n')
  const nodes: Node[] = []
  t.after(async () => {
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'killed-writer.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.after(() => { child.kill('SIGKILL') }) // whatever failed, the writer does not outlive the test
  const exited = new Promise<void>(resolve => { child.on('exit', () => { resolve() }) })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('\n')) resolve() })
    child.on('exit', code => { reject(new Error(`the writer exited early (${String(code)})`)) })
  })
  assert.match(out, /^committed 100\n/, 'the writer committed its group, never synced')
  child.kill('SIGKILL')
  await exited
  assert.ok(fs.statSync(path.join(dir, 'store.db-wal')).size > 0, 'the killed process left its frames in the WAL')

  let started = false
  const syncs: boolean[] = [] // for each WAL sync: whether start() had returned already
  const node = Node.open({ dir, walFsync: async fd => { syncs.push(started); fs.fdatasyncSync(fd) } })
  nodes.push(node)
  const held = node.kvList(node.spaces()[0]?.id ?? '').length
  assert.equal(held, 100, 'the restart holds what the killed process committed')
  await node.start()
  started = true
  assert.ok(syncs.includes(false), 'the WAL the killed process left is synced before the network starts')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { MisbehaviourLog } from '../../src/node/misbehaviour-log.ts'
import type { MisbehaviourRecord } from '../../src/node/misbehaviour-log.ts'

const FILE = 'misbehaviour.jsonl'
const ROTATED = 'misbehaviour.1.jsonl'

function record (i: number, reason = 'garbage frame'): MisbehaviourRecord {
  return { peer: `12D3KooWpeer${i % 7}`, reason, points: 10, score: i, atMs: 1_700_000_000_000 + i, disconnected: i % 5 === 0 }
}

function withDir (run: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-misbehaviour-'))
    try {
      await run(dir)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

test('the misbehaviour log survives a restart: node.misbehaviour (GET /v1/misbehaviour) shows what came before', withDir(async dir => {
  const first = Node.open({ dir })
  await first.stop()
  const before = new MisbehaviourLog(dir)
  for (let i = 0; i < 3; i++) before.add(record(i))
  const node = Node.open({ dir })
  try {
    assert.deepEqual(node.misbehaviour, [record(0), record(1), record(2)])
  } finally {
    await node.stop()
  }
}))

test('the misbehaviour log is bounded: on disk (rotated, one older file kept) and in memory', withDir(dir => {
  const log = new MisbehaviourLog(dir)
  const long = 'x'.repeat(10_000) // a reason may quote what a peer sent: cut on disk
  const n = 20_000
  for (let i = 0; i < n; i++) log.add(record(i, i % 100 === 0 ? long : 'garbage frame'))
  const sizes = [FILE, ROTATED].map(f => fs.statSync(path.join(dir, f)).size)
  for (const size of sizes) assert.ok(size <= 256 * 1024, `${size} bytes in one file`)
  assert.ok(log.records.length === 1000)
  const again = new MisbehaviourLog(dir)
  assert.equal(again.records.length, 1000, 'the last 1,000 read back')
  assert.deepEqual(again.records.at(-1), record(n - 1))
  assert.ok(again.records.every(r => r.reason.length <= 200))
  // Read back in order, oldest first, across the rotated file and the current one.
  const scores = again.records.map(r => r.score)
  assert.deepEqual(scores, [...scores].sort((a, b) => a - b))
}))

test('a line torn by a crash is cut at the next start; the lines before it and after it are kept', withDir(dir => {
  const log = new MisbehaviourLog(dir)
  log.add(record(1))
  log.add(record(2))
  fs.appendFileSync(path.join(dir, FILE), '{"peer":"12D3KooWtorn","reas') // the process died mid-append
  const restarted = new MisbehaviourLog(dir)
  assert.deepEqual(restarted.records, [record(1), record(2)])
  restarted.add(record(3))
  assert.deepEqual(new MisbehaviourLog(dir).records, [record(1), record(2), record(3)])
  // A line that is not a record (edited by hand, another version) is skipped, not fatal.
  fs.appendFileSync(path.join(dir, FILE), '{"peer":1}\nnot json\n')
  assert.deepEqual(new MisbehaviourLog(dir).records, [record(1), record(2), record(3)])
}))

test('a reason is kept cut and printable, in memory as on disk (it may quote what a peer sent)', withDir(dir => {
  const log = new MisbehaviourLog(dir)
  log.add(record(1, `garbage: \u001b[2J${'k'.repeat(10_000)}`))
  const kept = log.records[0]?.reason ?? ''
  assert.ok(kept.length <= 200 && kept.startsWith('garbage: \ufffd[2Jkkk') && kept.endsWith('…'), kept.slice(0, 40))
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8').trim()) as MisbehaviourRecord
  assert.equal(onDisk.reason, kept)
  assert.deepEqual(new MisbehaviourLog(dir).records.map(r => r.reason), [kept])
}))

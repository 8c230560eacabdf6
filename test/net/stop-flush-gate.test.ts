/**
 * A stop first lets out what the durable gate holds (SyncDriver.flushed, DurableGate.released): what was held
 * when the stop began, not everything held after it. Runs a peer's answers bring while the node stops are
 * committed behind it; waiting for an empty gate waited for their syncs too, up to the stop's bound, and the
 * sessions were then reset with the leave notice still unsent (a hostile review of the first form).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from '../../src/store/index.ts'
import { flusher, heldFsync, pipe, threeDrivers } from '../review/driver-side.ts'

/** Messages on their way in one direction, delivered when the test says. */
type Queue = (() => void)[]

test('a stop waits for what the gate held as it began, not for runs committed after', { timeout: 60_000 }, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-stop-gate-'))
  const { state, fsync } = heldFsync()
  const store = SqliteStore.open(path.join(dir, 'store.db'), { fsync })
  t.after(() => {
    state.holding = false
    for (const release of state.held.splice(0)) release()
    store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  // A and C write in the space; B (on SQLite, its commits gated) holds it and learns from both.
  const { A, B, C, origin } = threeDrivers(t, 'stop-flush-gate', store, 'writer')
  // One queue per direction, so that the test says which message arrives when.
  const fromA: Queue = []
  const fromC: Queue = []
  const toA: Queue = []
  const toC: Queue = []
  const saidToA: string[] = []
  A.sessions.set(B.author, pipe(fromA, A, B))
  C.sessions.set(B.author, pipe(fromC, C, B))
  B.sessions.set(A.author, pipe(toA, B, A, saidToA))
  B.sessions.set(C.author, pipe(toC, B, C))
  const deliver = async (...queues: Queue[]): Promise<void> => {
    for (const q of queues) await flusher(q)()
  }
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await deliver(fromA, fromC, toA, toC)
  }
  for (const [x, y] of [[A, B], [C, B]] as const) {
    assert.ok(x.driver.connect(y.author))
    assert.ok(y.driver.connect(x.author))
  }
  await settle()

  state.holding = true
  A.driver.append(origin.key, { t: 'kv.put', key: 'from-a', value: 1 })
  C.driver.append(origin.key, { t: 'kv.put', key: 'from-c', value: 2 })
  await deliver(fromA, fromC) // their announcements
  await deliver(toA, toC) // B's wants, sent before anything was committed
  await deliver(fromA) // A's run: committed, its sync held
  assert.equal(state.held.length, 1, 'B committed A\'s run and waits for its sync')
  assert.equal(B.driver.pushLeaveNotice(origin.key, B.driver.signLeaveNotice(origin.key)), 2)
  const mark = saidToA.length

  let flushed = false
  const stopping = B.driver.flushed(new AbortController().signal).then(() => { flushed = true })
  await deliver(fromC) // C's run, committed behind the notice; its sync will never be let through
  assert.equal(flushed, false, 'nothing was released yet')
  assert.ok(!saidToA.slice(mark).includes('status'), 'the notice waits behind the first run\'s sync')

  state.held.shift()?.() // the first sync completes
  await stopping
  assert.ok(saidToA.slice(mark).includes('status'), 'the notice went out before the stop went on')
  B.driver.stop()
})

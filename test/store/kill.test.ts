/**
 * Crash safety of the real store under a real process kill: a child
 * (kill-writer.ts) appends in an endless loop and is SIGKILLed at a random
 * moment, again and again. After every kill the store must reopen with
 *   1. every acknowledged write present (acknowledged means committed),
 *   2. no half-written record: feeds contiguous from 0 and linked by hash,
 *      every entry's bytes hashing to its id, decoding and verifying, and
 *      SQLite's own integrity_check clean,
 *   3. views equal to views recomputed from the stored entries,
 *   4. the values read through the replica equal a model computed from the
 *      stored entries, and the stored entries equal the acknowledged ones
 *      plus at most the one write in flight when the kill landed.
 *
 * KILL_SEED=<n> replays one schedule of kill delays (the writer's timing is
 * still the machine's).
 */
import { spawn } from 'node:child_process'
import type { ChildProcessByStdio } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { compareBytes, decodeEntry, sha256, toHex } from '../../src/codec/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import { entrySignatureValid, SpaceReplica } from '../../src/space/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import type { StoredEntry } from '../../src/store/index.ts'
import { Random } from '../sim/random.ts'
import { recomputedViewHash } from '../space/view-rebuild.ts'
import { authorKeyOf, parseEntryId } from '../../src/ids/index.ts'


const KILLS_MIN = 15
const KILLS_MAX = 25
/** Kills past KILLS_MIN stop once this much time has gone. */
const TIME_BUDGET_MS = 45_000
const READY_TIMEOUT_MS = 120_000
const WRITER = path.join(import.meta.dirname, 'kill-writer.ts')

interface Ack {
  readonly n: number
  readonly epoch: number
  readonly seq: number
  readonly id: string
  readonly t: string
  readonly key?: string
  readonly name?: string
}

interface Run {
  readonly acks: Ack[]
  /** Bytes after the last newline when stdout closed (a torn line; never an acknowledgement). */
  readonly tail: string
  readonly stderr: string
  readonly signal: NodeJS.Signals | null
}

test('a writer SIGKILLed in a loop reopens with every acknowledged write and consistent views', { timeout: 600_000 }, async t => {
  const seed = Number(process.env['KILL_SEED'] ?? Date.now() % 2 ** 31)
  t.diagnostic(`KILL_SEED=${seed}`)
  console.log(`kill.test: KILL_SEED=${seed}`)
  const rng = new Random(seed)
  const random = (): number => rng.next()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-kill-'))
  const file = path.join(dir, 'store.db')
  const started = Date.now()
  let child: ChildProcessByStdio<Writable, Readable, Readable> | undefined
  try {
    const acked: Ack[] = []
    let stored = 0
    let kills = 0
    let midWrite = 0
    while (kills < KILLS_MAX && (kills < KILLS_MIN || Date.now() - started < TIME_BUDGET_MS)) {
      const delay = 20 + Math.floor(random() * 281)
      child = spawn(process.execPath, [WRITER, dir, String(seed + kills)], { stdio: ['pipe', 'pipe', 'pipe'] })
      const run = await killAfterReady(child, delay)
      child = undefined
      kills++
      assert.equal(run.signal, 'SIGKILL', `writer ended by itself, not by the kill:\n${run.stderr}`)
      assert.equal(run.tail, '', 'a torn acknowledgement line (a write of one short line to a pipe is atomic)')

      const check = checkStore(file, acked, run.acks, stored)
      acked.push(...run.acks)
      if (check.stored > stored + run.acks.length) midWrite++
      stored = check.stored
      t.diagnostic(`kill ${kills} after ${delay} ms: ${run.acks.length} acknowledged, ${stored} stored in all`)
    }
    assert.ok(kills >= KILLS_MIN)
    assert.ok(acked.length > 0, 'the writer never acknowledged a write')
    const summary = `${kills} kills, ${acked.length} acknowledged, ${stored} stored, ${midWrite} kills landed after a commit but before its acknowledgement, ${Date.now() - started} ms`
    t.diagnostic(summary)
    console.log(`kill.test: ${summary}`)
  } finally {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** Waits for `ready`, lets the writer run `delay` ms, SIGKILLs it, and returns every line it wrote before dying. */
async function killAfterReady (child: ChildProcessByStdio<Writable, Readable, Readable>, delay: number): Promise<Run> {
  let out = ''
  let stderr = ''
  let ready = false
  let onReady: () => void = () => {}
  const readyNow = new Promise<void>(resolve => { onReady = resolve })
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    out += chunk
    if (!ready && out.startsWith('ready\n')) {
      ready = true
      onReady()
    }
  })
  child.stderr.on('data', (chunk: string) => { stderr += chunk })
  // 'close': the process is gone AND its stdout is drained, so every line it wrote is in `out`.
  const closed = new Promise<NodeJS.Signals | null>(resolve => child.on('close', (_code, signal) => resolve(signal)))
  const abort = new AbortController()
  const timer = sleep(READY_TIMEOUT_MS, 'timeout' as const, { signal: abort.signal }).catch(() => 'aborted' as const)
  const first = await Promise.race([readyNow.then(() => 'ready' as const), closed.then(() => 'exited' as const), timer])
  abort.abort()
  if (first !== 'ready') {
    child.kill('SIGKILL')
    await closed
    assert.fail(`writer did not get ready (${first}):\n${stderr}`)
  }
  await sleep(delay)
  child.kill('SIGKILL')
  const signal = await closed
  assert.ok(out.startsWith('ready\n'))
  const body = out.slice('ready\n'.length)
  const end = body.lastIndexOf('\n') + 1
  const acks = body.slice(0, end).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Ack)
  return { acks, tail: body.slice(end), stderr, signal }
}

/**
 * Opens the store as a restarted node would and checks it against the
 * acknowledgements: `before` from earlier runs, `now` from the run just
 * killed, `storedBefore` entries held after the previous kill.
 */
function checkStore (file: string, before: readonly Ack[], now: readonly Ack[], storedBefore: number): { stored: number } {
  // SQLite's own view first, on the file as the kill left it (WAL recovery included).
  const db = new DatabaseSync(file)
  try {
    const rows = db.prepare('PRAGMA integrity_check').all()
    assert.deepEqual(rows.map(r => r['integrity_check']), ['ok'])
    assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), [])
  } finally {
    db.close()
  }

  const store = SqliteStore.open(file)
  try {
    const spaces = store.spaces()
    assert.equal(spaces.length, 1)
    const key = spaces[0]
    assert.ok(key !== undefined)
    const replica = SpaceReplica.open(store, key)

    // (2) Feeds contiguous from 0, linked by hash; every record whole. Every restart that wrote opened a new
    // epoch (decision 15: a process never continues an epoch it did not open), whose seq 0 names the last head.
    const feeds = store.feeds(key).sort((x, y) => x.epoch - y.epoch)
    assert.ok(feeds.length >= 1)
    const entries: StoredEntry[] = []
    const decoded: Entry[] = []
    let prev: string | null = null
    for (const feed of feeds) {
      assert.equal(feed.frozenAt, null)
      assert.equal(feed.author, replica.owner)
      const run = store.run(key, feed.author, feed.epoch, 0, feed.count + 1, Number.MAX_SAFE_INTEGER)
      assert.equal(run.length, feed.count)
      for (const [i, s] of run.entries()) {
        assert.equal(s.seq, i)
        assert.equal(toHex(sha256(s.bytes)), s.id, `entry ${feed.epoch}/${i}: bytes do not hash to its id`)
        const e = decodeEntry(s.bytes, s.sig) // canonical check included
        assert.ok(entrySignatureValid(e), `entry ${feed.epoch}/${i}: bad signature`)
        assert.equal(authorKeyOf(e.author), s.author)
        assert.equal(e.epoch, s.epoch)
        assert.equal(e.seq, s.seq)
        assert.equal(e.prev === null ? null : toHex(e.prev), prev, `entry ${feed.epoch}/${i}: not linked to the entry before it`)
        const last = decoded[decoded.length - 1]
        if (last !== undefined) assert.ok(e.clock.wallMs > last.clock.wallMs || (e.clock.wallMs === last.clock.wallMs && e.clock.counter > last.clock.counter), `entry ${feed.epoch}/${i}: clock not after the entry before it`)
        assert.equal(s.kind, 'data')
        decoded.push(e)
        entries.push(s)
        prev = s.id
      }
      assert.equal(feed.head, prev)
    }
    assert.equal([...store.entries(key)].length, entries.length, 'no entry outside its feed')

    // (1) Every acknowledged write is there, where it was acknowledged.
    for (const a of [...before, ...now]) {
      const s: StoredEntry | undefined = store.entryById(key, parseEntryId(a.id))
      assert.ok(s !== undefined, `acknowledged write n=${a.n} (${a.id}) is missing`)
      assert.equal(s.epoch, a.epoch)
      assert.equal(s.seq, a.seq)
      const body = (decoded[entries.findIndex(x => x.id === a.id)] as Entry).body
      assert.equal(body.t, a.t)
      if (body.t === 'kv.put' || body.t === 'kv.del') assert.equal(body.key, a.key)
      if (body.t === 'counter.add') assert.equal(body.name, a.name)
    }

    // (4) Stored = earlier stored + this run's acknowledgements, in order, + at most the write in flight.
    const fresh = entries.slice(storedBefore).map(s => s.id)
    assert.ok(fresh.length >= now.length && fresh.length <= now.length + 1,
      `${fresh.length} entries stored by a run that acknowledged ${now.length}`)
    assert.deepEqual(fresh.slice(0, now.length), now.map(a => a.id))

    // (3) Views equal views rebuilt from the stored entries.
    assert.equal(replica.viewHash(), recomputedViewHash(store, key))

    // (4) What a reader sees equals a model of the stored entries.
    const model = modelOf(decoded)
    for (let k = 0; k < 50; k++) {
      const want = model.kv.get(`k${k}`)
      const got = replica.kvGet(`k${k}`)
      assert.deepEqual(got === undefined ? undefined : got.value, want, `kv k${k}`)
      if (got !== undefined) assert.equal(got.author, replica.owner)
    }
    for (let c = 0; c < 5; c++) assert.equal(replica.counterGet(`c${c}`), model.counters.get(`c${c}`) ?? 0, `counter c${c}`)
    assert.deepEqual(replica.ledgerList(), model.ledger)
    return { stored: entries.length }
  } finally {
    store.close()
  }
}

/** kv (last writer by clock), counters and the ledger (clock order) of one author's entries. */
function modelOf (entries: readonly Entry[]): { kv: Map<string, unknown>, counters: Map<string, number>, ledger: unknown[] } {
  const byClock = [...entries].sort((a, b) => a.clock.wallMs - b.clock.wallMs || a.clock.counter - b.clock.counter || compareBytes(a.id, b.id))
  const kv = new Map<string, unknown>()
  const counters = new Map<string, number>()
  const ledger: unknown[] = []
  for (const e of byClock) {
    const b = e.body
    if (b.t === 'kv.put') kv.set(b.key, b.value)
    else if (b.t === 'kv.del') kv.delete(b.key)
    else if (b.t === 'counter.add') counters.set(b.name, (counters.get(b.name) ?? 0) + b.delta)
    else if (b.t === 'ledger.append') ledger.push(b.tx)
  }
  return { kv, counters, ledger }
}

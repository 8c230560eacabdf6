/**
 * Child program of test/store/kill.test.ts: appends to one space in an endless
 * loop until it is SIGKILLed.
 *
 *   node test/store/kill-writer.ts <data dir> [seed]
 *
 * Opens <dir>/store.db and the identity in <dir>, creates the space on its
 * first run (a later run finds it with store.spaces()), prints `ready`, then
 * appends kv.put / kv.del / counter.add / ledger.append entries in bursts.
 * After EACH append returns (committed: acknowledged means committed) it
 * writes one JSON line to stdout, the acknowledgement:
 *   {"n":…, "epoch":…, "seq":…, "id":"<hex>", "t":"kv.put", "key":"k7"}
 * Nothing is printed for a write before it is committed, and every write is
 * acknowledged before the next one starts, so at most one committed write
 * (the one in flight when the kill lands) lacks an acknowledgement.
 *
 * stdout to a pipe is synchronous on Linux, so a line is in the pipe when
 * write() returns. The writer exits on its own when its stdin closes (the
 * test died) or after WRITER_MAX_MS, so it can never outlive a broken run.
 */
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Body } from '../../src/codec/index.ts'
import { loadOrCreateIdentity } from '../../src/identity/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { Random } from '../sim/random.ts'
import { entryIdOf } from '../../src/ids/index.ts'

const WRITER_MAX_MS = 30_000

const dir = process.argv[2]
if (dir === undefined) {
  process.stderr.write('usage: kill-writer.ts <data dir> [seed]\n')
  process.exit(2)
}
const rng = new Random(Number(process.argv[3] ?? Date.now()) >>> 0)
const random = (): number => rng.next()
const started = Date.now()

process.stdin.on('close', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()

// The key first, as a node starts (node/compose.ts): a kill between the two must not leave a store without its key,
// which the next start refuses (IDENTITY_MISSING).
const me = loadOrCreateIdentity(dir)
const store = SqliteStore.open(path.join(dir, 'store.db'))
const spaces = store.spaces()
const replica = spaces[0] === undefined
  ? SpaceReplica.create(store, me, 'kill-test', Date.now())
  : SpaceReplica.open(store, spaces[0])

let n = 0
for (const f of store.feeds(replica.key)) n += f.count
process.stdout.write('ready\n')

function int (below: number): number {
  return Math.floor(random() * below)
}

function nextBody (): Body {
  const r = random()
  if (r < 0.4) {
    // Mostly small values; now and then one that spans several SQLite pages.
    const size = random() < 0.05 ? 8_000 + int(24_000) : int(300)
    return { t: 'kv.put', key: `k${n % 50}`, value: { n, pad: 'x'.repeat(size) } }
  }
  if (r < 0.55) return { t: 'kv.del', key: `k${int(50)}` }
  if (r < 0.8) return { t: 'counter.add', name: `c${int(5)}`, delta: int(201) - 100 }
  return { t: 'ledger.append', tx: { n, amount: int(10_000) - 5_000, memo: `tx ${n}` } }
}

function appendOne (): void {
  const body = nextBody()
  const e = replica.append(me, body, Date.now())
  // Returned: committed. Acknowledge it before anything else happens.
  const ack: Record<string, unknown> = { n, epoch: e.epoch, seq: e.seq, id: entryIdOf(e.id), t: body.t }
  if (body.t === 'kv.put' || body.t === 'kv.del') ack['key'] = body.key
  if (body.t === 'counter.add') ack['name'] = body.name
  process.stdout.write(JSON.stringify(ack) + '\n')
  n++
}

while (Date.now() - started < WRITER_MAX_MS) {
  // A burst: several appends back to back, each acknowledged as it returns.
  const burst = random() < 0.3 ? 2 + int(15) : 1
  for (let i = 0; i < burst; i++) appendOne()
  // Every ~200 writes an idle gap with nothing else in flight, so kills land
  // both mid-write and between writes; otherwise just let the event loop turn.
  if (int(200 / (burst + 1)) === 0) await sleep(1 + int(5))
  else await new Promise<void>(resolve => setImmediate(resolve))
}
process.exit(3)

/**
 * What one `want` can cost a server in signature checks (sync/serve-budget.ts, space/serving.ts): ranges ending in
 * stretches of a feed whose signatures the author botched (authentic: a later signature covers them, so every
 * node holds and serves them as they came) make the server check signatures back from each range's end.
 */
import { signatureChecks } from '../helpers/signature-checks.ts'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, fromHex } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, garbled, replicaOf, settle } from './forked-writer.ts'
import type { Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'

test('one want of many ranges ending in botched stretches checks at most 32 signatures; the rest goes unanswered', () => {
  // W's feed x1..x1000, every signature botched but each hundredth's (x100, x200, ...: each covers the run to it).
  // One want of 900 ranges [k, k+1), each ending at another botched entry: 900 checks before the bound (31 s for
  // 40,000 ranges once more stretches were asked than the server remembers), each answered `none`.
  const f = forkable('sc1', ['a', 'm'])
  const [, w, a, m] = f.keys as KeyPair[]
  const xs: Signed[] = [f.e0]
  for (let i = 1; i <= 1000; i++) xs.push(f.next(i, (xs[i - 1] as Signed).id, `x${i}`))
  const run = xs.slice(1).map(e => [e.bytes, e.seq % 100 === 0 ? e.sig : garbled(e.sig)] as const)
  assert.equal(f.origin.ingestRun(run, 'W', T0 + 10).stored.length, 1000)
  const wire = new Wire(T0 + 20)
  const A = wire.add(a as KeyPair, f.store)
  const M = wire.add(m as KeyPair, adopted(f.origin))
  wire.connect(A, M)
  settle(wire, 4)
  const wk = authorKeyOf((w as KeyPair).publicKey)
  assert.equal(replicaOf(M).feedRow(wk, f.e0.epoch)?.count, 1001, 'M (honest) pulled the feed')
  const ranges = []
  for (let k = 1; k <= 1000; k++) if (k % 100 !== 0) ranges.push({ author: fromHex(wk), epoch: f.e0.epoch, from: k, to: k + 1 })
  const before = signatureChecks.count
  const sentBefore = wire.sent.length
  wire.inject(M, A, encodeMessage({ m: 'want', space: f.origin.id, ranges }), 'want')
  const answers = wire.sent.slice(sentBefore).filter(s => s.from === A.name)
  assert.ok(signatureChecks.count - before <= 32, `${signatureChecks.count - before} checks for one want`)
  // The 32 ranges checked and found botched: `none`; past the checks, busy (unanswered, asked again), never `none`.
  assert.equal(answers.filter(s => s.type === 'none').length, 32)
  assert.equal(answers.filter(s => s.type === 'entries').length, 0)
  assert.deepEqual(charged(A), [])
})

/**
 * Two status records of one author with the same clock (its author can sign both): each replica keeps the one with
 * the larger id (space/ingest.ts: clock, then id), and NodeTelemetry shows that one too. It took a record only if its
 * clock was strictly newer, so a node that got the lower-id record first kept showing it while its replica held (and
 * served) the other: two honest nodes showed different reports of one member (a review's probe).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { compareBytes, sha256 } from '../../src/codec/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { signStatus, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { peerIdOf } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { NodeTelemetry } from '../../src/node/telemetry.ts'
import { DeploymentSpaces } from '../../src/node/deployment.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const o = seededKey('tie', 'owner'); const b = seededKey('tie', 'b'); const m = seededKey('tie', 'm')

function space (): SpaceReplica {
  const r = SpaceReplica.create(new MemoryStore(), o, 'samepage-status', T0)
  r.append(o, { t: 'acl.grant', member: b.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  r.append(o, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  return r
}

const dirs: string[] = []
after(() => { for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true }) })

function telemetry (self: KeyPair, replica: SpaceReplica): NodeTelemetry {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-tie-'))
  dirs.push(dir)
  fs.writeFileSync(path.join(dir, 'deployment.json'), JSON.stringify({ spaces: [replica.key] }))
  return new NodeTelemetry({
    self: authorKeyOf(self.publicKey),
    deployment: new DeploymentSpaces(dir),
    host: {
      name: 'x', version: '0', startedMs: 0, disks: () => [], links: () => [], spaces: () => [], folders: () => [],
      traffic: () => ({ bytesIn: 0, bytesOut: 0 }), misbehaviour: () => [], addrs: () => [], statusMessagesIn: () => 0
    },
    replica: k => k === replica.key ? replica : undefined,
    publish: () => {}
  })
}

test('same-clock status records of one member: every node shows the record its replica holds', () => {
  const A = space(); const B = space()
  assert.equal(A.key, B.key)
  const tA = telemetry(o, A); const tB = telemetry(b, B)
  const now = Date.now()
  const rec = (name: string): [Uint8Array, Uint8Array] => {
    const s = signStatus(m, { space: A.id, author: m.publicKey, clock: { wallMs: now, counter: 0 }, body: { v: 1, n: name } })
    return [s.bytes, s.sig]
  }
  let lo = rec('first'); let hi = rec('second')
  if (compareBytes(sha256(lo[0]), sha256(hi[0])) > 0) [lo, hi] = [hi, lo]
  const M = authorKeyOf(m.publicKey)
  const deliver = (r: SpaceReplica, t: NodeTelemetry, rec: [Uint8Array, Uint8Array]): string => {
    const out = r.ingestStatus(rec, now)
    if (out === 'stored') t.stored(r.key, M, 'peer')
    return String(typeof out === 'object' ? out.reason : out)
  }
  // A gets lo then hi; B gets hi then lo (gossip order differs between nodes)
  assert.equal(deliver(A, tA, lo), 'stored'); assert.equal(deliver(A, tA, hi), 'stored')
  assert.equal(deliver(B, tB, hi), 'stored'); assert.equal(deliver(B, tB, lo), 'stale')
  // Both replicas hold the same record
  assert.equal(A.status(M)?.body.n, B.status(M)?.body.n)
  const nameOn = (t: NodeTelemetry): string => t.network(now).nodes.find(n => n.peerId === peerIdOf(m.publicKey))?.name ?? '?'
  const shownA = nameOn(tA); const shownB = nameOn(tB)
  assert.equal(shownA, shownB, 'two honest nodes show different reports of member M')
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * Access control with real daemons: a reader cannot write, a revoked
 * writer's later entries are rejected everywhere, and a late joiner catches
 * up to the same state.
 */
describe('access control across daemons', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = (n: string): string => path.join(root, n)
  const daemons = new Map<string, Daemon>()
  const run = async (name: string, extra: string[] = []): Promise<Daemon> => {
    const d = await startDaemon(dir(name), extra)
    daemons.set(name, d)
    return d
  }
  const keys = (name: string): string[] => (ok(dir(name), 'kv', 'list', 'team') as { key: string }[]).map(e => e.key).sort()

  before(async () => {
    await run('owner')
    await run('writer')
    await run('reader')
    ok(dir('owner'), 'space', 'create', 'team')
    for (const [name, role] of [['writer', 'writer'], ['reader', 'reader']]) {
      ok(dir(name as string), 'space', 'join', ok(dir('owner'), 'space', 'invite', 'team', '--role', role as string).token)
    }
    await eventually('the owner sees both members', () => ok(dir('owner'), 'acl', 'list', 'team') as { role: string | null }[], acl => acl.filter(m => m.role !== null).length === 3)
    await eventually('the reader knows it is a reader', () => ok(dir('reader'), 'space', 'list') as { role: string }[], s => s[0]?.role === 'reader')
  })
  after(async () => {
    for (const d of daemons.values()) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('a reader cannot write', () => {
    const r = cli(dir('reader'), 'kv', 'put', 'team', 'by-reader', 'x')
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /\(reader\) does not allow kv\.put/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })

  test('a revoked writer\'s later entries are rejected by every node', async () => {
    ok(dir('writer'), 'kv', 'put', 'team', 'before-revoke', 'kept')
    await eventually('the owner has the writer\'s entry', () => keys('owner'), k => k.includes('before-revoke'))
    // The writer goes offline; the owner revokes it; offline, the writer does not know and writes on.
    // Offline means no member is up: the writer would otherwise find them again by itself (the members'
    // addresses are in the status records it stored, and peer exchange dials members that share a space).
    await stop(daemons.get('writer') as Daemon)
    ok(dir('owner'), 'acl', 'revoke', 'team', ok(dir('writer'), 'init').peerId)
    await stop(daemons.get('owner') as Daemon)
    await stop(daemons.get('reader') as Daemon)
    fs.rmSync(path.join(dir('writer'), 'peers.json'), { force: true })
    await run('writer')
    ok(dir('writer'), 'kv', 'put', 'team', 'after-revoke', 'rejected')
    assert.ok(keys('writer').includes('after-revoke'), 'offline, the writer still believes it may write')
    await stop(daemons.get('writer') as Daemon)
    await run('owner')
    const ownerAddr = (ok(dir('owner'), 'id') as { addrs: string[] }).addrs[0] as string
    await run('reader', ['--peer', ownerAddr])
    await run('writer', ['--peer', ownerAddr])
    const writerId = ok(dir('writer'), 'init').peerId as string
    await eventually('the owner is connected to the revoked writer again', () => ok(dir('owner'), 'peers') as { peerId: string }[], p => p.some(x => x.peerId === writerId))
    // It announces its new head; members neither pull nor store what lies past its cut, and serve it nothing
    // but the revoke itself (decision 18: a revoked node is told; test/hostile/membership.test.ts).
    await new Promise(resolve => setTimeout(resolve, 3_000))
    for (const name of ['owner', 'reader']) {
      await eventually(`${name} holds the entry before the cut and not the one after`, () => keys(name), k => k.includes('before-revoke') && !k.includes('after-revoke'))
    }
    const acl = ok(dir('owner'), 'acl', 'list', 'team') as { peerId: string, role: string | null }[]
    assert.equal(acl.find(m => m.peerId === writerId)?.role, null)
  })

  test('a node that joins late catches up to the same state', async () => {
    for (let i = 0; i < 30; i++) ok(dir('owner'), 'ledger', 'append', 'team', JSON.stringify({ i }))
    await run('late')
    ok(dir('late'), 'space', 'join', ok(dir('owner'), 'space', 'invite', 'team', '--role', 'reader').token)
    await eventually('the late joiner has the ledger', () => ok(dir('late'), 'ledger', 'list', 'team') as unknown[], l => l.length === 30)
    assert.deepEqual(keys('late'), keys('owner'))
    assert.deepEqual(ok(dir('late'), 'ledger', 'list', 'team'), ok(dir('owner'), 'ledger', 'list', 'team'))
  })
})

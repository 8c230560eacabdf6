/**
 * Membership decided once (decision 18), against real daemons on 127.0.0.1
 * through the CLI as a user runs it: an invite's issuer records each
 * redemption in its own feed, so a use is never given twice and never taken
 * back; a revoked member cannot come back through a token, is told, and
 * refuses writes; every membership command takes effect or exits non-zero
 * with its reason; a deployment invite issued by any member takes effect.
 *
 * Every wait is for a state (a command that returns only once its join took
 * effect, or a polled role), never for a time.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { BIN, cli, eventually, ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { CliResult, Daemon } from '../e2e/harness.ts'
import { ownEntries } from '../helpers/own-entries.ts'

interface AclRow { peerId: string, role: string | null }
interface MapNode { peerId: string, health: string }

/** A CLI command run without blocking this process, so that two can race. */
async function cliAsync (dir: string, ...args: string[]): Promise<CliResult> {
  return await new Promise(resolve => {
    const child = spawn(process.execPath, [BIN, '--dir', dir, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('exit', code => {
      let json: unknown
      try { json = JSON.parse(stdout.trim().split('\n').pop() ?? '') } catch { json = undefined }
      resolve({ code: code ?? -1, json, stdout, stderr })
    })
  })
}

describe('hostile: membership (decision 18)', { timeout: 900_000 }, () => {
  const root = tempRoot()
  const daemons = new Map<string, Daemon>()
  const dir = (n: string): string => path.join(root, n)
  const run = async (name: string): Promise<Daemon> => {
    const d = await startDaemon(dir(name))
    daemons.set(name, d)
    return d
  }
  const peerId = (name: string): string => (daemons.get(name) as Daemon).peerId
  const aclOf = (name: string, space = 'team'): AclRow[] => ok(dir(name), 'acl', 'list', space) as AclRow[]
  const roleOf = (name: string, who: string, space = 'team'): string | null | undefined => aclOf(name, space).find(m => m.peerId === peerId(who))?.role
  const invite = (name: string, role: string, uses = 1, space = 'team'): string => (ok(dir(name), 'space', 'invite', space, '--role', role, '--uses', String(uses)) as { token: string }).token
  /** Nobody recorded misbehaviour against an honest node, and every daemon still answers. */
  const allHonestAndAlive = (names: readonly string[]): void => {
    for (const name of names) {
      assert.equal((ok(dir(name), 'id') as { peerId: string }).peerId, peerId(name), `${name} answers`)
      const scored = (ok(dir(name), 'misbehaviour') as { peer: string, points: number, disconnected: boolean }[]).filter(m => !m.disconnected)
      assert.deepEqual(scored, [], `${name} scored nobody`)
    }
  }
  let winner = ''
  let loser = ''

  before(async () => {
    for (const name of ['owner', 'j1', 'j2', 'x']) await run(name)
    ok(dir('owner'), 'space', 'create', 'team')
  })
  after(async () => {
    for (const d of daemons.values()) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('one use, two joiners at once: exactly one is joined, the other is refused with the reason, every member agrees', async () => {
    const token = invite('owner', 'writer', 1)
    const [r1, r2] = await Promise.all([cliAsync(dir('j1'), 'space', 'join', token), cliAsync(dir('j2'), 'space', 'join', token)])
    assert.equal([r1, r2].filter(r => r.code === 0).length, 1, `exactly one joined: ${r1.stderr} | ${r2.stderr}`)
    const [won, lost] = r1.code === 0 ? [r1, r2] : [r2, r1]
    winner = r1.code === 0 ? 'j1' : 'j2'
    loser = r1.code === 0 ? 'j2' : 'j1'
    assert.equal(won.json.role, 'writer')
    assert.equal(lost.json.error.code, 'JOIN_REFUSED')
    assert.match(lost.stderr, /uses-exhausted/)
    // The winner holds its redemption when its command returns; the owner wrote it.
    for (const name of ['owner', winner]) {
      assert.equal(roleOf(name, winner), 'writer', `${winner} on ${name}`)
      assert.equal(roleOf(name, loser) ?? null, null, `${loser} on ${name}`)
    }
    ok(dir(winner), 'kv', 'put', 'team', 'by-winner', 'yes')
    await eventually('the owner has the winner\'s write', () => ok(dir('owner'), 'kv', 'get', 'team', 'by-winner') as { value: unknown }, v => v.value === 'yes')
    const refusedWrite = cli(dir(loser), 'kv', 'put', 'team', 'by-loser', 'no')
    assert.notEqual(refusedWrite.code, 0)
    assert.equal(refusedWrite.json.error.code, 'NOT_ALLOWED')
    allHonestAndAlive(['owner', 'j1', 'j2'])
  })

  test('a used token presented later by another identity is refused; the member who used it keeps its role on every node', async () => {
    assert.ok(winner !== '', 'needs the first case')
    const token = invite('owner', 'writer', 1)
    const first = ok(dir('x'), 'space', 'join', token) as { role: string }
    assert.equal(first.role, 'writer')
    // The same token again, from the identity that lost the race: a lower join id wins nothing any more.
    const again = cli(dir(loser), 'space', 'join', token)
    assert.notEqual(again.code, 0)
    assert.equal(again.json.error.code, 'JOIN_REFUSED')
    assert.match(again.stderr, /uses-exhausted/)
    for (const name of ['owner', winner, 'x']) {
      await eventually(`x is a writer on ${name}`, () => roleOf(name, 'x'), r => r === 'writer')
      assert.equal(roleOf(name, loser) ?? null, null)
    }
    allHonestAndAlive(['owner', 'j1', 'j2', 'x'])
  })

  let unusedToken = ''
  test('a revoked node is told: its kv put is refused with NOT_ALLOWED naming the revoke, and no member stores it', async () => {
    unusedToken = invite('owner', 'writer', 3)
    assert.equal((ok(dir(loser), 'space', 'join', unusedToken) as { role: string }).role, 'writer')
    ok(dir(loser), 'kv', 'put', 'team', 'before-revoke', 'kept')
    await eventually('the owner has the write', () => ok(dir('owner'), 'kv', 'get', 'team', 'before-revoke') as { value: unknown }, v => v.value === 'kept')
    ok(dir('owner'), 'acl', 'revoke', 'team', peerId(loser))
    await eventually(`${loser} learns it was revoked`, () => ok(dir(loser), 'space', 'list') as { name: string, role: string | null }[], l => l.find(s => s.name === 'team')?.role === null)
    const put = cli(dir(loser), 'kv', 'put', 'team', 'after-revoke', 'refused')
    assert.notEqual(put.code, 0)
    assert.equal(put.json.error.code, 'NOT_ALLOWED')
    assert.match(put.stderr, /revoked from space team/)
    for (const name of ['owner', winner, 'x']) {
      await eventually(`${loser} revoked on ${name}`, () => roleOf(name, loser), r => r === null)
      assert.equal(ok(dir(name), 'kv', 'get', 'team', 'before-revoke').value, 'kept', 'what it wrote before the revoke stays')
      assert.equal(ok(dir(name), 'kv', 'get', 'team', 'after-revoke').value, null)
    }
    allHonestAndAlive(['owner', 'j1', 'j2', 'x'])
  })

  test('a revoked member\'s token with uses left does not bring it back: the issuer refuses, no node gives it a role', async () => {
    assert.ok(unusedToken !== '', 'needs the case before')
    const back = cli(dir(loser), 'space', 'join', unusedToken)
    assert.notEqual(back.code, 0)
    assert.equal(back.json.error.code, 'JOIN_REFUSED')
    assert.match(back.stderr, /revoked-member/)
    assert.equal((ok(dir(loser), 'space', 'list') as { name: string, role: string | null }[]).find(s => s.name === 'team')?.role, null)
    for (const name of ['owner', winner, 'x']) assert.equal(roleOf(name, loser), null, `${loser} on ${name}`)
    allHonestAndAlive(['owner', 'j1', 'j2', 'x'])
  })

  test('a reader\'s invite and grant, a writer\'s revoke, no-op grants and joins, a revoke of a non-member are refused, exit non-zero, write nothing', async () => {
    const token = invite('owner', 'reader', 1)
    await run('reader')
    assert.equal((ok(dir('reader'), 'space', 'join', token) as { role: string }).role, 'reader')
    const refusals: [string, string[], string, RegExp][] = [
      ['reader', ['space', 'invite', 'team', '--role', 'reader'], 'NOT_ALLOWED', /only an admin or the owner can invite/],
      ['reader', ['acl', 'grant', 'team', peerId('x'), 'reader'], 'NOT_ALLOWED', /only an admin or the owner can grant/],
      ['x', ['acl', 'revoke', 'team', peerId('reader')], 'NOT_ALLOWED', /only an admin or the owner can revoke/],
      ['x', ['space', 'invite', 'team', '--role', 'writer'], 'NOT_ALLOWED', /your role in space team is writer/],
      ['owner', ['acl', 'grant', 'team', peerId('x'), 'writer'], 'NO_CHANGE', /already writer/],
      ['owner', ['acl', 'grant', 'team', peerId('x'), 'reader'], 'NO_CHANGE', /already writer/],
      ['owner', ['acl', 'revoke', 'team', peerId(loser)], 'NOT_A_MEMBER', /not a member/],
      ['owner', ['acl', 'grant', 'team', peerId('owner'), 'admin'], 'NOT_ALLOWED', /owner's role never changes/],
      ['x', ['space', 'join', invite('owner', 'reader', 1)], 'NO_CHANGE', /already writer in space team/]
    ]
    for (const [who, args, code, message] of refusals) {
      const before = ownEntries(dir(who), peerId(who))
      const r = cli(dir(who), ...args)
      assert.notEqual(r.code, 0, `${who}: ${args.join(' ')}`)
      assert.equal(r.json?.error?.code, code, `${who}: ${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stdout.includes('sp1'), false, 'no token printed')
      assert.equal(ownEntries(dir(who), peerId(who)), before, `${who}: ${args.join(' ')} wrote nothing`)
    }
    // A command that does take effect says so, exits 0 and writes one entry.
    const before = ownEntries(dir('owner'), peerId('owner'))
    ok(dir('owner'), 'acl', 'grant', 'team', peerId('reader'), 'writer')
    assert.equal(ownEntries(dir('owner'), peerId('owner')), before + 1)
    await eventually('the reader is a writer now', () => ok(dir('reader'), 'space', 'list') as { role: string }[], l => l[0]?.role === 'writer')
    allHonestAndAlive(['owner', 'x', 'reader'])
  })

  test('a deployment invite issued by a member that does not own the status space takes effect, hop after hop', async () => {
    // The winner joined the owner's deployment with the owner's invite (admin there); it now invites to a space of its own.
    ok(dir(winner), 'space', 'create', 'second')
    await run('c')
    assert.equal((ok(dir('c'), 'space', 'join', invite(winner, 'writer', 1, 'second')) as { role: string, deployment: string }).deployment, 'joined')
    const deployment = (ok(dir('owner'), 'status') as { deployment: string[] }).deployment
    assert.equal(deployment.length, 1)
    assert.deepEqual((ok(dir('c'), 'status') as { deployment: string[] }).deployment, deployment, 'c is in the owner\'s deployment, not a new one')
    // The owner's node makes every member admin there, so c can carry the deployment on in its own invites.
    await eventually('c is admin of the deployment on c', () => roleOf('c', 'c', deployment[0]), r => r === 'admin')
    ok(dir('c'), 'space', 'create', 'third')
    await run('d')
    assert.equal((ok(dir('d'), 'space', 'join', invite('c', 'reader', 1, 'third')) as { deployment: string }).deployment, 'joined')
    for (const name of ['owner', winner, 'c', 'd']) {
      await eventually(`${name}'s map shows c and d up`, () => (ok(dir(name), 'net') as { nodes: MapNode[] }).nodes,
        nodes => ['c', 'd'].every(n => nodes.some(m => m.peerId === peerId(n) && m.health !== 'unknown' && m.health !== 'down')), 120_000)
    }
    allHonestAndAlive(['owner', winner, 'c', 'd'])
  })

  test('a join presented while the inviter is offline: the command says so and exits non-zero; the inviter admits it when back', async () => {
    const token = invite('owner', 'reader', 1)
    await stop(daemons.get('owner') as Daemon)
    const xAddr = (ok(dir('x'), 'id') as { addrs: string[] }).addrs[0] as string
    const late = await startDaemon(dir('late'), ['--peer', xAddr])
    daemons.set('late', late)
    await eventually('late is linked to x', () => ok(dir('late'), 'peers') as { peerId: string }[], p => p.some(q => q.peerId === peerId('x')))
    const r = cli(dir('late'), 'space', 'join', token, '--wait', '15s')
    assert.notEqual(r.code, 0)
    assert.equal(r.json.error.code, 'INVITER_UNREACHABLE')
    assert.match(r.stderr, /only the inviter can admit this node/)
    await run('owner')
    try {
      await eventually('the inviter, back, admits the join it got through x', () => ok(dir('late'), 'space', 'list') as { name: string, role: string | null }[],
        l => l.find(s => s.name === 'team')?.role === 'reader', 180_000)
    } catch (err) {
      // Failed once in CI (2026-12-06) when x had not pulled the invite before the owner stopped: x held the join
      // pending and, once the invite came, announced it to all but the owner (test/sync/membership.test.ts). Who was
      // linked to whom, should it fail again.
      const links = ['owner', 'x', 'late'].map(n => `${n} (${peerId(n)}) linked to ${JSON.stringify((ok(dir(n), 'peers') as { peerId: string }[]).map(p => p.peerId))}`)
      throw new Error(`${(err as Error).message}\n${links.join('\n')}`)
    }
    await eventually('every member agrees', () => ['owner', 'x'].map(n => roleOf(n, 'late')), roles => roles.every(role => role === 'reader'), 120_000)
    allHonestAndAlive(['owner', 'x', 'late'])
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * `samepage space leave` and `space join --as` with real daemons (issue 16).
 * B leaves a space it shares with A: its folder there stops syncing (the
 * files stay), nothing of the space is listed, held in its store, pulled or
 * served any more, also after a restart; a new invite brings it back.
 * A join whose space name is taken here is refused with NAME_TAKEN naming
 * --as, and joined under a local name with it.
 */
describe('leaving a space, and a space joined under a local name', { timeout: 900_000 }, () => {
  const root = tempRoot()
  const dir = (n: string): string => path.join(root, n)
  const daemons = new Map<string, Daemon>()
  const run = async (name: string, extra: string[] = []): Promise<Daemon> => {
    const d = await startDaemon(dir(name), extra)
    daemons.set(name, d)
    return d
  }
  const invite = (space: string, role = 'writer'): string => ok(dir('a'), 'space', 'invite', space, '--role', role).token
  const names = (n: string): string[] => (ok(dir(n), 'space', 'list') as { name: string }[]).map(s => s.name).sort()
  /** The store's rows of a space (read beside the running daemon: WAL readers do not block it). */
  const rowsOf = (n: string, space: string): number => {
    const db = new DatabaseSync(path.join(dir(n), 'store.db'), { readOnly: true })
    try {
      const count = (sql: string): number => Number(db.prepare(sql).get(space)?.['n'])
      return count('SELECT count(*) AS n FROM spaces WHERE space = ?') +
        count('SELECT count(*) AS n FROM feeds JOIN spaces USING (sid) WHERE space = ?') +
        count('SELECT count(*) AS n FROM views JOIN spaces USING (sid) WHERE space = ?')
    } finally {
      db.close()
    }
  }
  const folderA = path.join(root, 'folder-a')
  const folderB = path.join(root, 'folder-b')
  let team = ''

  before(async () => {
    await run('a')
    await run('b')
    team = ok(dir('a'), 'space', 'create', 'team').id
    ok(dir('a'), 'space', 'create', 'other')
    ok(dir('b'), 'space', 'join', invite('team'))
    ok(dir('b'), 'space', 'join', invite('other'))
    fs.mkdirSync(folderA)
    fs.mkdirSync(folderB)
    fs.writeFileSync(path.join(folderA, 'hello.txt'), 'from a')
    ok(dir('a'), 'folder', 'add', 'team', folderA)
    ok(dir('b'), 'folder', 'add', 'team', folderB)
    ok(dir('a'), 'kv', 'put', 'team', 'before', 'yes')
    await eventually('b has the file and the value', () =>
      fs.existsSync(path.join(folderB, 'hello.txt')) && ok(dir('b'), 'kv', 'get', 'team', 'before').value, v => v === 'yes')
  })
  after(async () => {
    for (const d of daemons.values()) await stop(d)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('leaving a space this node is not in is refused, nothing changes', () => {
    const r = cli(dir('b'), 'space', 'leave', 'no-such-space')
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.json.error.code, 'UNKNOWN_SPACE')
    assert.deepEqual(names('b'), ['other', 'team'])
  })

  test('the last member who can invite or grant is refused unless forced', () => {
    const solo = ok(dir('a'), 'space', 'create', 'solo').id as string
    const r = cli(dir('a'), 'space', 'leave', 'solo')
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.json.error.code, 'LAST_ADMIN')
    assert.match(r.stderr, /only member of space solo.*--force/)
    const owner = cli(dir('a'), 'space', 'leave', 'team')
    assert.equal(owner.json.error.code, 'LAST_ADMIN', 'b is a writer: a would leave nobody who can invite')
    assert.match(owner.stderr, /acl grant team PEER admin/)
    assert.deepEqual(ok(dir('a'), 'space', 'leave', 'solo', '--force'), { id: solo, name: 'solo', folder: null, unansweredInvites: 0, toldMembers: 0 })
    assert.deepEqual(names('a'), ['other', 'team'])
    assert.equal(rowsOf('a', solo), 0)
  })

  test('after leave: not listed, not held, its folder not synced (files stay), nothing pulled or served', async () => {
    ok(dir('b'), 'kv', 'put', 'team', 'by-b', 'before leaving')
    await eventually('a has b\'s write', () => ok(dir('a'), 'kv', 'get', 'team', 'by-b').value, v => v === 'before leaving')
    const left = ok(dir('b'), 'space', 'leave', 'team')
    assert.deepEqual(left, { id: team, name: 'team', folder: folderB, unansweredInvites: 0, toldMembers: 1 })
    assert.deepEqual(names('b'), ['other'])
    assert.deepEqual(ok(dir('b'), 'folder', 'list'), [])
    assert.equal(fs.readFileSync(path.join(folderB, 'hello.txt'), 'utf8'), 'from a', 'the files stay')
    const get = cli(dir('b'), 'kv', 'get', 'team', 'before')
    assert.equal(get.code, 1)
    assert.equal(get.json.error.code, 'UNKNOWN_SPACE')
    assert.equal(rowsOf('b', team), 0, 'the store holds nothing of it')
    assert.doesNotMatch(JSON.stringify(ok(dir('b'), 'status')), new RegExp(team), 'its status says nothing of it')
    assert.equal(cli(dir('b'), 'space', 'leave', 'team').json.error.code, 'UNKNOWN_SPACE', 'a second leave')
    const bId = ok(dir('b'), 'id').peerId as string
    const aclOnA = ok(dir('a'), 'acl', 'list', 'team') as { peerId: string, role: string | null }[]
    assert.equal(aclOnA.find(m => m.peerId === bId)?.role, 'writer', 'a is not told (no self-revoke): an admin revokes b')

    // A writes on in the space B left, then in one B still holds, over the same session: once B has the
    // second, every announcement of the first has reached it, and a pull of it would have been answered.
    const served = (ok(dir('a'), 'stats') as { sync: { entriesServed: number } }).sync.entriesServed
    const writes = 20
    for (let i = 0; i < writes; i++) ok(dir('a'), 'kv', 'put', 'team', `after-${i}`, 'x')
    ok(dir('a'), 'kv', 'put', 'other', 'marker', 'y')
    await eventually('b has the marker of the space it holds', () => ok(dir('b'), 'kv', 'get', 'other', 'marker').value, v => v === 'y')
    const servedSince = (ok(dir('a'), 'stats') as { sync: { entriesServed: number } }).sync.entriesServed - served
    assert.ok(servedSince < writes, `a served b none of the space it left (${servedSince} entries served)`)
    assert.equal(rowsOf('b', team), 0, 'nothing of it came back')
    assert.ok(!fs.existsSync(path.join(folderB, 'after.txt')))
  })

  test('after a restart the space is still gone; a new invite brings it back, from a clean start', async () => {
    await stop(daemons.get('b') as Daemon)
    await run('b')
    assert.deepEqual(names('b'), ['other'])
    assert.deepEqual(ok(dir('b'), 'folder', 'list'), [])
    assert.equal(rowsOf('b', team), 0)
    await eventually('b is connected to a again', () => ok(dir('b'), 'peers') as unknown[], p => p.length > 0)
    assert.equal(rowsOf('b', team), 0, 'connected, still nothing of it')

    const joined = ok(dir('b'), 'space', 'join', invite('team'))
    assert.equal(joined.id, team)
    assert.equal(joined.role, 'writer', 'a never revoked b: its role comes back by catch-up')
    await eventually('b has caught up', () => ok(dir('b'), 'kv', 'get', 'team', `after-${19}`).value, v => v === 'x')
    assert.equal(ok(dir('b'), 'kv', 'get', 'team', 'by-b').value, 'before leaving', 'its own earlier write came back')
    assert.deepEqual(names('b'), ['other', 'team'])
    assert.deepEqual(ok(dir('b'), 'folder', 'list'), [], 'the folder is bound again only when asked')
    ok(dir('b'), 'kv', 'put', 'team', 'back', 'b')
    await eventually('a has b\'s write', () => ok(dir('a'), 'kv', 'get', 'team', 'back').value, v => v === 'b')
  })

  test('a join whose space name is taken here is refused with NAME_TAKEN; --as joins it under a local name', async () => {
    const mine = ok(dir('b'), 'space', 'create', 'notes').id as string
    ok(dir('b'), 'kv', 'put', 'notes', 'whose', 'b')
    const theirs = ok(dir('a'), 'space', 'create', 'notes').id as string
    ok(dir('a'), 'kv', 'put', 'notes', 'whose', 'a')
    const token = invite('notes')

    const r = cli(dir('b'), 'space', 'join', token)
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.json.error.code, 'NAME_TAKEN')
    assert.match(r.stderr, /already holds a space named "notes" \(\w+\).*--as/)
    assert.deepEqual(names('b'), ['notes', 'other', 'team'])
    assert.equal(rowsOf('b', theirs), 0, 'nothing of the refused space was kept')
    const taken = cli(dir('b'), 'space', 'join', token, '--as', 'team')
    assert.equal(taken.json.error.code, 'NAME_TAKEN', '--as a name taken too')

    const bad = cli(dir('b'), 'space', 'join', token, '--as', ' ')
    assert.deepEqual([bad.code, bad.json.error.code], [2, 'BAD_INPUT'], 'a blank local name')
    const joined = ok(dir('b'), 'space', 'join', token, '--as', 'notes-a')
    assert.deepEqual([joined.id, joined.name], [theirs, 'notes-a'])
    assert.deepEqual(names('b'), ['notes', 'notes-a', 'other', 'team'])
    await eventually('b has a\'s value under the local name', () => ok(dir('b'), 'kv', 'get', 'notes-a', 'whose').value, v => v === 'a')
    assert.equal(ok(dir('b'), 'kv', 'get', 'notes', 'whose').value, 'b', '"notes" still names b\'s own')
    ok(dir('b'), 'kv', 'put', 'notes-a', 'from', 'b')
    const notesFolder = path.join(root, 'notes-a')
    fs.mkdirSync(notesFolder)
    ok(dir('b'), 'folder', 'add', 'notes-a', notesFolder)
    assert.deepEqual((ok(dir('b'), 'folder', 'list') as { name: string }[]).map(f => f.name), ['notes-a'])
    type Report = { report?: { spaces: { id: string, name: string }[] } }
    const published = await eventually('b\'s status report lists the space', () => ok(dir('b'), 'status') as Report,
      st => st.report?.spaces.some(sp => sp.id === theirs) === true)
    assert.equal(published.report?.spaces.find(sp => sp.id === theirs)?.name, 'notes', 'under its own name: the local one is not published')
    await eventually('a has b\'s write', () => ok(dir('a'), 'kv', 'get', 'notes', 'from').value, v => v === 'b')

    await stop(daemons.get('b') as Daemon)
    await run('b')
    assert.deepEqual(names('b'), ['notes', 'notes-a', 'other', 'team'], 'the local name is kept')
    assert.equal(ok(dir('b'), 'kv', 'get', 'notes-a', 'from').value, 'b')
    assert.deepEqual(ok(dir('b'), 'space', 'leave', 'notes-a'), { id: theirs, name: 'notes-a', folder: notesFolder, unansweredInvites: 0, toldMembers: 1 })
    assert.deepEqual(names('b'), ['notes', 'other', 'team'])
    assert.equal(ok(dir('b'), 'kv', 'get', 'notes', 'whose').value, 'b')
    assert.equal(rowsOf('b', mine) > 0, true)
  })
})

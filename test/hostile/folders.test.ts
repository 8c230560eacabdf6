import { after, describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { cidFromString, decodeEntry, encodeCbor, ENTRY_SIGNATURE_DOMAIN, sha256 } from '../../src/codec/index.ts'
import { loadOrCreateIdentity, signDomain } from '../../src/identity/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { treeHashes } from '../files/tree.ts'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import { fillDisk } from '../helpers/fill-disk.ts'
import type { Daemon } from '../e2e/harness.ts'
import { authorKeyOf, entryIdOf, parseSpaceKey } from '../../src/ids/index.ts'

/**
 * Folders are never written wrong and never leak the node's secrets
 * (decision 19), against real daemons, real files and real mounts: the data
 * directory is never shared; no record lands through a symbolic link, in
 * the work area, or over a path other records make a directory (every node
 * lays it out alike); a reserve of free disk is kept; modes lose their
 * special bits; a full disk under the store is an error, not a crash.
 */
const root = tempRoot()
const daemons: Daemon[] = []
const mounts: string[] = []
after(async () => {
  for (const d of daemons) await stop(d, 'SIGKILL')
  for (const m of mounts) spawnSync('umount', ['-l', m])
  fs.rmSync(root, { recursive: true, force: true })
})

async function daemon (name: string, extra: string[] = [], config?: object, dir = path.join(root, name)): Promise<Daemon> {
  if (config !== undefined) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config))
  }
  const d = await startDaemon(dir, extra)
  daemons.push(d)
  return d
}

function folderOf (name: string): string {
  const dir = path.join(root, `${name}-files`)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/** A tmpfs of the test's own, or a skip (it needs root). */
function tmpfs (t: TestContext, name: string, size: string): string | null {
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  if (m.status !== 0) { t.skip(`cannot mount a tmpfs here (${m.stderr.toString().trim()}); needs root`); return null }
  mounts.push(dir)
  return dir
}

const status = (d: Daemon, space: string): any => ok(d.dir, 'folder', 'status', space).status
const alive = (d: Daemon): void => {
  assert.equal(d.child.exitCode, null, `the daemon in ${d.dir} is still running`)
  assert.equal(ok(d.dir, 'id').peerId, d.peerId, 'and answering')
}

/** `owner` creates a space, `member` joins it with `role`. */
async function space (name: string, owner: Daemon, member: Daemon, role = 'writer'): Promise<string> {
  const id = ok(owner.dir, 'space', 'create', name).id as string
  const token = ok(owner.dir, 'space', 'invite', id, '--role', role).token as string
  ok(member.dir, 'space', 'join', token)
  await eventually(`${member.dir} holds the space as ${role}`, () => cli(member.dir, 'space', 'list').json as any[], l => l.some(s => s.id === id && s.role === role), 120_000)
  return id
}

/** Two connected daemons, `a` owner, `b` joined with `role`, and a directory for each one's folder (added by the test). */
async function pair (name: string, opts: { role?: string, bFolder?: string, bConfig?: object } = {}): Promise<{ a: Daemon, b: Daemon, fa: string, fb: string, id: string }> {
  const a = await daemon(`${name}-a`)
  const b = await daemon(`${name}-b`, ['--peer', a.addrs[0] as string], opts.bConfig)
  const id = await space(name, a, b, opts.role ?? 'writer')
  const fa = folderOf(`${name}-a`)
  const fb = opts.bFolder ?? folderOf(`${name}-b`)
  return { a, b, fa, fb, id }
}

function noMisbehaviour (d: Daemon): void {
  assert.deepEqual((ok(d.dir, 'misbehaviour') as any[]).filter(m => m.disconnected !== true), [], `no peer scored on ${d.dir}`)
}

describe('hostile: folders', { timeout: 900_000 }, () => {
  test('folder add refuses the data directory, a directory holding it, one inside it and a symbolic link to it; a folders.json entry that became unsafe is not synced and says why', async () => {
    const d = await daemon('guard')
    const id = ok(d.dir, 'space', 'create', 'guard').id as string
    fs.mkdirSync(path.join(d.dir, 'inside'))
    const link = path.join(root, 'link-to-data')
    fs.symlinkSync(d.dir, link)
    for (const dir of [d.dir, root, path.join(d.dir, 'inside'), link, path.join(link, 'inside')]) {
      const r = cli(d.dir, 'folder', 'add', id, dir)
      assert.notEqual(r.code, 0, `folder add ${dir} fails`)
      assert.equal(r.json?.error?.code, 'DATA_DIR_FOLDER', `${dir}: ${r.stdout} ${r.stderr}`)
      assert.match(r.stderr, /data directory/)
    }
    assert.deepEqual(ok(d.dir, 'folder', 'list'), [], 'nothing was bound')
    assert.equal(cli(d.dir, 'folder', 'status', id).json.error.code, 'NO_FOLDER')

    // A binding written before this rule (or by hand): at start it is not synced, and its status says why.
    await stop(d)
    daemons.splice(daemons.indexOf(d), 1)
    fs.writeFileSync(path.join(d.dir, 'folders.json'), JSON.stringify({ folders: [{ space: id, path: root, mode: 'send-receive' }] }))
    const again = await daemon('guard')
    const st = status(again, id)
    assert.equal(st.state, 'stopped')
    assert.equal(st.localFiles, 0, 'the folder was never scanned')
    assert.ok(st.errors.some((e: any) => e.path === '.' && /not synced: .*holds this node's data directory/.test(e.error)), JSON.stringify(st.errors))
    alive(again)
  })

  test('a directory that is a symbolic link on the receiver: the record is not written through it, nothing lands outside, the rest syncs; setuid, setgid and sticky bits are dropped', async () => {
    const { a, b, fa, fb, id } = await pair('link', { role: 'reader' })
    const outside = path.join(root, 'outside')
    fs.mkdirSync(outside)
    fs.symlinkSync(outside, path.join(fb, 'sub'))
    fs.mkdirSync(path.join(fa, 'sub'))
    fs.writeFileSync(path.join(fa, 'sub', 'evil.txt'), 'would land outside the folder')
    fs.writeFileSync(path.join(fa, 'setuid.sh'), '#!/bin/sh\necho hi\n')
    fs.chmodSync(path.join(fa, 'setuid.sh'), 0o4755)
    fs.writeFileSync(path.join(fa, 'all-bits.txt'), 'x')
    fs.chmodSync(path.join(fa, 'all-bits.txt'), 0o7644)
    ok(a.dir, 'folder', 'add', id, fa)
    ok(b.dir, 'folder', 'add', id, fb, '--mode', 'receive-only')
    const st = await eventually('the linked directory is refused, the rest written', () => status(b, id),
      s => s.errors.some((e: any) => e.path === 'sub/evil.txt') && fs.existsSync(path.join(fb, 'setuid.sh')) && fs.existsSync(path.join(fb, 'all-bits.txt')), 120_000)
    assert.match(st.errors.find((e: any) => e.path === 'sub/evil.txt').error, /symbolic link/)
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing landed outside the folder')
    assert.equal(fs.statSync(path.join(fb, 'setuid.sh')).mode & 0o7777, 0o755, 'no setuid bit')
    assert.equal(fs.statSync(path.join(fb, 'all-bits.txt')).mode & 0o7777, 0o644, 'no setgid or sticky bit')
    // Later changes still sync.
    fs.writeFileSync(path.join(fa, 'later.txt'), 'still syncing')
    await eventually('a later file arrives', () => fs.existsSync(path.join(fb, 'later.txt')), v => v, 120_000)
    assert.deepEqual(fs.readdirSync(outside), [])
    noMisbehaviour(b)
    noMisbehaviour(a)
    alive(b)
  })

  test('a signed record naming a path in the work area (.samepage/x) is refused on ingest and never written', async () => {
    const { a, b: hostile, fa, id } = await pair('workarea')
    ok(a.dir, 'folder', 'add', id, fa)
    fs.writeFileSync(path.join(fa, 'honest.txt'), 'from a')
    // The hostile member signs a file record for .samepage/x with its own key and puts it in its own feed.
    await stop(hostile)
    daemons.splice(daemons.indexOf(hostile), 1)
    const keys = loadOrCreateIdentity(hostile.dir)
    const me = Buffer.from(keys.publicKey).toString('hex')
    const store = SqliteStore.open(path.join(hostile.dir, 'store.db'))
    const feed = store.feeds(parseSpaceKey(id)).filter(f => f.author === me).sort((x, y) => y.epoch - x.epoch)[0]
    assert.ok(feed !== undefined && feed.head !== null, 'the hostile member has a feed (its join)')
    const content = Buffer.from('overwrites the node\'s state')
    const craft = (p: string, mode = 0o644): { bytes: Uint8Array, id: Uint8Array, sig: Uint8Array } => {
      const bytes = encodeCbor({
        s: (cidFromString(id) as NonNullable<ReturnType<typeof cidFromString>>).bytes,
        a: keys.publicKey,
        e: feed.epoch,
        q: feed.count,
        p: Buffer.from(feed.head as string, 'hex'),
        c: [Date.now(), 0],
        b: { t: 'file', path: p, size: content.length, mode, mtimeMs: Date.now(), deleted: false, supersedes: [], chunks: [[sha256(content), content.length]] }
      })
      const entryId = sha256(bytes)
      return { bytes, id: entryId, sig: keys.sign(signDomain(ENTRY_SIGNATURE_DOMAIN, entryId)) }
    }
    // The decoder refuses it by rule, in any case of the name; the same record elsewhere decodes.
    for (const p of ['.samepage/x', '.SamePage/x', '.SAMEPAGE/tmp/y']) {
      const e = craft(p)
      assert.throws(() => decodeEntry(e.bytes, e.sig), /work area/, p)
    }
    const control = craft('samepage/x')
    assert.equal((decodeEntry(control.bytes, control.sig).body as any).path, 'samepage/x')
    // A signed mode with setuid, setgid and sticky decodes to its permission bits on every node.
    const special = craft('run.sh', 0o7755)
    assert.equal((decodeEntry(special.bytes, special.sig).body as any).mode, 0o755)
    const evil = craft('.samepage/x')
    store.commit({ space: parseSpaceKey(id), entries: [{ author: authorKeyOf(keys.publicKey), epoch: feed.epoch, seq: feed.count, id: entryIdOf(evil.id), bytes: evil.bytes, sig: evil.sig, verified: true, kind: 'data' }] })
    store.close()
    await daemon('workarea-b', ['--peer', a.addrs[0] as string])
    // The honest node pulls the hostile feed on catch-up and refuses the entry as invalid, for its path.
    const log = await eventually('the record is refused', () => ok(a.dir, 'misbehaviour') as any[], l => l.some(m => /work area/.test(m.reason)), 120_000)
    assert.ok(log.filter(m => m.disconnected !== true).every(m => m.peer === hostile.peerId), `only the hostile member is scored: ${JSON.stringify(log)}`)
    assert.ok(!fs.existsSync(path.join(fa, '.samepage', 'x')), 'nothing written in the work area')
    assert.ok(!status(a, id).errors.some((e: any) => /samepage\/x/.test(e.path)), 'and the record is no file of the folder')
    assert.equal(fs.readFileSync(path.join(fa, 'honest.txt'), 'utf8'), 'from a')
    alive(a)
  })

  test('a file x on one node and x/y on another: the directory wins on both, x is kept as a conflict copy everywhere, both folders end the same', async () => {
    const { a, b, fa, fb, id } = await pair('shadow')
    fs.writeFileSync(path.join(fa, 'x'), 'x is a file on a')
    fs.mkdirSync(path.join(fb, 'x'))
    fs.writeFileSync(path.join(fb, 'x', 'y'), 'x/y is a file on b')
    fs.writeFileSync(path.join(fb, 'plain.txt'), 'unrelated')
    ok(a.dir, 'folder', 'add', id, fa)
    ok(b.dir, 'folder', 'add', id, fb)
    const settled = (dir: string): boolean => {
      const st = fs.lstatSync(path.join(dir, 'x'), { throwIfNoEntry: false })
      return st?.isDirectory() === true && fs.existsSync(path.join(dir, 'x', 'y')) && fs.readdirSync(dir).some(n => n.startsWith('x.sync-conflict-'))
    }
    await eventually('both folders hold x/ and the copy of x, and are the same', () => [settled(fa), settled(fb), JSON.stringify(treeHashes(fa)), JSON.stringify(treeHashes(fb))],
      ([sa, sb, ha, hb]) => sa === true && sb === true && ha === hb, 180_000)
    for (const dir of [fa, fb]) {
      assert.equal(fs.readFileSync(path.join(dir, 'x', 'y'), 'utf8'), 'x/y is a file on b')
      const copies = fs.readdirSync(dir).filter(n => n.startsWith('x.'))
      assert.equal(copies.length, 1, `${dir}: ${copies.join(', ')}`)
      assert.match(copies[0] as string, /^x\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}$/)
      assert.equal(fs.readFileSync(path.join(dir, copies[0] as string), 'utf8'), 'x is a file on a')
    }
    // Settled: no errors left on either node, and the conflict is listed alike on both.
    for (const d of [a, b]) {
      await eventually(`${d.dir} has no errors left`, () => status(d, id).errors as any[], e => e.length === 0, 120_000)
      const listed = await eventually(`${d.dir} lists the conflict of x`, () => ok(d.dir, 'conflicts', id) as any[], l => l.some(c => c.path === 'x' && c.copies.length === 1), 120_000)
      assert.ok(listed.find(c => c.path === 'x').copies[0].startsWith('x.sync-conflict-'))
    }
    assert.equal(JSON.stringify(treeHashes(fa)), JSON.stringify(treeHashes(fb)))
    noMisbehaviour(a)
    noMisbehaviour(b)
  })

  test('a file that would leave less than the disk reserve is not written; status says why; the daemon lives and later files still sync', async (t) => {
    const mount = tmpfs(t, 'reserve-disk', '8m')
    if (mount === null) return
    const { a, b, fa, fb, id } = await pair('reserve', { role: 'reader', bFolder: mount, bConfig: { diskReserveBytes: 3 * 1024 * 1024 } })
    fs.writeFileSync(path.join(fa, 'big.bin'), crypto.randomBytes(6 * 1024 * 1024))
    ok(a.dir, 'folder', 'add', id, fa)
    ok(b.dir, 'folder', 'add', id, fb, '--mode', 'receive-only')
    const st = await eventually('the big file is refused', () => status(b, id), s => s.errors.some((e: any) => e.path === 'big.bin'), 120_000)
    assert.match(st.errors.find((e: any) => e.path === 'big.bin').error, /kept free for this node's store/)
    assert.ok(!fs.existsSync(path.join(fb, 'big.bin')), 'not written')
    assert.deepEqual(fs.readdirSync(path.join(fb, '.samepage', 'tmp')), [], 'not even started')
    fs.writeFileSync(path.join(fa, 'small.txt'), 'this one fits')
    await eventually('a small file still arrives', () => fs.existsSync(path.join(fb, 'small.txt')), v => v, 120_000)
    assert.equal(fs.readFileSync(path.join(fb, 'small.txt'), 'utf8'), 'this one fits')
    assert.ok(status(b, id).errors.some((e: any) => e.path === 'big.bin'), 'the big file still says why')
    noMisbehaviour(b)
    alive(b)
  })

  test('a full disk under the store: a write fails with STORAGE_FULL, the status timer hits it too, the daemon lives and says so, and works again once space is freed', async (t) => {
    const mount = tmpfs(t, 'full-data', '16m')
    if (mount === null) return
    const d = await daemon('full', [], undefined, mount)
    const id = ok(d.dir, 'space', 'create', 'full').id as string
    ok(d.dir, 'space', 'invite', id, '--role', 'writer') // a deployment status space: a status record is committed every period
    const filler = path.join(mount, 'filler')
    fillDisk(filler)
    let refused: ReturnType<typeof cli> | undefined
    for (let i = 0; i < 300 && refused === undefined; i++) {
      const r = cli(d.dir, 'kv', 'put', id, `k${i}`, crypto.randomBytes(24 * 1024).toString('hex'))
      if (r.code !== 0) refused = r
    }
    assert.ok(refused !== undefined, 'a write failed on the full disk')
    assert.equal(refused.json?.error?.code, 'STORAGE_FULL', refused.stdout)
    assert.match(refused.stderr, /disk is full/)
    const st = await eventually('the status says the store cannot be written, by the status timer too', () => ok(d.dir, 'status'),
      s => s.alerts.some((x: any) => x.subject.endsWith('store.db') && /publishing this node's status/.test(x.detail)), 120_000)
    assert.ok(st.alerts.some((x: any) => x.kind === 'disk-full' && /a local write/.test(x.detail)))
    assert.ok((ok(d.dir, 'alerts') as any[]).some(x => x.peerId === d.peerId && x.subject.endsWith('store.db')), 'samepage alerts says so too')
    alive(d)
    fs.rmSync(filler)
    await eventually('writes work again', () => cli(d.dir, 'kv', 'put', id, 'after', 'freed').code, c => c === 0, 120_000)
    await eventually('the alert is gone', () => ok(d.dir, 'status').alerts as any[], l => !l.some(x => x.subject.endsWith('store.db')), 120_000)
    assert.equal(ok(d.dir, 'kv', 'get', id, 'after').value, 'freed')
    alive(d)
  })
})

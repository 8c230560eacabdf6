import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { chunkFile } from '../../src/files/index.ts'
import { treeKey, waitFor } from '../files/tree.ts'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

const CORRUPTING_DAEMON = path.join(import.meta.dirname, '..', 'helpers', 'corrupting-daemon.ts')

/**
 * Folder sync as a user runs it: real daemons in their own processes on
 * 127.0.0.1, real folders, every command through the CLI. Folders are
 * compared by the SHA-256 and permission bits of every file.
 */
const root = tempRoot()
const daemons: Daemon[] = []
after(async () => {
  for (const d of daemons) await stop(d, 'SIGKILL')
  fs.rmSync(root, { recursive: true, force: true })
})

/** `entry`: the script run instead of the CLI (a daemon with a fault injected, test/helpers/). */
async function daemon (name: string, extra: string[] = [], entry?: string): Promise<Daemon> {
  const d = await startDaemon(path.join(root, name), extra, [], entry)
  daemons.push(d)
  return d
}

function folderOf (name: string): string {
  const dir = path.join(root, `${name}-files`)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

const status = (d: Daemon, space: string): any => ok(d.dir, 'folder', 'status', space).status
const key = treeKey

async function allSame (what: string, dirs: string[], timeoutMs = 60_000): Promise<void> {
  await eventually(what, () => dirs.map(key), keys => keys.every(k => k === keys[0]), timeoutMs)
}

/** A space created on `owner`, joined as writer by the others, its folder added on each. */
async function sharedFolder (name: string, nodes: { d: Daemon, dir: string, mode?: string }[]): Promise<string> {
  const [first, ...rest] = nodes as [{ d: Daemon, dir: string, mode?: string }, ...{ d: Daemon, dir: string, mode?: string }[]]
  const space = ok(first.d.dir, 'space', 'create', name).id as string
  ok(first.d.dir, 'folder', 'add', space, first.dir, '--mode', first.mode ?? 'send-receive')
  for (const n of rest) {
    const token = ok(first.d.dir, 'space', 'invite', space, '--role', 'writer').token as string
    ok(n.d.dir, 'space', 'join', token)
    await eventually(`${n.d.dir} holds the space`, () => cli(n.d.dir, 'space', 'list').json as any[], l => l.some(s => s.id === space && s.role === 'writer'))
    ok(n.d.dir, 'folder', 'add', space, n.dir, '--mode', n.mode ?? 'send-receive')
  }
  return space
}

// A suite's timeout bounds its hook and all its tests together: each suite's is the sum of theirs (each test has its own).
describe('folder sync between real daemons', { timeout: 2_400_000 }, () => {
  let a: Daemon, b: Daemon, c: Daemon
  const fa = folderOf('a')
  const fb = folderOf('b')
  const fc = folderOf('c')
  let space: string

  before(async () => {
    a = await daemon('a')
    b = await daemon('b', ['--peer', a.addrs[0] as string])
    c = await daemon('c', ['--peer', a.addrs[0] as string, '--peer', b.addrs[0] as string])
    space = await sharedFolder('team-files', [{ d: a, dir: fa }, { d: b, dir: fb }, { d: c, dir: fc }])
  })

  test('three nodes: create, modify, append, truncate, delete, rename, nested directories, empty files, permissions', { timeout: 600_000 }, async () => {
    fs.mkdirSync(path.join(fa, 'docs/2026/q4'), { recursive: true })
    fs.writeFileSync(path.join(fa, 'docs/2026/q4/plan.md'), '# plan\n')
    fs.writeFileSync(path.join(fa, 'empty.txt'), '')
    fs.writeFileSync(path.join(fa, 'data.bin'), crypto.randomBytes(3 * 1024 * 1024 + 17))
    fs.writeFileSync(path.join(fb, 'from-b.txt'), 'written on b')
    fs.writeFileSync(path.join(fa, 'script.sh'), '#!/bin/sh\necho hi\n')
    await allSame('created on a and b', [fa, fb, fc])
    assert.ok(fs.existsSync(path.join(fc, 'docs/2026/q4/plan.md')) && fs.statSync(path.join(fc, 'empty.txt')).size === 0)

    fs.writeFileSync(path.join(fb, 'docs/2026/q4/plan.md'), '# plan, edited on b\n')
    fs.appendFileSync(path.join(fa, 'data.bin'), crypto.randomBytes(100_000))
    fs.truncateSync(path.join(fa, 'from-b.txt'), 7)
    fs.chmodSync(path.join(fa, 'script.sh'), 0o755)
    await allSame('modified, appended, truncated, chmod', [fa, fb, fc])
    assert.equal(fs.statSync(path.join(fc, 'script.sh')).mode & 0o777, 0o755)

    const before = ok(c.dir, 'folder', 'status', space).status.bytesReceived
    const cBlocksBefore = (ok(c.dir, 'stats') as any).blocks.bytesIn as number
    fs.renameSync(path.join(fa, 'data.bin'), path.join(fa, 'docs/data-moved.bin'))
    await allSame('renamed', [fa, fb, fc])
    assert.equal((ok(c.dir, 'stats') as any).blocks.bytesIn, cBlocksBefore, `a rename moves no file data over the wire (last pass ${before})`)

    fs.rmSync(path.join(fa, 'docs/2026'), { recursive: true })
    fs.unlinkSync(path.join(fb, 'empty.txt'))
    await allSame('deleted', [fa, fb, fc])
    assert.ok(!fs.existsSync(path.join(fc, 'docs/2026')), 'the emptied directories went too')

    const listed = ok(a.dir, 'folder', 'list') as any[]
    assert.equal(listed.length, 1)
    assert.equal(listed[0].path, fa)
    assert.equal(listed[0].mode, 'send-receive')
    const st = status(c, space)
    assert.equal(st.needFiles, 0)
    assert.equal(st.needBytes, 0)
    assert.deepEqual(st.errors, [])
  })

  test('a concurrent edit on two nodes: a conflict copy on every node, neither version lost', { timeout: 600_000 }, async () => {
    fs.writeFileSync(path.join(fa, 'shared.txt'), 'v1')
    await allSame('v1', [fa, fb, fc])
    await stop(c)
    fs.writeFileSync(path.join(fc, 'shared.txt'), 'edited on c while it was offline')
    fs.utimesSync(path.join(fc, 'shared.txt'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000))
    fs.writeFileSync(path.join(fa, 'shared.txt'), 'edited on a, later')
    await eventually('a recorded its edit', () => status(b, space).needFiles === 0 && fs.readFileSync(path.join(fb, 'shared.txt'), 'utf8'), v => v === 'edited on a, later')
    daemons.splice(daemons.indexOf(c), 1)
    c = await daemon('c', ['--peer', a.addrs[0] as string])
    await allSame('after the conflict', [fa, fb, fc])
    for (const dir of [fa, fb, fc]) {
      const names = fs.readdirSync(dir).filter(n => n.startsWith('shared'))
      assert.equal(names.length, 2, `${dir}: ${names.join(', ')}`)
      assert.equal(fs.readFileSync(path.join(dir, 'shared.txt'), 'utf8'), 'edited on a, later')
      const copy = names.find(n => n !== 'shared.txt') as string
      assert.match(copy, /^shared\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}\.txt$/)
      assert.equal(fs.readFileSync(path.join(dir, copy), 'utf8'), 'edited on c while it was offline')
    }
    const conflicts = await eventually('the conflict listed, and resolved in the space', () => ok(b.dir, 'conflicts', space) as any[],
      l => l.length === 1 && l[0].copies.length === 1 && l[0].versions.length === 0)
    assert.equal(conflicts[0].path, 'shared.txt')
    const text = cli(b.dir, 'conflicts', space)
    assert.equal(text.code, 0)
  })

  test('bad input: a folder that is missing, a file, already shared; a space without a folder; names that cannot be shared', { timeout: 600_000 }, async () => {
    const s2 = ok(a.dir, 'space', 'create', 'bad-input').id as string
    const missing = cli(a.dir, 'folder', 'add', s2, path.join(root, 'nope'))
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /does not exist; create it first/)
    fs.writeFileSync(path.join(root, 'a-file'), 'x')
    const notDir = cli(a.dir, 'folder', 'add', s2, path.join(root, 'a-file'))
    assert.equal(notDir.code, 1)
    assert.match(notDir.stderr, /is not a directory/)
    const overlap = cli(a.dir, 'folder', 'add', s2, path.join(fa, 'docs'))
    assert.equal(overlap.code, 1)
    assert.match(overlap.stderr, /overlaps .* already shared/)
    const mode = cli(a.dir, 'folder', 'add', s2, folderOf('a2'), '--mode', 'both-ways')
    assert.match(mode.stderr, /--mode "both-ways": use one of send-receive, send-only, receive-only/)
    const noFolder = cli(a.dir, 'folder', 'status', s2)
    assert.equal(noFolder.code, 1)
    assert.equal(noFolder.json.error.code, 'NO_FOLDER')

    fs.writeFileSync(path.join(fa, 'back\\slash.txt'), 'a name other systems cannot hold')
    fs.symlinkSync('/etc/passwd', path.join(fa, 'link-out'))
    await eventually('the names that cannot be shared are listed', () => status(a, space).skipped as any[],
      s => s.some((x: any) => x.path === 'back\\slash.txt' && /cannot be shared/.test(x.problem)) && s.some((x: any) => x.path === 'link-out'))
    await allSame('still the same', [fb, fc])
    assert.ok(!fs.existsSync(path.join(fb, 'back\\slash.txt')) && !fs.existsSync(path.join(fb, 'link-out')))
    ok(a.dir, 'id')

    // folder remove: the files stay, changes no longer go out, and the space may be bound again.
    const f2 = folderOf('a-removed')
    ok(a.dir, 'folder', 'add', s2, f2)
    fs.writeFileSync(path.join(f2, 'kept.txt'), 'stays')
    assert.equal(ok(a.dir, 'folder', 'remove', s2).path, f2)
    assert.equal(cli(a.dir, 'folder', 'status', s2).json.error.code, 'NO_FOLDER')
    assert.equal(fs.readFileSync(path.join(f2, 'kept.txt'), 'utf8'), 'stays')
    assert.equal((ok(a.dir, 'folder', 'list') as any[]).some(f => f.path === f2), false)
    assert.equal(cli(a.dir, 'folder', 'remove', s2).code, 1)
  })
})

describe('folder sync: transfers that go wrong', { timeout: 2_400_000 }, () => {
  test('a receiver SIGKILLed mid-transfer: nothing under the real name; after a restart it fetches only what it did not have', { timeout: 600_000 }, async () => {
    const fs1 = folderOf('seed1')
    const fr = folderOf('recv1')
    // The seed sends slowly, and is frozen (SIGSTOP) as soon as the receiver's
    // part file holds 8 MiB: the kill then lands mid-file however loaded the
    // machine is, since nothing more can arrive once the sender is stopped.
    const seed = await daemon('seed1', ['--max-up', '4MB'])
    let recv = await daemon('recv1', ['--peer', seed.addrs[0] as string])
    const big = path.join(fs1, 'big.bin')
    fs.writeFileSync(big, crypto.randomBytes(64 * 1024 * 1024))
    const space = await sharedFolder('kill-test', [{ d: seed, dir: fs1 }, { d: recv, dir: fr }])
    const tmp = path.join(fr, '.samepage', 'tmp')
    const partBytes = (): number => {
      try { return fs.readdirSync(tmp).reduce((n, f) => n + fs.statSync(path.join(tmp, f)).blocks * 512, 0) } catch { return 0 }
    }
    await waitFor(() => partBytes() > 8 * 1024 * 1024, 180_000, () => `part file bytes: ${partBytes()}`)
    seed.child.kill('SIGSTOP')
    await stop(recv, 'SIGKILL')
    seed.child.kill('SIGCONT')
    daemons.splice(daemons.indexOf(recv), 1)
    assert.ok(!fs.existsSync(path.join(fr, 'big.bin')), 'no partial file under the real name')
    const parts = fs.readdirSync(path.join(fr, '.samepage', 'tmp'))
    assert.equal(parts.length, 1, 'the part file is in the work area')
    // The chunks already there: every region of the part file that holds the right bytes.
    const part = fs.readFileSync(path.join(fr, '.samepage', 'tmp', parts[0] as string))
    const source = fs.readFileSync(big)
    let had = 0
    let offset = 0
    const chunks = await chunkFile(big)
    for (const [, size] of chunks) {
      if (offset + size <= part.length && part.subarray(offset, offset + size).equals(source.subarray(offset, offset + size))) had += size
      offset += size
    }
    assert.ok(had > 4 * 1024 * 1024, `the part file held ${had} verified bytes`)
    recv = await daemon('recv1', ['--peer', seed.addrs[0] as string])
    await allSame('resumed', [fs1, fr])
    const fetched = (ok(recv.dir, 'stats') as any).blocks.bytesIn as number
    assert.ok(fetched <= source.length - had, `fetched ${fetched} bytes after the restart; ${source.length - had} were missing`)
  })

  test('a peer serving corrupted chunks: the file arrives right from the others, and that peer is penalized', { timeout: 600_000 }, async () => {
    const fh = folderOf('honest')
    const fx = folderOf('corrupt')
    const fr = folderOf('fresh')
    const honest = await daemon('honest')
    const corrupt = await daemon('corrupt', ['--peer', honest.addrs[0] as string], CORRUPTING_DAEMON)
    fs.writeFileSync(path.join(fh, 'payload.bin'), crypto.randomBytes(6 * 1024 * 1024))
    fs.copyFileSync(path.join(fh, 'payload.bin'), path.join(fx, 'payload.bin'))
    const space = await sharedFolder('corrupt-test', [{ d: honest, dir: fh }, { d: corrupt, dir: fx }])
    await allSame('both seeders hold it', [fh, fx])
    const token = ok(honest.dir, 'space', 'invite', space, '--role', 'reader').token as string
    const fresh = await daemon('fresh', ['--peer', honest.addrs[0] as string, '--peer', corrupt.addrs[0] as string])
    ok(fresh.dir, 'space', 'join', token)
    await eventually('both seeders connected', () => ok(fresh.dir, 'peers') as any[], l => l.length >= 2)
    await eventually('the fresh node holds the space', () => ok(fresh.dir, 'space', 'list') as any[], l => l.some((s: any) => s.id === space && s.role === 'reader'))
    ok(fresh.dir, 'folder', 'add', space, fr, '--mode', 'receive-only')
    await allSame('the file arrived right', [fh, fr])
    const log = ok(fresh.dir, 'misbehaviour') as any[]
    assert.ok(log.some(m => m.peer === corrupt.peerId && /corrupt block/.test(m.reason)), JSON.stringify(log))
    assert.ok(!log.some(m => m.peer === honest.peerId), 'the honest peer is not blamed')
  })

  test('a full disk on the receiver: a clear error, nothing half-written, the daemon keeps running and syncs what fits', { timeout: 600_000 }, async (t) => {
    const fs2 = folderOf('seed2')
    const mount = path.join(root, 'small-disk')
    fs.mkdirSync(mount)
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount])
    if (m.status !== 0) { t.skip(`cannot mount a small tmpfs here (${m.stderr.toString().trim()}); needs root`); return }
    try {
      const seed = await daemon('seed2')
      const recv = await daemon('recv2', ['--peer', seed.addrs[0] as string])
      fs.writeFileSync(path.join(fs2, 'too-big.bin'), crypto.randomBytes(3 * 1024 * 1024))
      fs.writeFileSync(path.join(fs2, 'small.txt'), 'this one fits')
      // A directory here where the sender has a file of that name: this node cannot hold it.
      fs.mkdirSync(path.join(mount, 'clash'))
      fs.writeFileSync(path.join(mount, 'clash', 'mine.txt'), 'local')
      fs.writeFileSync(path.join(mount, '.samepageignore'), 'clash/\n')
      fs.writeFileSync(path.join(fs2, 'clash'), 'a file on the sender')
      const space = await sharedFolder('disk-test', [{ d: seed, dir: fs2 }, { d: recv, dir: mount, mode: 'receive-only' }])
      const st = await eventually('the errors are shown', () => status(recv, space), s => s.errors.length >= 2 && fs.existsSync(path.join(mount, 'small.txt')), 60_000)
      const byPath = new Map(st.errors.map((e: any) => [e.path, e.error]))
      assert.match(byPath.get('too-big.bin') as string, /the disk is full/)
      assert.match(byPath.get('clash') as string, /a directory has its name on this node/)
      assert.ok(!fs.existsSync(path.join(mount, 'too-big.bin')), 'nothing half-written under the real name')
      assert.deepEqual(fs.readdirSync(path.join(mount, '.samepage', 'tmp')), [], 'and no part file left taking the room')
      assert.equal(fs.readFileSync(path.join(mount, 'small.txt'), 'utf8'), 'this one fits')
      const text = cli(recv.dir, 'folder', 'status', space)
      assert.equal(text.code, 0)
      ok(recv.dir, 'id')

      const readOnly = path.join(root, 'read-only')
      fs.mkdirSync(readOnly)
      spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly])
      try {
        const s3 = ok(recv.dir, 'space', 'create', 'read-only-test').id as string
        const refused = cli(recv.dir, 'folder', 'add', s3, readOnly)
        assert.equal(refused.code, 1)
        assert.match(refused.stderr, /is not writable by this node/)
      } finally {
        spawnSync('umount', ['-l', readOnly])
      }
    } finally {
      spawnSync('umount', ['-l', mount])
    }
  })
})

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Node } from '../../src/node/index.ts'
import type { BlockServed } from '../../src/net/index.ts'
import { BLOCK_PROTOCOL } from '../../src/net/index.ts'
import { chunkFile } from '../../src/files/index.ts'
import { BIN, cli, eventually, ok, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

/**
 * The block protocol against hostile peers (decision 16). R is a real
 * daemon that receives; H an honest daemon; X a member of the space (a real
 * node over real libp2p, in this process) whose answers to chunk requests
 * the test chooses: silence, "changed"/"missing", or bytes it vouches for
 * (status 0) that do not hash right. A stranger asks R for chunks over a
 * raw libp2p stream. R and H count a peer as stalled after 3 s without an
 * answer (config.json "blockStallSeconds"); X's silence is forever, so
 * nothing here races that deadline: the test waits for states. Once X
 * runs, commands go through `samepage` without blocking this process (X
 * must keep answering its sync session and pings meanwhile).
 *
 *   X ── R ── H     (X and H each joined through R)
 */
type Behaviour = 'honest' | 'silent' | 'changed-or-missing' | 'corrupt'

/** `samepage … --json` in a child process, awaited (not spawnSync: this process hosts X). */
async function samepage (dir: string, ...args: string[]): Promise<any> {
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, '--dir', dir, '--json', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`samepage ${args.join(' ')} failed: ${err.message} ${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? 'null'))
    })
  })
}

describe('hostile block peers', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dirR = path.join(root, 'r')
  const dirH = path.join(root, 'h')
  const fr = path.join(root, 'r-files')
  const fh = path.join(root, 'h-files')
  const fx = path.join(root, 'x-files')
  let r: Daemon
  let h: Daemon
  let x: Node
  let space = ''
  let behaviour: Behaviour = 'honest'
  let asked = 0
  const strangers: Libp2p[] = []

  const answer = async (honest: () => Promise<BlockServed>): Promise<BlockServed> => {
    asked++
    switch (behaviour) {
      case 'honest': return await honest()
      case 'silent': return await new Promise<never>(() => {}) // takes the request, never answers
      case 'changed-or-missing': return asked % 2 === 0 ? 'changed' : 'missing'
      case 'corrupt': {
        const bytes = await honest()
        if (!(bytes instanceof Uint8Array)) return bytes
        const bad = Uint8Array.from(bytes)
        bad[bad.length >> 1] = (bad[bad.length >> 1] as number) ^ 0x55
        return bad // status 0: it vouches for these
      }
    }
  }

  const folderErrors = async (): Promise<{ path: string, error: string }[]> => (await samepage(dirR, 'folder', 'status', space)).status.errors
  const misbehaviour = async (dir: string): Promise<{ peer: string, reason: string, disconnected: boolean }[]> => await samepage(dir, 'misbehaviour')
  const connectedToR = async (): Promise<boolean> => ((await samepage(dirR, 'peers')) as { peerId: string }[]).some(p => p.peerId === x.peerId)
  const sha = (file: string): string | null => fs.existsSync(file) ? crypto.hash('sha256', fs.readFileSync(file)) : null
  /** Waits until R's folder has the file set aside as waiting (its pass ended without it). */
  const setAside = async (name: string): Promise<void> => {
    await eventually(`R sets ${name} aside`, folderErrors, errs => errs.some(e => e.path === name && /^waiting: /.test(e.error)), 120_000)
    assert.equal(fs.existsSync(path.join(fr, name)), false, `${name} is not written on R`)
  }
  /** A change made on R after the trouble is recorded and reaches H: R's folder is not frozen. */
  const laterChangeRecorded = async (name: string): Promise<void> => {
    const content = `written on R after ${name}: ${crypto.randomUUID()}\n`
    fs.writeFileSync(path.join(fr, name), content)
    await eventually(`H receives ${name} from R`, () => fs.existsSync(path.join(fh, name)) ? fs.readFileSync(path.join(fh, name), 'utf8') : null, c => c === content, 120_000)
  }
  const honestNodesUnscored = async (): Promise<void> => {
    assert.deepEqual((await misbehaviour(dirR)).filter(m => m.peer === h.peerId), [], 'R scored nothing against H')
    assert.deepEqual(await misbehaviour(dirH), [], 'H scored nothing against anyone')
  }

  before(async () => {
    for (const d of [dirR, dirH, fr, fh, fx]) fs.mkdirSync(d, { recursive: true })
    for (const d of [dirR, dirH]) fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ blockStallSeconds: 3 }))
    // The topology drawn above: H and X link only through R (peer exchange would link the two members directly).
    fs.writeFileSync(path.join(dirH, 'config.json'), JSON.stringify({ blockStallSeconds: 3, meshLinks: false }))
    r = await startDaemon(dirR)
    h = await startDaemon(dirH)
    space = ok(dirR, 'space', 'create', 'team').id
    ok(dirR, 'folder', 'add', space, fr)
    ok(dirH, 'space', 'join', ok(dirR, 'space', 'invite', space, '--role', 'writer').token)
    await eventually('H holds the space', () => cli(dirH, 'space', 'list').json as { id: string, role: string }[], l => l.some(s => s.id === space && s.role === 'writer'))
    ok(dirH, 'folder', 'add', space, fh)
    x = Node.open({ dir: path.join(root, 'x'), blockStallMs: 3_000, meshLinks: false, blockAnswers: async (_req, honest) => await answer(honest) })
    await x.start()
    await x.join((await samepage(dirR, 'space', 'invite', space, '--role', 'writer')).token)
    await eventually('X holds the space', () => x.spaces(), l => l.some(s => s.id === space && s.role === 'writer'))
    await x.folderAdd(space, fx)
  })

  after(async () => {
    for (const s of strangers) await Promise.resolve(s.stop()).catch(() => {})
    await x?.stop().catch(() => {})
    for (const d of [r, h]) if (d !== undefined) await stop(d, 'SIGKILL')
    fs.rmSync(root, { recursive: true, force: true })
  })

  /** X alone holds a new file and answers as `behaviour` says: R asks X, sets the file aside, scores nobody, and goes on recording. */
  const onlyXHasItAndItWaits = async (name: string, why: string): Promise<void> => {
    const before = asked
    fs.writeFileSync(path.join(fx, name), crypto.randomBytes(1024 * 1024 + 5))
    await x.folderSync(space)
    await setAside(name)
    assert.ok(asked > before, 'R did ask X')
    await laterChangeRecorded(`after-${name}.txt`)
    assert.deepEqual((await misbehaviour(dirR)).filter(m => m.peer === x.peerId), [], why)
    await honestNodesUnscored()
    // Not cut off or banned (a ban lasts minutes): connected now, or again after a redial under load.
    await eventually('X is connected to R', connectedToR, c => c, 60_000)
  }

  test('a member that takes chunk requests and never answers: the pass ends, what H has comes from H, what only X has is set aside, a later change is recorded, nobody is scored', async () => {
    behaviour = 'silent'
    fs.writeFileSync(path.join(fh, 'from-h.bin'), crypto.randomBytes(3 * 1024 * 1024 + 17))
    const want = sha(path.join(fh, 'from-h.bin'))
    await eventually('R gets from-h.bin (from H, whatever X does)', () => sha(path.join(fr, 'from-h.bin')), s => s === want, 120_000)
    await onlyXHasItAndItWaits('only-x.bin', 'silence is not scored: a stall is not proven hostile')
  })

  test('a member that answers "changed" or "missing" to everything is not scored; its file waits', async () => {
    behaviour = 'changed-or-missing'
    await onlyXHasItAndItWaits('changing.bin', '"changed" and "missing" cost the sender nothing')
  })

  test('a stranger asking for chunks gets "denied" and nothing else, for a space R holds and for one it does not', async () => {
    const stranger = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() }
    })
    strangers.push(stranger)
    const conn = await stranger.dial(multiaddr(r.addrs[0] as string))
    const lp = lpStream(await conn.newStream(BLOCK_PROTOCOL))
    const chunks = await chunkFile(path.join(fr, 'from-h.bin'))
    assert.ok(chunks.length > 1)
    const spaces = [space, 'bafyreig6xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']
    for (const sp of spaces) {
      for (const [hash] of chunks.slice(0, 2)) {
        const frame = new Uint8Array(33 + Buffer.byteLength(sp))
        frame[0] = 1
        frame.set(hash, 1)
        frame.set(Buffer.from(sp), 33)
        await lp.write(frame)
      }
    }
    for (let i = 0; i < spaces.length * 2; i++) {
      const got = (await lp.read({ signal: AbortSignal.timeout(60_000) })).subarray()
      assert.deepEqual([...got], [2], 'one status byte, "denied", and no chunk bytes')
    }
    await honestNodesUnscored()
    await stranger.stop()
  })

  test('a member that sends bytes it vouches for (status 0) that do not hash right is scored, and only it', async () => {
    behaviour = 'corrupt'
    fs.writeFileSync(path.join(fx, 'lies.bin'), crypto.randomBytes(1024 * 1024 + 9))
    await x.folderSync(space)
    const log = await eventually('R scores X for corrupt chunks', async () => await misbehaviour(dirR), l => l.some(m => m.peer === x.peerId && /corrupt block/.test(m.reason)), 120_000)
    assert.match(log.filter(m => m.peer === x.peerId).map(m => m.reason).join('\n'), /do not hash/)
    assert.equal(fs.existsSync(path.join(fr, 'lies.bin')), false, 'no corrupt byte reaches R\'s folder')
    await honestNodesUnscored()
  })

  test('the receiving daemon is alive, answers, and still records and receives', async () => {
    assert.equal(r.child.exitCode, null)
    assert.equal(h.child.exitCode, null)
    await laterChangeRecorded('at-the-end.txt')
    await samepage(dirR, 'kv', 'put', 'team', 'alive', 'yes')
    assert.equal((await samepage(dirR, 'kv', 'get', 'team', 'alive')).value, 'yes')
    await honestNodesUnscored()
  })
})

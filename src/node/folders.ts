import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'
import { toHex } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import { isAuthorKey, keyBytes } from '../ids/index.ts'
import type { Body, Entry } from '../codec/index.ts'
import { checkFolder, FOLDER_MODES, FolderProblem, FolderSync, needsParts, partKey, splitIntoParts } from '../files/index.ts'
import type { ChunkFetcher, ConflictInfo, FolderMode, FolderStatus, NewVersion } from '../files/index.ts'
import { BlockFetch } from '../net/index.ts'
import type { BlockAnswer, BlockLink } from '../net/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { SpaceKey } from '../store/index.ts'
import { NodeError } from './errors.ts'
import { dataDirProblem } from './folder-guard.ts'

/**
 * The folders this node shares: which space is bound to which directory, in
 * which mode (kept in `D/folders.json`), each run by a FolderSync whose
 * host is this node: its records are the space's file records, its chunks
 * come over the block protocol from connected members of the space, and it
 * serves its own chunks to them.
 */
export interface FolderBinding { readonly space: SpaceKey, readonly path: string, readonly mode: FolderMode }

export interface FolderInfo extends FolderBinding { readonly name: string, readonly status: FolderStatus }

export interface FoldersHost {
  readonly dir: string
  /** Free bytes a folder write must leave on its disk (default: from the disk's size). */
  readonly diskReserveBytes?: number | undefined
  /** This node's author key (hex). */
  readonly me: string
  replica (key: SpaceKey): SpaceReplica | undefined
  write (replica: SpaceReplica, bodies: readonly Body[]): Entry[]
  connected (): string[]
  link (author: string): Promise<BlockLink>
  corrupt (author: string, reason: string): void
  progress (space: SpaceKey, status: FolderStatus): void
  /** The least time a chunk request waits unanswered before its peer counts as stalled for the pass (default 30 s). */
  readonly blockStallMs?: number | undefined
}

const FOLDERS_FILE = 'folders.json'
/** Parts remembered for reuse, per space (about 60 KB of chunk list each): the oldest are forgotten first. */
const PARTS_REMEMBERED = 100_000
/** After entries arrive, a folder waits this long for the rest of a burst (a pass records 256 files per commit), so that one pass writes them all. */
const REMOTE_SETTLE_MS = 200

export class Folders {
  readonly #host: FoldersHost
  readonly #running = new Map<SpaceKey, { binding: FolderBinding, sync: FolderSync }>()
  /** Chunk-list parts this node recorded, by content, per space: an edited big file lists the unchanged ones again instead of recording them anew. */
  readonly #parts = new Map<SpaceKey, Map<string, { epoch: number, seq: number }>>()
  /** Test-only fault injection: this node serves every chunk with one byte flipped (SAMEPAGE_TEST_CORRUPT_BLOCKS=1). */
  readonly #corruptServed = process.env.SAMEPAGE_TEST_CORRUPT_BLOCKS === '1'
  /** Bindings that did not start, and why (shown in their status). */
  readonly #refused = new Map<SpaceKey, string>()

  constructor (host: FoldersHost) {
    this.#host = host
  }

  /** Starts every saved binding; one that cannot start (its directory is gone, or it became unsafe) shows the reason in its status. */
  async start (): Promise<void> {
    for (const b of this.#load()) {
      if (this.#host.replica(b.space) === undefined) continue
      const sync = this.#sync(b)
      this.#running.set(b.space, { binding: b, sync })
      const unsafe = dataDirProblem(b.path, this.#host.dir)
      // Stopped at once: a stopped FolderSync runs no pass, whatever arrives for its space.
      if (unsafe !== null) { this.#refused.set(b.space, `not synced: ${unsafe}`); await sync.stop(); continue }
      await sync.start().catch(() => {})
    }
  }

  async stop (): Promise<void> {
    await Promise.all([...this.#running.values()].map(async f => { await f.sync.stop() }))
  }

  async add (replica: SpaceReplica, dir: string, mode: string, me: string): Promise<FolderInfo> {
    if (!(FOLDER_MODES as readonly string[]).includes(mode)) throw new NodeError('BAD_INPUT', `--mode ${JSON.stringify(mode)}: use one of ${FOLDER_MODES.join(', ')}`)
    const root = path.resolve(dir)
    const role = replica.acl.currentRole(me)
    if (mode !== 'receive-only' && (role === null || role === 'reader')) {
      throw new NodeError('NOT_ALLOWED', `this node ${role === null ? 'is not a member' : 'is a reader'} of ${replica.genesis.name}: it cannot send changes; add the folder receive-only, or ask an admin for the writer role`)
    }
    if (this.#running.has(replica.key)) throw new NodeError('BAD_INPUT', `space ${replica.genesis.name} is already bound to ${this.#running.get(replica.key)?.binding.path}; one folder per space`)
    for (const f of this.#running.values()) {
      if (f.binding.path === root || root.startsWith(`${f.binding.path}${path.sep}`) || f.binding.path.startsWith(`${root}${path.sep}`)) {
        throw new NodeError('BAD_INPUT', `${root} overlaps ${f.binding.path}, already shared; a folder can be in one space only`)
      }
    }
    const unsafe = dataDirProblem(root, this.#host.dir)
    if (unsafe !== null) throw new NodeError('DATA_DIR_FOLDER', unsafe)
    try {
      await checkFolder(root)
    } catch (err) {
      if (err instanceof FolderProblem) throw new NodeError('BAD_FOLDER', err.message, { cause: err })
      throw err
    }
    const binding: FolderBinding = { space: replica.key, path: root, mode: mode as FolderMode }
    const sync = this.#sync(binding)
    await sync.start()
    this.#running.set(replica.key, { binding, sync })
    this.#save()
    return this.#info(binding, sync)
  }

  /** Stops sharing the space's folder here: the files stay on disk; what this node knew of them goes (adding it again rescans). */
  async remove (space: SpaceKey): Promise<FolderBinding> {
    const f = this.#running.get(space)
    if (f === undefined) throw new NodeError('NO_FOLDER', `space ${this.#host.replica(space)?.genesis.name ?? space} is not bound to a folder on this node`)
    await f.sync.stop()
    this.#running.delete(space)
    this.#refused.delete(space)
    this.#save()
    fs.rmSync(path.join(this.#host.dir, 'folders', `${space}.json`), { force: true })
    return f.binding
  }

  list (): FolderInfo[] {
    return [...this.#running.values()].map(f => this.#info(f.binding, f.sync))
  }

  get (space: SpaceKey): FolderInfo | undefined {
    const f = this.#running.get(space)
    return f === undefined ? undefined : this.#info(f.binding, f.sync)
  }

  conflicts (space: SpaceKey): ConflictInfo[] {
    return this.#running.get(space)?.sync.conflicts() ?? []
  }

  /** Runs a pass now (tests; `folder status --sync`). */
  async syncNow (space: SpaceKey): Promise<void> {
    await this.#running.get(space)?.sync.sync()
  }

  /** Something changed in the space (entries stored, a peer came): its folder looks again. */
  changed (space: SpaceKey): void {
    this.#running.get(space)?.sync.schedule(REMOTE_SETTLE_MS)
  }


  /**
   * A peer asks for a chunk of a space: members only (a space this node does
   * not hold is "denied" too, so a stranger cannot tell which it holds),
   * from the bound folder's own files, hashed before they go ("changed" if
   * the file moved on since its scan).
   */
  async serve (author: string, space: string, hash: Uint8Array): Promise<Exclude<BlockAnswer, 'cancelled'>> {
    const replica = this.#host.replica(space)
    if (replica === undefined || !isAuthorKey(author) || replica.acl.currentRole(author) === null) return 'denied'
    const bytes = await this.#running.get(space)?.sync.readChunk(toHex(hash)) ?? null
    if (bytes === null) return 'missing'
    if (bytes === 'changed') return 'changed'
    // After the check: the receiver must still catch these bytes, and blame this node.
    if (this.#corruptServed && bytes.length > 0) {
      const bad = Uint8Array.from(bytes)
      bad[0] = (bad[0] as number) ^ 0xff
      return bad
    }
    return bytes
  }

  #sync (binding: FolderBinding): FolderSync {
    const host = this.#host
    const replica = (): SpaceReplica => {
      const r = host.replica(binding.space)
      if (r === undefined) throw new Error(`space ${binding.space} is gone`)
      return r
    }
    const sync = new FolderSync({
      root: binding.path,
      mode: binding.mode,
      ...(host.diskReserveBytes === undefined ? {} : { diskReserveBytes: host.diskReserveBytes }),
      stateFile: path.join(host.dir, 'folders', `${binding.space}.json`),
      host: {
        files: () => replica().filesList(),
        record: versions => this.#record(replica(), versions),
        fetcher: (): ChunkFetcher => new BlockFetch({
          space: binding.space,
          peers: host.connected().filter(a => replica().acl.currentRole(a) !== null),
          link: a => host.link(a),
          onCorrupt: (a, reason) => { host.corrupt(a, reason) },
          stallMs: host.blockStallMs
        })
      }
    })
    sync.on('progress', status => { host.progress(binding.space, status) })
    return sync
  }

  /**
   * File records in one commit. A big file's chunk list goes in parts
   * (file.part entries before its record): the parts this node recorded
   * before in the same feed are listed again by position, the others are
   * recorded here. Returns the ids of the file records, one per version.
   */
  #record (replica: SpaceReplica, versions: readonly NewVersion[]): string[] {
    const me = this.#host.me
    const known = this.#parts.get(replica.key) ?? new Map<string, { epoch: number, seq: number }>()
    this.#parts.set(replica.key, known)
    const at = replica.nextPosition(me, Date.now())
    const bodies: Body[] = []
    const fresh = new Map<string, { epoch: number, seq: number }>()
    const fileIndexes: number[] = []
    for (const v of versions) {
      if (!needsParts(v.chunks)) {
        fileIndexes.push(bodies.length)
        bodies.push({ t: 'file', ...v })
        continue
      }
      const parts = splitIntoParts(v.chunks).map(chunks => {
        const key = partKey(chunks)
        const held = known.get(key) ?? fresh.get(key)
        if (held !== undefined && held.epoch === at.epoch) return held
        const pos = { epoch: at.epoch, seq: at.seq + bodies.length }
        bodies.push({ t: 'file.part', chunks })
        fresh.set(key, pos)
        return pos
      })
      fileIndexes.push(bodies.length)
      bodies.push({ t: 'file', ...v, chunks: [], parts })
    }
    const entries = this.#host.write(replica, bodies)
    const first = entries[0]
    // The positions were worked out before signing: a write that landed elsewhere would list wrong parts.
    assert.ok(first === undefined || (first.epoch === at.epoch && first.seq === at.seq), `folder records went to ${first?.epoch}/${first?.seq}, not ${at.epoch}/${at.seq}`)
    for (const [key, pos] of fresh) known.set(key, pos)
    if (known.size > PARTS_REMEMBERED) for (const key of [...known.keys()].slice(0, known.size - PARTS_REMEMBERED)) known.delete(key)
    return fileIndexes.map(i => toHex((entries[i] as Entry).id))
  }

  #info (binding: FolderBinding, sync: FolderSync): FolderInfo {
    const refused = this.#refused.get(binding.space)
    const live = sync.status()
    // A folder that could not start says why, and is not shown as syncing.
    const status = refused === undefined ? live : { ...live, state: 'stopped' as const, errors: [{ path: '.', error: refused }, ...live.errors] }
    // Peers by their peer id, as everywhere else the user sees them.
    const peers = status.peers.map(p => ({ ...p, peer: isAuthorKey(p.peer) ? peerIdOf(keyBytes(p.peer)) : p.peer }))
    return { ...binding, name: this.#host.replica(binding.space)?.genesis.name ?? '?', status: { ...status, peers } }
  }

  #load (): FolderBinding[] {
    const file = path.join(this.#host.dir, FOLDERS_FILE)
    try {
      const saved = JSON.parse(readTextOr(file, '{}')) as { folders?: FolderBinding[] }
      return saved.folders ?? []
    } catch (err) {
      const why = (err as Error).message
      throw new NodeError('BAD_CONFIG', `${file} is not valid JSON (${why}); fix or remove it, then add the folders again`, { cause: err })
    }
  }

  #save (): void {
    const bindings = [...this.#running.values()].map(f => f.binding)
    writeFileAtomic(path.join(this.#host.dir, FOLDERS_FILE), JSON.stringify({ folders: bindings }, null, 2))
  }
}

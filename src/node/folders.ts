import fs from 'node:fs'
import path from 'node:path'
import { readTextOr } from '../atomic-file/index.ts'
import { peerIdOf } from '../identity/index.ts'
import { isAuthorKey, keyBytes, parseSpaceKey } from '../ids/index.ts'
import type { Entry } from '../codec/index.ts'
import { checkFolder, FOLDER_MODES, FolderProblem, FolderSync, KeepRefused } from '../files/index.ts'
import type { ConflictInfo, FolderMode, FolderStatus, KeepOutcome } from '../files/index.ts'
import type { BlockLink, BlockServed } from '../net/index.ts'
import type { LocalBodies, SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'
import { FolderBlocks } from './folder-blocks.ts'
import { FolderRecords } from './folder-records.ts'
import { dataDirProblem } from './folder-guard.ts'
import { saveNodeFile } from './storage-health.ts'

/**
 * The folders this node shares: which space is bound to which directory, in
 * which mode (kept in `D/folders.json`), each run by a FolderSync whose
 * host is this node: its records are the space's file records, its chunks
 * come over the block protocol from connected members of the space, and it
 * serves its own chunks to them.
 */
export interface FolderBinding { readonly space: SpaceKey, readonly path: string, readonly mode: FolderMode }

/** A bound folder: its binding, its sync, and its records as this node reads and writes them. */
interface Running {
  readonly binding: FolderBinding
  readonly sync: FolderSync
  readonly records: FolderRecords
  /** The next try of a saved folder that could not start (#startSaved). */
  retry?: NodeJS.Timeout | undefined
}

export interface FolderInfo extends FolderBinding { readonly name: string, readonly status: FolderStatus }

interface FoldersHost {
  readonly dir: string
  /** Free bytes a folder write must leave on its disk (default: from the disk's size). */
  readonly diskReserveBytes?: number | undefined
  /** This node's author key (hex). */
  readonly me: string
  replica (key: SpaceKey): SpaceReplica | undefined
  /** The name this node knows a held space by (its local name, if it was joined under one). */
  name (key: SpaceKey): string | undefined
  write (replica: SpaceReplica, bodies: LocalBodies): Entry[]
  connected (): string[]
  link (author: string): Promise<BlockLink>
  corrupt (author: string, reason: string): void
  progress (space: SpaceKey, status: FolderStatus): void
  /** The least time a chunk request waits unanswered before its peer counts as stalled for the pass (default 30 s). */
  readonly blockStallMs?: number | undefined
}

const FOLDERS_FILE = 'folders.json'
/**
 * After entries arrive, a folder waits this long for the rest of a burst (a pass records 256 files per commit), so that
 * one pass writes them all.
 */
const REMOTE_SETTLE_MS = 200
/** A saved folder that could not start is tried again this often (its disk mounted later, say). */
const START_RETRY_MS = 30_000

export class Folders {
  readonly #host: FoldersHost
  readonly #running = new Map<SpaceKey, Running>()
  /** Who may have the chunks of a space, both ways: serving them, and fetching them. */
  readonly #blocks: FolderBlocks
  /** Bindings that did not start, and why (shown in their status). */
  readonly #refused = new Map<SpaceKey, string>()
  #stopped = false

  constructor (host: FoldersHost) {
    this.#host = host
    this.#blocks = new FolderBlocks({
      replica: key => host.replica(key),
      folder: space => this.#running.get(space)?.sync,
      connected: () => host.connected(),
      link: author => host.link(author),
      corrupt: (author, reason) => { host.corrupt(author, reason) },
      blockStallMs: host.blockStallMs
    })
  }

  /**
   * Starts every saved binding; one that cannot start (its directory is gone, or it became unsafe) shows the reason in
   * its status.
   */
  async start (): Promise<void> {
    for (const b of this.#load()) {
      if (this.#host.replica(b.space) === undefined) continue
      const running = this.#sync(b)
      const sync = running.sync
      this.#running.set(b.space, running)
      const unsafe = dataDirProblem(b.path, this.#host.dir)
      // Stopped at once: a stopped FolderSync runs no pass, whatever arrives for its space.
      if (unsafe !== null) { this.#refused.set(b.space, `not synced: ${unsafe}`); await sync.stop(); continue }
      await this.#startSaved(running)
    }
  }

  /**
   * A saved folder that cannot start (its directory missing: a disk not mounted yet) says why in its status and is
   * tried again every START_RETRY_MS, and at `folder status --sync`, until it starts. It used to stay unsynced until
   * the daemon restarted, its status saying nothing.
   */
  async #startSaved (running: Running): Promise<void> {
    const space = running.binding.space
    clearTimeout(running.retry)
    running.retry = undefined
    try {
      await running.sync.start()
      this.#refused.delete(space)
    } catch (err) {
      const why = `not synced: ${(err as Error).message} (tried again every ${START_RETRY_MS / 1000} s)`
      this.#refused.set(space, why)
      running.retry = setTimeout(() => { void this.#startSaved(running) }, START_RETRY_MS)
      running.retry.unref()
    }
    // Removed, or the node stopped, while it started: nothing of it may run on.
    if (this.#stopped || this.#running.get(space) !== running) {
      clearTimeout(running.retry)
      await running.sync.stop()
    }
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await Promise.all([...this.#running.values()].map(async f => {
      clearTimeout(f.retry)
      await f.sync.stop()
      f.records.close()
    }))
  }

  async add (replica: SpaceReplica, dir: string, mode: string, me: AuthorKey): Promise<FolderInfo> {
    if (!(FOLDER_MODES as readonly string[]).includes(mode)) {
      const modes = FOLDER_MODES.join(', ')
      throw new NodeError('BAD_INPUT', `the folder mode ${JSON.stringify(mode)} is unknown; use one of ${modes}`)
    }
    const root = path.resolve(dir)
    const role = replica.acl.currentRole(me)
    if (mode !== 'receive-only' && (role === null || role === 'reader')) {
      const what = role === null ? 'is not a member' : 'is a reader'
      throw new NodeError('NOT_ALLOWED', `this node ${what} of ${replica.genesis.name}: it cannot send changes; ` +
        'add the folder receive-only, or ask an admin for the writer role')
    }
    const bound = this.#running.get(replica.key)
    if (bound !== undefined) {
      const name = replica.genesis.name
      // BAD_FOLDER, not BAD_INPUT: it depends on what is shared already (the command line exits 1, not 2).
      throw new NodeError('BAD_FOLDER', `space ${name} is already bound to ${bound.binding.path}; one folder per space`)
    }
    for (const f of this.#running.values()) {
      const other = f.binding.path
      if (other === root || root.startsWith(`${other}${path.sep}`) || other.startsWith(`${root}${path.sep}`)) {
        const why = `${root} overlaps ${other}, already shared; a folder can be in one space only`
        throw new NodeError('BAD_FOLDER', why)
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
    const running = this.#sync(binding)
    const sync = running.sync
    await sync.start().catch((err: unknown) => { running.records.close(); throw err })
    if (this.#host.replica(replica.key) === undefined) { // left (space leave) while this add awaited
      await sync.stop()
      running.records.close()
      throw new NodeError('UNKNOWN_SPACE', `space ${replica.genesis.name} was left while its folder was being added`)
    }
    if (this.#running.has(replica.key)) { // another add of this space won the race while this one awaited
      await sync.stop()
      running.records.close()
      throw new NodeError('BAD_FOLDER', `space ${replica.genesis.name} was bound to a folder meanwhile; one per space`)
    }
    // Saved before it counts as bound: a save the disk refused must not leave a folder syncing that `folder add`
    // then calls bound and the next start forgets (review L2). Its first pass waits for a timer, so none has run.
    try {
      this.#save([...this.bindings(), binding])
    } catch (err) {
      await sync.stop()
      running.records.close()
      throw err
    }
    this.#running.set(replica.key, running)
    return this.#info(binding, sync)
  }

  /**
   * Stops sharing the space's folder here: the files stay on disk; what this node knew of them goes. Adding it again
   * rescans, and a file that holds a version the space superseded since is taken as that version (files/versions.ts
   * heldVersion), so the newer records apply to it. What it knew is not kept for that: a folder added at a new path
   * over an older copy has none anyway, and kept, it would turn what the user did to the files while they were not
   * shared into changes to send: a file deleted here to free the disk would be deleted on every node.
   */
  async remove (space: SpaceKey): Promise<FolderBinding> {
    const f = this.#running.get(space)
    if (f === undefined) {
      const name = this.#host.replica(space)?.genesis.name ?? space
      throw new NodeError('NO_FOLDER', `space ${name} is not bound to a folder on this node`)
    }
    // Saved first: a save the disk refused leaves the folder bound and syncing, as the next start would find it.
    this.#save(this.bindings().filter(b => b.space !== space))
    clearTimeout(f.retry)
    this.#running.delete(space)
    await f.sync.stop()
    f.records.close()
    this.#refused.delete(space)
    fs.rmSync(path.join(this.#host.dir, 'folders', `${space}.json`), { force: true })
    return f.binding
  }

  list (): FolderInfo[] {
    return [...this.#running.values()].map(f => this.#info(f.binding, f.sync))
  }

  /** Which space each folder syncs, and where: without each folder's status, for callers that need only that. */
  bindings (): FolderBinding[] {
    return [...this.#running.values()].map(f => f.binding)
  }

  get (space: SpaceKey): FolderInfo | undefined {
    const f = this.#running.get(space)
    return f === undefined ? undefined : this.#info(f.binding, f.sync)
  }

  conflicts (space: SpaceKey): ConflictInfo[] {
    return this.#running.get(space)?.sync.conflicts() ?? []
  }

  /** Ends a conflict keeping one of its versions (files/keep-version.ts); a refusal keeps its code. */
  async keep (space: SpaceKey, filePath: string, keep: string): Promise<KeepOutcome> {
    const f = this.#running.get(space)
    if (f === undefined) throw new NodeError('NO_FOLDER', `space ${space} is not bound to a folder on this node`)
    try {
      return await f.sync.keep(filePath, keep)
    } catch (err) {
      if (err instanceof KeepRefused) throw new NodeError(err.code, err.message, { cause: err })
      throw err
    }
  }

  /** Receive-only: puts back the space's version of every file changed or deleted here (FolderSync.revert). */
  async revert (space: SpaceKey): Promise<FolderInfo> {
    const f = this.#running.get(space)
    if (f === undefined) throw new NodeError('NO_FOLDER', `space ${space} is not bound to a folder on this node`)
    if (f.binding.mode !== 'receive-only') {
      throw new NodeError('BAD_FOLDER', `this folder is ${f.binding.mode}: what changes in it is recorded and sent, ` +
        'so nothing is to revert (only a receive-only folder keeps changes it does not send)')
    }
    if (f.retry !== undefined) await this.#startSaved(f)
    const refused = this.#refused.get(space)
    if (refused !== undefined) throw new NodeError('BAD_FOLDER', `${refused}; nothing was reverted`)
    await f.sync.revert()
    return this.#info(f.binding, f.sync)
  }

  /** Runs a pass now (tests; `folder status --sync`). */
  async syncNow (space: SpaceKey): Promise<void> {
    const running = this.#running.get(space)
    if (running?.retry !== undefined) await this.#startSaved(running)
    if (running?.retry === undefined) await running?.sync.sync()
  }

  /** Something changed in the space (entries stored, a peer came): its folder looks again. */
  changed (space: SpaceKey): void {
    this.#running.get(space)?.sync.recordsChanged(REMOTE_SETTLE_MS)
  }

  /** A peer asks for a chunk of a space (folder-blocks.ts: members only, from the bound folder's files). */
  async serve (author: string, space: string, hash: Uint8Array): Promise<BlockServed> {
    return await this.#blocks.serve(author, space, hash)
  }

  #sync (binding: FolderBinding): Running {
    const host = this.#host
    const replica = (): SpaceReplica => {
      const r = host.replica(binding.space)
      if (r === undefined) throw new NodeError('UNKNOWN_SPACE', `space ${binding.space} is no longer held by this node`)
      return r
    }
    const records = new FolderRecords()
    const sync = new FolderSync({
      root: binding.path,
      mode: binding.mode,
      ...(host.diskReserveBytes === undefined ? {} : { diskReserveBytes: host.diskReserveBytes }),
      stateFile: path.join(host.dir, 'folders', `${binding.space}.json`),
      host: {
        files: () => records.list(replica()),
        // File records in one commit, with the chunk-list parts of big files (space/file-versions.ts allocates
        // their positions where they are signed); the ids of the file records, one per version.
        record: versions => {
          const r = replica()
          return records.record(r, versions, bodies => this.#host.write(r, bodies))
        },
        fetcher: () => this.#blocks.fetcher(binding.space),
        holds: id => replica().holdsFileVersion(id),
        superseded: (p, size, mode) => replica().supersededFileVersions(p, size, mode),
        author: host.me
      }
    })
    sync.on('progress', status => { host.progress(binding.space, status) })
    return { binding, sync, records }
  }

  #info (binding: FolderBinding, sync: FolderSync): FolderInfo {
    const refused = this.#refused.get(binding.space)
    const live = sync.status()
    // A folder that could not start says why, and is not shown as syncing.
    const status = refused === undefined
      ? live
      : { ...live, state: 'stopped' as const, errors: [{ path: '.', error: refused }, ...live.errors] }
    // Peers by their peer id, as everywhere else the user sees them.
    const peers = status.peers.map(p => ({ ...p, peer: isAuthorKey(p.peer) ? peerIdOf(keyBytes(p.peer)) : p.peer }))
    return { ...binding, name: this.#host.name(binding.space) ?? '?', status: { ...status, peers } }
  }

  #load (): FolderBinding[] {
    const file = path.join(this.#host.dir, FOLDERS_FILE)
    let text: string
    try {
      text = readTextOr(file, '{}')
    } catch (err) {
      throw new NodeError('BAD_CONFIG', `${file} cannot be read (${(err as Error).message}); ${FIX_FOLDERS}`,
        { cause: err })
    }
    let saved: unknown
    try {
      saved = JSON.parse(text)
    } catch (err) {
      throw new NodeError('BAD_CONFIG', `${file} is not valid JSON (${(err as Error).message}); ${FIX_FOLDERS}`,
        { cause: err })
    }
    // Only {} or {"folders": [...]}: any other shape read as no folders, and the next add or remove wrote that back,
    // every folder gone (a review's probe).
    const keys = typeof saved === 'object' && saved !== null && !Array.isArray(saved) ? Object.keys(saved) : null
    const shaped = keys !== null && keys.every(k => k === 'folders')
    const list = !shaped ? null : keys.length === 0 ? [] : (saved as { folders: unknown }).folders
    if (!Array.isArray(list)) {
      throw new NodeError('BAD_CONFIG', `${file} must hold {"folders": [...]}; ${FIX_FOLDERS}`)
    }
    return list.map((b: unknown, i) => savedBinding(b, `${file}: folder ${i + 1}`))
  }

  #save (bindings: FolderBinding[]): void {
    saveNodeFile(path.join(this.#host.dir, FOLDERS_FILE), JSON.stringify({ folders: bindings }, null, 2))
  }
}

/** The way out of a folders.json this node cannot read: what it said is lost, so the folders are added again. */
const FIX_FOLDERS = 'fix or remove it, then add the folders again'

/** One saved binding, checked field by field: the file is the node's, but a person or a disk may have changed it. */
function savedBinding (b: unknown, where: string): FolderBinding {
  const { space, path: dir, mode } = (typeof b === 'object' && b !== null ? b : {}) as Record<string, unknown>
  const bad = (what: string): NodeError => new NodeError('BAD_CONFIG', `${where}: ${what}; ${FIX_FOLDERS}`)
  if (typeof dir !== 'string' || dir === '') throw bad('"path" must be the folder\'s path, a string')
  if (!(FOLDER_MODES as readonly unknown[]).includes(mode)) {
    throw bad(`"mode" must be one of ${FOLDER_MODES.join(', ')}`)
  }
  try {
    return { space: parseSpaceKey(space), path: dir, mode: mode as FolderMode }
  } catch (err) {
    throw bad(`"space" is not a space id (${(err as Error).message})`)
  }
}

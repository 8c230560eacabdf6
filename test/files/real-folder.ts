import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { toHex } from '../../src/codec/index.ts'
import { chunkFile } from '../../src/files/index.ts'
import type { FolderSync } from '../../src/files/index.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { ME, MemoryNetwork, MemorySpace, memoryFolderSync } from './fake-folder.ts'

/**
 * A send-receive FolderSync on a real directory (a file system the test chose: a case-insensitive mount, say), its
 * space and network in memory as in fake-folder.ts; passes run by hand. Its first pass has run.
 */
export interface RealFolder {
  readonly sync: FolderSync
  readonly space: MemorySpace
  /** The other members' chunks: `net.gets` counts the fetches. */
  readonly net: MemoryNetwork
  /** The errors the folder shows, by path. */
  errors (): Record<string, string>
  /** Versions this node recorded, in order. */
  mine (): { path: string, deleted: boolean }[]
  /** A member's version of `p` holding `content`, its chunks held by the network. */
  theirs (author: string, p: string, content: string, mtimeMs?: number): Promise<string>
}

/** `folderFs`: the real file system (the default), or a FaultyFs (fake-fs.ts) around it. */
export async function realFolder (root: string, folderFs?: FolderFs): Promise<RealFolder> {
  const space = new MemorySpace()
  const net = new MemoryNetwork()
  fs.mkdirSync(root, { recursive: true })
  const sync = memoryFolderSync(root, 'send-receive', space, net, folderFs)
  await sync.start()
  await sync.sync()
  const scratch = fs.mkdtempSync(path.join(path.dirname(root), 'scratch-'))
  return {
    sync,
    space,
    net,
    errors: () => Object.fromEntries(sync.status().errors.map(e => [e.path, e.error])),
    mine: () => [...space.versions.values()].filter(v => v.author === ME).map(v => ({ path: v.path, deleted: v.deleted })),
    theirs: async (author, p, content, mtimeMs = Date.UTC(2026, 0, 1)) => {
      const bytes = Buffer.from(content)
      const file = path.join(scratch, crypto.randomUUID())
      fs.writeFileSync(file, bytes)
      const chunks = await chunkFile(file)
      let at = 0
      for (const [hash, size] of chunks) { net.held.set(toHex(hash), bytes.subarray(at, at + size)); at += size }
      return space.add(author, { path: p, size: bytes.length, mode: 0o644, mtimeMs, deleted: false, supersedes: [], chunks })
    }
  }
}

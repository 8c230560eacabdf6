import { constants } from 'node:fs'
import path from 'node:path'
import { NoSourceError } from '../blocks/index.ts'
import { SamepageError } from '../ids/index.ts'
import { nodeFolderFs } from './folder-fs.ts'
import type { FolderFs } from './folder-fs.ts'
import { WORK_AREA } from './scanner.ts'

/** What a path shows when writing it failed: the file system's refusal in words, or a wait for a source. */
export function describeWriteError (err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOSPC': return 'not written: the disk is full; free some space (nothing was half-written; it is tried again)'
    case 'EDQUOT': return 'not written: over the disk quota; free some space'
    case 'ENOTDIR': return 'not written: a part of its path is a file on this node, not a directory'
    case 'EISDIR': return 'not written: a directory has its name on this node'
    case 'ENAMETOOLONG': return 'not written: its name is too long for this file system'
    case 'EACCES': case 'EPERM': case 'EROFS':
      return `not written: no permission here (${err.code}); check the folder's permissions`
    default: return err instanceof NoSourceError ? `waiting: ${err.message}` : `not written: ${err.message}`
  }
}

/** An error as the file system would give it (for a refusal found before trying). */
export function fsError (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(''), { code })
}

/** A folder is usable: it exists, is a directory, and this process can write its work area. */
export class FolderProblem extends SamepageError<'BAD_FOLDER'> {
  constructor (message: string) {
    super('BAD_FOLDER', message)
  }
}

export async function checkFolder (root: string, fs: FolderFs = nodeFolderFs): Promise<void> {
  const st = await fs.stat(root).catch(() => null)
  if (st === null) throw new FolderProblem(`${root} does not exist; create it first (mkdir -p ${root})`)
  if (!st.isDirectory()) throw new FolderProblem(`${root} is not a directory`)
  try {
    await fs.access(root, constants.R_OK | constants.W_OK | constants.X_OK)
    await fs.mkdir(path.join(root, WORK_AREA, 'tmp'), { recursive: true })
  } catch {
    const user = process.getuid?.() ?? '?'
    throw new FolderProblem(`${root} is not writable by this node (user ${user}); fix its permissions`)
  }
}

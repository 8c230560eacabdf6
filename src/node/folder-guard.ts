import fs from 'node:fs'
import path from 'node:path'

/**
 * Decision 19: a shared folder never is, holds, or lies inside the node's
 * data directory (its identity key, API token and store would be synced to
 * every member). Compared by real paths (symbolic links resolved on both
 * sides) and, to catch bind mounts and other second names, by device and
 * inode of every directory up to the file system's root.
 *
 * Returns why the folder is refused, or null.
 */
export function dataDirProblem (folder: string, dataDir: string): string | null {
  const realFolder = realOrResolved(folder)
  const realData = realOrResolved(dataDir)
  const fix = 'share a directory that neither holds the data directory nor lies inside it ' +
    '(or start the node with another data directory)'
  const secrets = 'its identity key and API token would be synced'
  if (realFolder === realData || sameDir(realFolder, realData)) {
    return `${folder} is this node's data directory (${dataDir}): ${secrets}; ${fix}`
  }
  if (isInside(realData, realFolder)) {
    return `${folder} holds this node's data directory (${dataDir}): ${secrets}; ${fix}`
  }
  if (isInside(realFolder, realData)) return `${folder} lies inside this node's data directory (${dataDir}); ${fix}`
  return null
}

/** `inner` is `outer` or lies below it: by path, or by one of its ancestors being the same directory. */
function isInside (inner: string, outer: string): boolean {
  if (inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : `${outer}${path.sep}`)) return true
  const target = statOf(outer)
  if (target === null) return false
  for (let dir = inner; ; dir = path.dirname(dir)) {
    const st = statOf(dir)
    if (st !== null && st.dev === target.dev && st.ino === target.ino) return true
    if (path.dirname(dir) === dir) return false
  }
}

function sameDir (a: string, b: string): boolean {
  const x = statOf(a)
  const y = statOf(b)
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino
}

function statOf (p: string): fs.Stats | null {
  try {
    return fs.statSync(p)
  } catch {
    return null
  }
}

function realOrResolved (p: string): string {
  try {
    return fs.realpathSync.native(p)
  } catch {
    return path.resolve(p)
  }
}

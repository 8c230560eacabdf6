import { PATH_SEGMENTS_MAX } from './limits.ts'

/**
 * The paths a file record may name: the same rule on every node, whether it records a file, takes a record from a
 * peer, or writes the file.
 */

/** The folder's work area (part files, state): no record may name a path in it. */
export const FOLDER_WORK_AREA = '.samepage'

/**
 * Why a folder-relative path cannot be shared, or null: '/'-separated, no
 * empty, '.' or '..' segment, no NUL or backslash, in Unicode NFC (so two
 * systems spelling the same name differently name the same file), and not
 * in the work area `.samepage/` in any case (a case-insensitive file system
 * would take `.SamePage/x` for it).
 */
export function filePathProblem (path: string): string | null {
  const form = pathFormProblem(path)
  if (form !== null) return form
  if (inWorkArea(path)) return `names the work area ${FOLDER_WORK_AREA}/, which is never synced`
  return null
}

/**
 * Why a local path is not shared though a record may name it: more than PATH_SEGMENTS_MAX levels deep. Not a rule of
 * records (an earlier version shared such paths, and refusing them on arrival split feeds and banned the honest nodes
 * that relay them): a receiver writes what a record names, its directories counted against its free space.
 */
export function localPathProblem (path: string): string | null {
  const segments = path.split('/').length
  return segments > PATH_SEGMENTS_MAX ? `${segments} levels deep; at most ${PATH_SEGMENTS_MAX} are shared` : null
}

/** The path is the work area or lies in it, in any case of its name. */
export function inWorkArea (path: string): boolean {
  const first = path.split('/', 1)[0] as string
  return first.toLowerCase() === FOLDER_WORK_AREA || first.toUpperCase() === FOLDER_WORK_AREA.toUpperCase()
}

/** The path's form alone (a record read back from our own store: checked when it arrived, work-area rule aside). */
export function pathFormProblem (path: string): string | null {
  if (path.startsWith('/')) return 'an absolute path; paths are relative to the folder'
  if (/[\0\\]/.test(path)) return 'holds a NUL or a backslash'
  if (path.normalize('NFC') !== path) return 'not in Unicode NFC'
  if (!path.isWellFormed()) return 'not well-formed Unicode'
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `has a segment ${JSON.stringify(seg)}`
  }
  return null
}

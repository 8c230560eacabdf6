function noPermission (code: string): string {
  return `no permission (${code}); give the user this node runs as access to it, or add it to .samepageignore`
}

function busy (code: string): string {
  return `the file is locked or the file system busy (${code}); it is tried again`
}

function unsupported (code: string): string {
  return `the folder's file system lacks an operation samepage needs (${code}); keep the folder on another file system`
}

/**
 * A file system's refusal in words for the person at the folder: what happened and what to do, with its code.
 *
 * Node's own message is never shown: it names the path the call was made on, and the safe writer makes its calls
 * through `/proc/self/fd/N/name` (safe-path.ts) on part files of the work area (`.samepage/tmp/<id>.part`), none of
 * which is the user's file; and it says nothing of what to do ("EXDEV: cross-device link not permitted, rename
 * '/proc/self/fd/23/…' -> '…'", a review's probe).
 */
const REFUSALS: Readonly<Record<string, string>> = {
  EACCES: noPermission('EACCES'),
  EPERM: noPermission('EPERM'),
  EXDEV: 'its directory is on another file system than the folder\'s work area .samepage, so the finished file ' +
    'cannot be moved into place (EXDEV); keep the folder on one file system, or add that directory to ' +
    '.samepageignore',
  EIO: 'the disk reported an input/output error (EIO); check the disk and its connection (the system log says more)',
  EMFILE: 'this node has too many files open (EMFILE); raise its open-file limit (ulimit -n)',
  ENFILE: 'the system has too many files open (ENFILE); close some programs or raise the limit (fs.file-max)',
  ENOENT: 'it, or a directory of its path, disappeared meanwhile (ENOENT); it is tried again',
  ELOOP: 'a part of its path is a symbolic link on this node (ELOOP); links are never followed: put a directory ' +
    'in its place, or add the path to .samepageignore',
  ETXTBSY: 'it is a program running on this node (ETXTBSY); it is done once the program stops',
  EBUSY: 'it is in use on this node (EBUSY: a mount point, or held by another program); it is tried again',
  EFBIG: 'it is bigger than this file system allows one file to be (EFBIG); keep the folder on another file ' +
    'system, or add the file to .samepageignore',
  EOVERFLOW: 'it is too big for this system to handle (EOVERFLOW); add it to .samepageignore on this node',
  ESTALE: 'the network file system lost track of it (ESTALE); mount the folder again',
  ENOTCONN: 'the folder\'s file system is disconnected (ENOTCONN: a network or FUSE mount gone); mount it again',
  ENODEV: 'the device under the folder is gone (ENODEV); reconnect or mount it again',
  ENXIO: 'the device under the folder is gone (ENXIO); reconnect or mount it again',
  ETIMEDOUT: 'the file system did not answer in time (ETIMEDOUT: a network mount?); check its connection',
  EAGAIN: busy('EAGAIN'),
  EWOULDBLOCK: busy('EWOULDBLOCK'),
  EINTR: 'interrupted (EINTR); it is tried again',
  ENOMEM: 'this node is out of memory (ENOMEM); free some memory',
  EMLINK: 'its directory holds as many entries as this file system allows (EMLINK); move some out of it',
  EEXIST: 'something else has its name on this node (EEXIST); move it away',
  ENOTEMPTY: 'a directory that is not empty has its name on this node (ENOTEMPTY); move it away',
  EOPNOTSUPP: unsupported('EOPNOTSUPP'),
  ENOTSUP: unsupported('ENOTSUP'),
  ENOSYS: unsupported('ENOSYS')
}

/**
 * An error the operating system raised (Node's: a code and the call, its message "CODE: words, call 'path'"), as
 * opposed to one of samepage's own, whose message is written for the user (and may carry an errno code to be handled
 * like the system's: safe-path.ts).
 */
export function fromTheSystem (err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && (typeof err.syscall === 'string' || err.message.startsWith(`${err.code}:`))
}

/** The refusal `code` in words (any code: one not listed is named, with what is known of it). */
export function refusalInWords (code: string | undefined): string {
  // Own keys only: a code such as "constructor" is no entry of the table.
  if (code !== undefined && Object.hasOwn(REFUSALS, code)) return REFUSALS[code] as string
  // A code is Node's spelling (EXYZ); anything else is not shown as it is.
  const shown = code !== undefined && /^E[A-Z0-9]{1,15}$/.test(code) ? code : 'no code given'
  return `the file system refused it (${shown}); it is tried again; if this stays, check the disk under the folder`
}

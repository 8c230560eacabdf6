import type { FolderStatus } from '../node/index.ts'

/**
 * The `folder` event as the event stream sends it: the folder's status with its lists of paths (errors, files not
 * shared, a receive-only folder's own changes) cut to their first FOLDER_EVENT_LIST_MAX, each text to
 * FOLDER_EVENT_TEXT_MAX characters, and their whole lengths beside them (`errorsTotal`, `skippedTotal`,
 * `localChanges.count`). The paths are members' choice (up to 4 KiB each, any number of them), and the event goes out
 * every half second of a transfer: sent whole, a few thousand long paths made each one megabytes, and every subscriber
 * was cut off at its queue's bound (events.ts). A client that wants every path asks GET /v1/spaces/SPACE/folder, as
 * the dashboard does on each event.
 */
export const FOLDER_EVENT_LIST_MAX = 10
export const FOLDER_EVENT_TEXT_MAX = 256

type FolderEventStatus = Omit<FolderStatus, 'errors' | 'skipped'> & {
  readonly errors: readonly { readonly path: string, readonly error: string }[]
  readonly errorsTotal: number
  readonly skipped: readonly { readonly path: string, readonly problem: string }[]
  readonly skippedTotal: number
}

export function folderEvent (payload: { space: string, status: FolderStatus }): object {
  const { errors, skipped, localChanges } = payload.status
  const status: FolderEventStatus = {
    ...payload.status,
    errors: errors.slice(0, FOLDER_EVENT_LIST_MAX).map(e => ({ path: cut(e.path), error: cut(e.error) })),
    errorsTotal: errors.length,
    skipped: skipped.slice(0, FOLDER_EVENT_LIST_MAX).map(s => ({ path: cut(s.path), problem: cut(s.problem) })),
    skippedTotal: skipped.length,
    localChanges: {
      count: localChanges.count,
      paths: localChanges.paths.slice(0, FOLDER_EVENT_LIST_MAX).map(c => ({ path: cut(c.path), change: c.change }))
    }
  }
  return { space: payload.space, status }
}

/** Cut with an ellipsis; never half a surrogate pair. */
function cut (s: string): string {
  return s.length <= FOLDER_EVENT_TEXT_MAX ? s : (s.slice(0, FOLDER_EVENT_TEXT_MAX - 1) + '…').toWellFormed()
}

import path from 'node:path'
import type { Command } from 'commander'
import { CliError } from './client.ts'
import { conflictsText, folderLine, folderReport, resolvedText, watchFolder } from './folder-view.ts'
import type { ConflictInfo, FolderInfo } from './folder-view.ts'
import { about, api, enc, globals, out, shown } from './program.ts'

/** The commands about folders: a space bound to a local directory, its sync progress and its conflicts. */
export function addFolderCommands (program: Command): void {
  const folder = about(program.command('folder'), 'share a directory as a space: files synced between nodes',
    'folder add team ~/Shared', 'folder status team --watch')
  about(folder.command('add <space> <path>'), 'bind a space to a local directory and sync it',
    'folder add team ~/Shared', 'folder add photos /srv/photos --mode receive-only')
    .option('--mode <mode>', 'send-receive, send-only or receive-only', 'send-receive')
    .action(async (ref: string, dir: string, o: { mode: string }) => {
      // The daemon refuses an unknown mode too, but only the command line knows it came from --mode.
      const { FOLDER_MODES } = await import('../files/folder-types.ts')
      if (!(FOLDER_MODES as readonly string[]).includes(o.mode)) {
        throw new CliError(`--mode ${JSON.stringify(o.mode)}: use one of ${FOLDER_MODES.join(', ')}`, 2, 'BAD_INPUT')
      }
      const body = { space: ref, path: path.resolve(dir), mode: o.mode }
      const r = await api().call('POST', '/v1/folders', body) as FolderInfo
      const name = shown(r.name)
      out(r, () => `sharing ${r.path} as space ${name} (${r.mode}); see samepage folder status ${name}`)
    })
  about(folder.command('remove <space>'), 'stop syncing the folder of a space here (its files stay)',
    'folder remove team')
    .action(async (ref: string) => {
      const r = await api().call('DELETE', `/v1/spaces/${enc(ref)}/folder`) as { space: string, path: string }
      out(r, () => `no longer syncing ${r.path}; its files stay`)
    })
  about(folder.command('list'), 'the folders this node shares', 'folder list').action(async () => {
    const r = await api().call('GET', '/v1/folders') as FolderInfo[]
    const none = 'no folders; samepage folder add SPACE PATH'
    out(r, () => r.map(f => `${shown(f.name)}  ${f.path}  ${f.mode}  ${folderLine(f)}`).join('\n') || none)
  })
  about(folder.command('status <space>'), 'files and bytes still needed, rate, ETA, errors',
    'folder status team', 'folder status team --watch')
    .option('--watch', 'show a progress bar until the folder is in sync')
    .action(async (ref: string, o: { watch?: boolean }) => {
      const path_ = `/v1/spaces/${enc(ref)}/folder`
      if (o.watch === true && !globals().json) { await watchFolder(api(), path_); return }
      const r = await api().call('GET', path_) as FolderInfo
      out(r, () => folderReport(r))
    })

  about(folder.command('revert <space>'),
    'receive-only: put back the space\'s version of each file changed or deleted here (a changed one kept as a copy)',
    'folder revert photos')
    .action(async (ref: string) => {
      const r = await api().call('POST', `/v1/spaces/${enc(ref)}/folder/revert`) as FolderInfo
      out(r, () => folderReport(r))
    })

  about(program.command('conflicts <space>'), 'files edited on two nodes at once, and their conflict copies',
    'conflicts team')
    .action(async (ref: string) => {
      const r = await api().call('GET', `/v1/spaces/${enc(ref)}/conflicts`) as ConflictInfo[]
      out(r, () => conflictsText(r))
    })
  about(program.command('resolve <space> <path> <keep>'),
    'end a conflict keeping one version: the current or a concurrent version\'s id, or a copy (see conflicts --json)',
    'resolve team notes.txt notes.sync-conflict-20261201-213000-ABCDEF0.txt', 'resolve team notes.txt 3f2a…')
    .action(async (ref: string, file: string, keep: string) => {
      const r = await api().call('POST', `/v1/spaces/${enc(ref)}/conflicts/resolve`, { path: file, keep }) as
        { path: string, recorded: string | null, removed: string[] }
      out(r, () => resolvedText(r))
    })
}

import { withPathsBelow } from './path-sets.ts'

/**
 * A file and a directory at one path (decision 19), decided from the set of
 * records alone, so every node lays the folder out alike: **the directory
 * wins**. A path is *shadowed* when its current version is a file (not a
 * deletion) and another path's current version lies below it: `x` while
 * `x/y` is current. A shadowed path is never written under its name; each
 * of its versions is kept as a conflict copy beside it
 * (`x.sync-conflict-…`), and it is listed as a conflict on every node. A
 * send-receive node that holds every copy then records the path deleted,
 * superseding its versions, which ends the conflict everywhere.
 *
 * Why the directory: it may hold any number of other members' files, while
 * the file is one version that survives whole as a conflict copy, which is
 * what a Syncthing user expects of a conflict (both sides kept, the loser
 * renamed, nothing lost). The other way round would set aside a whole tree.
 */
interface LaidOutFile { readonly path: string, readonly current: { readonly deleted: boolean } }

export function shadowedPaths (files: Iterable<LaidOutFile>): Set<string> {
  return withPathsBelow([...files].filter(f => !f.current.deleted).map(f => f.path))
}

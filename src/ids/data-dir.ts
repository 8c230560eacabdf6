import path from 'node:path'

/**
 * The data directory a samepage command names: its --dir, else SAMEPAGE_HOME, else HOME's `.samepage` (a relative
 * one is the caller's to resolve from the command's working directory). One rule for the command line choosing its
 * own and for the directory lock reading another process's (node/older-daemon.ts), so the two never disagree on
 * which node a process is.
 *
 * An empty SAMEPAGE_HOME (a blank EnvironmentFile line, `SAMEPAGE_HOME=$UNSET`) is unset, as an empty
 * SAMEPAGE_LOG_LEVEL is: resolved, '' would be the working directory. `home` is asked only when it decides.
 */
export function dataDirOf (dir: string | undefined, samepageHome: string | undefined, home: () => string): string {
  return dir ?? (samepageHome === '' ? undefined : samepageHome) ?? path.join(home(), '.samepage')
}

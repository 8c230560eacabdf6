import fs from 'node:fs'

/**
 * samepage's version, from package.json: two folders up from src/api/ in a
 * checkout and from dist/api/ in an installed package alike. Read here, apart
 * from the server, so that `samepage --version` loads nothing of the daemon,
 * and the health route and the command line never disagree.
 */
export const VERSION: string =
  (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

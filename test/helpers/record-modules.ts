import fs from 'node:fs'
import { registerHooks } from 'node:module'

/**
 * Preloaded with `node --import <this file>`: records the URL of every module
 * the process resolves (import and require, files and node: builtins) and, at
 * exit, writes them one a line to the file named by $SAMEPAGE_RECORD_MODULES.
 * Used by test/cli/client-loads.test.ts (what a client command may load) and
 * bench/cli.ts (how many modules a command loads).
 */
const file = process.env.SAMEPAGE_RECORD_MODULES
if (file === undefined || file === '') throw new Error('record-modules: set SAMEPAGE_RECORD_MODULES to a file to write')
const urls = new Set<string>()

registerHooks({
  resolve (specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    urls.add(resolved.url)
    return resolved
  }
})

process.on('exit', () => { fs.writeFileSync(file, [...urls].join('\n') + '\n') })

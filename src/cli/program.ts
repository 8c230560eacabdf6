import os from 'node:os'
import path from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { VERSION } from '../api/index.ts'
import { ApiClient } from './client.ts'
import { dataDirOf, printable } from '../ids/index.ts'

/**
 * The root of samepage's command tree and what every command's action
 * shares: the global options (`--dir`, `--json`), the API client, and the
 * output that is JSON under `--json`. The commands themselves are added by
 * node-commands.ts, space-commands.ts and folder-commands.ts (through
 * commands.ts); main.ts parses and turns every error into one line and an
 * exit code.
 */
export const program = new Command('samepage')
  .description('keep data the same on every node of a peer-to-peer network')
  .option('--dir <dir>', 'data directory (default: $SAMEPAGE_HOME or ~/.samepage)', nonEmptyDir)
  .option('--json', 'machine-readable output (errors too: {"error": {"code", "message"}} on stdout)', false)
  .option('-V, --version', 'print samepage\'s version and exit')
  // Read from package.json by api/version.ts; with --json (before or after it), as {"version"}.
  .on('option:version', () => {
    console.log(process.argv.includes('--json') ? JSON.stringify({ version: VERSION }) : VERSION)
    process.exit(0)
  })
  // Errors are printed by main.ts on one line, with what to do; help is printed in full.
  .configureOutput({ outputError: () => {} })
  .showHelpAfterError(false)
  .showSuggestionAfterError(true)
  .addHelpText('after', `
Every command but init and start talks to the running daemon of the data directory.
Exit codes: 0 done, 2 a usage error (the command as typed cannot work), 1 anything else.
Examples:
  $ samepage init && samepage start
  $ samepage --json status
  $ samepage kv --help`)

/**
 * An empty --dir (`--dir "$D"` with D unset) is a usage error: taken as unset it would name the default node
 * (a `stop` meant for another would stop that one), and path.resolve('') is the current directory.
 */
function nonEmptyDir (value: string): string {
  if (value === '') throw new InvalidArgumentError('It is empty: give the data directory, or leave --dir out')
  return value
}

interface Globals { readonly dir: string, readonly json: boolean }

export function globals (): Globals {
  const o = program.opts<{ dir?: string, json: boolean }>()
  const dir = dataDirOf(o.dir, process.env.SAMEPAGE_HOME, os.homedir)
  // --json anywhere on the line, also when parsing stopped before reaching it (a usage error).
  return { dir: path.resolve(dir), json: o.json || process.argv.includes('--json') }
}

export const api = (): ApiClient => new ApiClient(globals().dir)

/** Prints `json` under --json, else `text()`. */
export function out (json: unknown, text: () => string): void {
  console.log(globals().json ? JSON.stringify(json) : text())
}

export const collect = (v: string, acc: string[]): string[] => [...acc, v]
export const enc = encodeURIComponent
/** A name another node chose (a space's, from its genesis), as a terminal line shows it: cut, no control characters. */
export const shown = (name: string): string => printable(name, 200)

/** A command's description and its examples (each a command line after `samepage`), shown by --help. */
export function about (cmd: Command, description: string, ...examples: string[]): Command {
  const lines = examples.map(e => `  $ samepage ${e}`).join('\n')
  return cmd.description(description).addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${lines}`)
}

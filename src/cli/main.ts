import type { Command, CommanderError } from 'commander'
import { SamepageError } from '../ids/index.ts'
import { CliError } from './client.ts'
import { commandTree } from './commands.ts'
import { globals } from './program.ts'

/**
 * samepage's command line. Every command but `init` and `start` talks to
 * the running daemon of its data directory through the local API. `--json`
 * on every command prints machine-readable output; a bad input prints one
 * line saying what to do and exits non-zero: 2 for a usage error (the
 * command as typed cannot work: commander's, the command line's own, or
 * the daemon's BAD_INPUT and its kin, see client.ts), 1 otherwise. Under
 * `--json` every error, usage errors included, is also
 * `{"error": {"code", "message"}}` on stdout.
 *
 * A client command loads only commander, this folder's views and api/'s
 * light index: what needs more (the daemon: node/, libp2p, SQLite; the key:
 * libsodium, a native addon; the codec) is imported inside the one action
 * that uses it, so that a command answers in a fraction of a second
 * (test/cli/client-loads.test.ts holds this).
 */

/** Commander's error, with the command whose parsing raised it (for "see samepage kv put --help"). */
class UsageError extends Error {
  readonly command: Command
  readonly error: CommanderError
  constructor (command: Command, error: CommanderError) {
    super(error.message)
    this.command = command
    this.error = error
  }
}

/** Every command throws its parsing errors instead of exiting, so that they are printed as below. */
function throwUsageErrors (cmd: Command): void {
  cmd.exitOverride(err => { throw new UsageError(cmd, err) })
  for (const sub of cmd.commands) throwUsageErrors(sub)
}

function fullName (cmd: Command): string {
  return cmd.parent === null ? cmd.name() : `${fullName(cmd.parent)} ${cmd.name()}`
}

/** The usage error on one line, with where to look (commander's own text spans lines and starts "error: "). */
function usageMessage ({ command, error }: UsageError): string {
  const name = fullName(command)
  if (error.code === 'commander.help') { // a group without its command: commander printed its full help above
    const names = command.commands.map(c => c.name()).join(', ')
    return `a command is missing after "${name}": one of ${names} (see ${name} --help)`
  }
  const text = error.message.replace(/^error: /, '').split('\n').join(' ').replace(/\.$/, '')
  return `${text}; see ${name} --help`
}

function fail (code: string, message: string, exitCode: number): never {
  if (globals().json) console.log(JSON.stringify({ error: { code, message } }))
  console.error(`samepage: ${message}`)
  process.exit(exitCode)
}

const program = commandTree()
throwUsageErrors(program)
try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof UsageError) {
    if (err.error.exitCode === 0) process.exit(0) // --help, `help COMMAND`
    fail('USAGE', usageMessage(err), 2)
  }
  const message = err instanceof Error ? err.message : String(err)
  const code = err instanceof SamepageError ? err.code : 'ERROR'
  fail(code, message, err instanceof CliError ? err.exitCode : 1)
}

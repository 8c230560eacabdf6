import type { Command } from 'commander'
import { addCompletionCommand } from './completion.ts'
import { addFolderCommands } from './folder-commands.ts'
import { addNodeCommands } from './node-commands.ts'
import { program } from './program.ts'
import { addSpaceCommands } from './space-commands.ts'

/**
 * samepage's whole command tree, built once, in the order `--help` lists
 * it. Apart from main.ts (which parses the command line) so that a test can
 * walk the tree: every command has a description and an example.
 */
export function commandTree (): Command {
  if (program.commands.length === 0) {
    addNodeCommands(program)
    addSpaceCommands(program)
    addFolderCommands(program)
    addCompletionCommand(program) // last: it reads the whole tree
  }
  return program
}

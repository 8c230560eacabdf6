import type { Command } from 'commander'
import { CliError } from './client.ts'
import { about } from './program.ts'

/**
 * `samepage completion`: a bash completion script generated from the command
 * tree itself, so that it never lists a command or option the tree lacks
 * (zsh reads it through bashcompinit). It completes command names, each
 * command's options, and a file name after an option that takes a path.
 */
export function addCompletionCommand (program: Command): void {
  about(program.command('completion [shell]'),
    'print a shell completion script (bash; zsh through bashcompinit)',
    'completion bash > ~/.local/share/bash-completion/completions/samepage', 'completion >> ~/.bashrc')
    .action((shell: string | undefined) => {
      if (shell !== undefined && shell !== 'bash' && shell !== 'zsh') {
        throw new CliError(`no completion for ${JSON.stringify(shell)}: bash or zsh`, 2, 'USAGE')
      }
      process.stdout.write(completionScript(program, shell === 'zsh'))
    })
}

/** Each command's path ("samepage kv put") and the words that may follow it: its commands, then its options. */
function words (cmd: Command, at: string, into: Map<string, string[]>): Map<string, string[]> {
  const flags = cmd.options.flatMap(o => [o.short, o.long]).filter((f): f is string => f !== undefined)
  into.set(at, [...cmd.commands.map(c => c.name()), ...flags, '--help'])
  for (const sub of cmd.commands) words(sub, `${at} ${sub.name()}`, into)
  return into
}

/** Options whose value is a path (completed with file names): those whose argument is named so. */
function pathOptions (cmd: Command): string[] {
  const own = cmd.options.filter(o => /<(file|dir|path)>/.test(o.flags)).map(o => o.long as string)
  return [...own, ...cmd.commands.flatMap(pathOptions)]
}

function completionScript (program: Command, zsh: boolean): string {
  const table = [...words(program, 'samepage', new Map())]
    .map(([at, next]) => `  [${JSON.stringify(at)}]=${JSON.stringify(next.join(' '))}`).join('\n')
  return `# samepage completion (samepage completion${zsh ? ' zsh' : ''}), generated from its command tree.
${zsh ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}declare -gA _samepage_words=(
${table}
)
_samepage_path_options=" ${[...new Set(pathOptions(program))].join(' ')} "
_samepage() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" at="samepage" i
  if [[ "$_samepage_path_options" == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ -n "\${_samepage_words["$at \${COMP_WORDS[i]}"]+set}" ]] && at="$at \${COMP_WORDS[i]}"
  done
  COMPREPLY=($(compgen -W "\${_samepage_words[$at]}" -- "$cur"))
}
complete -o default -F _samepage samepage
`
}

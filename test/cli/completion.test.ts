import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'

/**
 * `samepage completion` (issue 16): the bash script generated from the
 * command tree, run by a real bash the way its completion calls it
 * (COMP_WORDS, COMP_CWORD, then the function), for commands, nested
 * commands, options, and file names after an option that takes a path.
 */
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'samepage.js')
const bash = spawnSync('bash', ['--version'], { encoding: 'utf8' })
const skip = bash.error === undefined ? false : 'bash is not installed'

function samepage (...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** What bash offers after `words` (the last one being completed). */
function complete (script: string, ...words: string[]): string[] {
  const call = `COMP_WORDS=(${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _samepage; ` +
    'printf "%s\\n" "${COMPREPLY[@]}"'
  const r = spawnSync('bash', ['-c', `${script}\n${call}`], { encoding: 'utf8', cwd: import.meta.dirname })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  return r.stdout.split('\n').filter(line => line !== '')
}

test('the bash completion completes commands, nested commands, options and paths', { skip }, () => {
  const r = samepage('completion', 'bash')
  assert.equal(r.code, 0, r.stderr)
  const script = r.stdout
  assert.deepEqual(complete(script, 'samepage', 'k'), ['kv'])
  assert.deepEqual(complete(script, 'samepage', 'kv', 'p'), ['put'])
  assert.deepEqual(complete(script, 'samepage', '--json', 'space', 'i'), ['invite'])
  assert.deepEqual(complete(script, 'samepage', 'kv', 'put', 'team', 'k', '--f'), ['--file'])
  assert.deepEqual(complete(script, 'samepage', 'folder', 'add', '--m'), ['--mode'])
  assert.deepEqual(complete(script, 'samepage', 'kv', 'put', '--file', 'completion.te'), ['completion.test.ts'])
  const top = complete(script, 'samepage', '')
  for (const name of ['init', 'start', 'stop', 'kv', 'folder', 'completion', '--dir', '--json', '--version']) {
    assert.ok(top.includes(name), `${name} is offered`)
  }
})

test('zsh gets the same script through bashcompinit; another shell is a usage error', () => {
  const zsh = samepage('completion', 'zsh')
  assert.equal(zsh.code, 0)
  assert.match(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit$/m)
  assert.match(zsh.stdout, /^complete -o default -F _samepage samepage$/m)
  const fish = samepage('--json', 'completion', 'fish')
  assert.equal(fish.code, 2)
  assert.equal(JSON.parse(fish.stdout).error.code, 'USAGE')
})

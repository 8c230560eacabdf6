import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { commandTree } from '../../src/cli/commands.ts'

/**
 * The command line's help and usage errors (issue 16): every command has a
 * description and an example; a group typed alone prints its whole help; a
 * usage error is one line with where to look, exit 2, and JSON on stdout
 * under --json; "no daemon running" is NOT_RUNNING, exit 1.
 */
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'samepage.js')
const dir = path.join(os.tmpdir(), 'samepage-cli-help-never-started')

function run (...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--dir', dir, ...args], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function everyCommand (cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(everyCommand)]
}

function helpOf (cmd: Command): string {
  let text = ''
  cmd.configureOutput({ writeOut: s => { text += s } })
  cmd.outputHelp()
  return text
}

test('every command has a description and an example in its help', () => {
  const commands = everyCommand(commandTree())
  assert.ok(commands.length >= 30, `the whole tree is walked (${commands.length} commands)`)
  for (const cmd of commands) {
    assert.notEqual(cmd.description(), '', `${cmd.name()} has a description`)
    assert.match(helpOf(cmd), /\nExamples?:\n {2}\$ samepage /, `${cmd.name()} has an example`)
  }
})

test('a group without its command prints the group\'s whole help; under --json, a USAGE error on stdout; exit 2', () => {
  const r = run('kv')
  assert.equal(r.code, 2)
  for (const sub of ['put [options] <space> <key> [value]', 'get <space> <key>', 'del <space> <key>', 'list <space>']) {
    assert.ok(r.stderr.includes(sub), `the help lists ${sub}`)
  }
  assert.match(r.stderr, /Example/)
  assert.match(r.stderr, /a command is missing after "samepage kv": one of put, get, del, list/)
  const json = run('--json', 'kv')
  assert.equal(json.code, 2)
  assert.equal(JSON.parse(json.stdout).error.code, 'USAGE')
})

test('usage errors: one line with a suggestion or where to look, exit 2, JSON under --json', () => {
  const typo = run('--json', 'kvv')
  assert.equal(typo.code, 2)
  assert.equal(typo.stderr.trim().split('\n').length, 1, typo.stderr)
  assert.match(typo.stderr, /unknown command 'kvv' \(Did you mean kv\?\)/)
  assert.deepEqual(Object.keys(JSON.parse(typo.stdout).error), ['code', 'message'])
  const missing = run('kv', 'get', 'team', '--json')
  assert.equal(missing.code, 2)
  assert.equal(missing.stderr, 'samepage: missing required argument \'key\'; see samepage kv get --help\n')
  assert.deepEqual(JSON.parse(missing.stdout), {
    error: { code: 'USAGE', message: 'missing required argument \'key\'; see samepage kv get --help' }
  })
  const own = run('--json', 'counter', 'add', 'team', 'c', 'ten')
  assert.equal(own.code, 2, 'the command line\'s own usage error, before any daemon is asked')
  assert.match(JSON.parse(own.stdout).error.message, /not a whole number/)
  assert.equal(run('kv', '--help').code, 0)
  assert.equal(run('help', 'kv').code, 0)
})

test('no daemon running: NOT_RUNNING, exit 1', () => {
  assert.ok(!fs.existsSync(dir), `${dir} is not a data directory`)
  const r = run('--json', 'id')
  assert.equal(r.code, 1)
  assert.equal(JSON.parse(r.stdout).error.code, 'NOT_RUNNING')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readConfig } from '../../src/node/index.ts'

test('config.json: "logLevel" and "logFormat" are read, and a value that does not exist is refused naming the field', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-config-log-'))
  try {
    const write = (o: object): void => { fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(o)) }
    write({ logLevel: 'warn', logFormat: 'json' })
    const c = readConfig(dir)
    assert.deepEqual([c.logLevel, c.logFormat], ['warn', 'json'])
    write({ logLevel: 'loud' })
    assert.throws(() => readConfig(dir), { code: 'BAD_CONFIG', message: /"logLevel" must be one of debug, info, warn, error, silent/ })
    write({ logFormat: 'xml' })
    assert.throws(() => readConfig(dir), { code: 'BAD_CONFIG', message: /"logFormat" must be one of json, human/ })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('config.json: "apiHosts" (more names the API answers to) is read, and what is not a host name is refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-config-hosts-'))
  try {
    const write = (o: object): void => { fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(o)) }
    write({ apiHosts: ['samepage.lan', 'dash.example.org'] })
    assert.deepEqual(readConfig(dir).apiHosts, ['samepage.lan', 'dash.example.org'])
    for (const apiHosts of ['samepage.lan', ['http://x'], ['a b'], [1]]) {
      write({ apiHosts })
      assert.throws(() => readConfig(dir), { code: 'BAD_CONFIG', message: /"apiHosts" must be a list of host names/ })
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

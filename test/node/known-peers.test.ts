import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { KnownPeers, UNCONFIRMED_PEERS_MAX } from '../../src/node/known-peers.ts'

test('peers.json keeps members only: strangers wait in a bounded list and never push a member out', { timeout: 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-known-peers-'))
  try {
    const file = path.join(dir, 'peers.json')
    const members = new Set(['member'])
    const peers = new KnownPeers(file, id => members.has(id))
    peers.remember('member', ['/ip4/127.0.0.1/tcp/1/p2p/member'])
    for (let i = 0; i < 5_000; i++) peers.remember(`stranger${i}`, [`/ip4/127.0.0.1/tcp/${i}/p2p/stranger${i}`])
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string[]>
    assert.deepEqual(Object.keys(written), ['member'], 'no stranger written')
    // A joiner that becomes a member while it waits is remembered then; one pushed out of the waiting list is not.
    const joiner = `stranger${4_999}`
    members.add(joiner)
    members.add('stranger0')
    peers.confirm()
    assert.equal(peers.has(joiner), true)
    assert.equal(peers.has('stranger0'), false, `only the last ${UNCONFIRMED_PEERS_MAX} wait`)
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')) as object).sort(), ['member', joiner].sort())
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

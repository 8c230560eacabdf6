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
    const peers = new KnownPeers(file, id => members.has(id), { everyMs: 0 }) // each change written at once
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

/**
 * Each identify a member answers with new addresses changed the list, and each change rewrote the whole file with two
 * fsyncs on the main thread: a member reconnecting in a loop was a stream of fsyncs (a review's probe). The file now
 * follows the list at most once per spell, and at a clean stop; the clock and the timer are the test's.
 */
test('peers.json is written at most once per spell, whatever one member names, and at a clean stop', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-known-peers-'))
  const realRename = fs.renameSync
  try {
    const file = path.join(dir, 'peers.json')
    let writes = 0
    fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
      if (String(to) === file) writes++
      realRename(from, to)
    }) as typeof fs.renameSync
    let nowMs = 0
    const due: { save: () => void, atMs: number }[] = []
    const peers = new KnownPeers(file, () => true, {
      everyMs: 30_000,
      now: () => nowMs,
      later: (save, ms) => {
        const timer = { save, atMs: nowMs + ms }
        due.push(timer)
        return () => { due.splice(due.indexOf(timer), 1) }
      }
    })
    const addr = (port: number): string => `/ip4/127.0.0.1/tcp/${port}/p2p/m`
    const written = (): unknown => (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string[]>).m
    peers.remember('m', [addr(1)])
    assert.deepEqual([writes, written()], [1, [addr(1)]], 'after a quiet spell: at once')
    for (let i = 2; i <= 1_000; i++) { nowMs += 10; peers.remember('m', [addr(i)]) }
    assert.deepEqual([writes, written(), due.length], [1, [addr(1)], 1], '999 changes in 10 s: none written yet')
    assert.equal(due[0]?.atMs, 30_000, 'due at the end of the spell')
    nowMs = 30_000
    due.shift()?.save()
    assert.deepEqual([writes, written()], [2, [addr(1_000)]], 'the spell\'s changes in one write, the last one kept')
    nowMs += 5_000
    peers.remember('m', [addr(2_000)])
    assert.deepEqual([writes, due.length], [2, 1])
    peers.flush()
    assert.deepEqual([writes, written(), due.length], [3, [addr(2_000)], 0], 'a clean stop writes what is left')
    peers.flush()
    peers.remember('m', [addr(3_000)])
    assert.deepEqual([writes, due.length], [3, 0], 'nothing after the stop: the directory is no longer ours')
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'still written as the node\'s private files are')
  } finally {
    fs.renameSync = realRename
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/** A prune follows an ACL change (a revoke): the peer removed is off the disk at once, not after the spell. */
test('a peer pruned (a member of nothing here any more) leaves peers.json at once, within a spell', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-known-peers-'))
  try {
    const file = path.join(dir, 'peers.json')
    const members = new Set(['stays', 'revoked'])
    let cancelled = 0
    const peers = new KnownPeers(file, id => members.has(id), {
      everyMs: 30_000, now: () => 0, later: () => () => { cancelled++ }
    })
    peers.remember('stays', ['/ip4/127.0.0.1/tcp/1/p2p/stays'])
    peers.remember('revoked', ['/ip4/127.0.0.1/tcp/2/p2p/revoked']) // within the spell: waits for its end
    members.delete('revoked')
    assert.deepEqual(peers.prune(), ['revoked'])
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')) as object), ['stays'])
    assert.equal(cancelled, 1, 'the save waiting for the spell\'s end is called off: the prune wrote all')
    assert.deepEqual(peers.prune(), [], 'nothing more to prune')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

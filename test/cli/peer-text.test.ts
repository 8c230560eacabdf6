/**
 * What the command line prints of text a peer chose (a space's name, a file's path): never a control character,
 * whatever the daemon answers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statusText } from '../../src/cli/net-view.ts'
import type { StatusView } from '../../src/cli/net-view.ts'
import { conflictsText, folderReport, resolvedText } from '../../src/cli/folder-view.ts'
import type { ConflictInfo, FolderInfo } from '../../src/cli/folder-view.ts'
import type { SpaceKey } from '../../src/ids/index.ts'

/** Any C0/C1 control or bidirectional override, but the line breaks the views put between their own lines. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const EVIL = 'team\x1b]0;pwned\x07\x1b[2J\x1b[31mFAKE LINE\ninjected\u202e'

test('samepage status prints an alert\'s subject and detail without a peer\'s control characters', () => {
  const status: StatusView = {
    peerId: '12D3KooWself', name: 'n', periodMs: 3000, report: null,
    // As an older or a hostile daemon could answer, raw (this daemon's own are made printable: telemetry/alerts.ts).
    alerts: [{ kind: 'folder-stuck', subject: EVIL, detail: `detail ${EVIL}`, sinceMs: 0, peerId: '12D3KooWself', name: 'n' }],
    network: { nodes: 1, up: 1, down: 0, hot: 0, alerts: 1, links: 0, partitions: 1 },
    deployment: [],
    reachability: { status: 'unknown', relays: [] }
  }
  const text = statusText(status)
  assert.doesNotMatch(text, UNSAFE)
  const alert = text.split('\n').filter(l => l.includes('ALERT'))
  assert.equal(alert.length, 1, 'the alert is one line: ' + JSON.stringify(text))
  assert.match(alert[0] as string, /^ {2}ALERT folder-stuck team\uFFFD\]0;pwned.*FAKE LINE\uFFFDinjected/)
  assert.ok(!text.split('\n').some(l => l.startsWith('injected')), 'no line forged')
})

/** A file name a member may share (a record's path refuses only NUL and backslash). */
const PATH = 'x\x1b]0;pwned\x07\x1b[2J\x1b[1A\x1b[2Kforged line'
const ESCAPED = JSON.stringify(PATH).replace(/\x1b/g, '\\u001b').replace(/\x07/g, '\\u0007')

function folder (errors: FolderInfo['status']['errors'], skipped: FolderInfo['status']['skipped']): FolderInfo {
  return {
    space: 'a'.repeat(64) as SpaceKey, path: '/home/me/team', mode: 'send-receive', name: 'team',
    status: {
      root: '/home/me/team', mode: 'send-receive', state: 'syncing', localFiles: 0, localBytes: 0, needFiles: 1, needBytes: 6,
      bytesReceived: 0, rateBytesPerSecond: 0, peers: [], etaSeconds: null, conflicts: 0, errors, skipped,
      localChanges: { count: 0, paths: [] }, lastSyncedMs: null, totals: { filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0 }
    }
  }
}

test('samepage folder status shows a member\'s file path escaped, whole, and an error text printable', () => {
  const text = folderReport(folder([{ path: PATH, error: `no peer holds it\x1b[2J${PATH}` }], [{ path: PATH, problem: 'p\x1b[1A' }]))
  assert.doesNotMatch(text, UNSAFE)
  const lines = text.split('\n')
  assert.equal(lines.length, 4, JSON.stringify(text))
  assert.ok(lines[2]?.startsWith(`  ${ESCAPED}: no peer holds it\uFFFD[2J`), lines[2])
  assert.equal(lines[3], `  not shared: ${ESCAPED} (p\uFFFD[1A)`)
  assert.match(folderReport(folder([{ path: 'plain/name.txt', error: 'e' }], [])), /\n {2}plain\/name\.txt: e$/, 'a plain path as it is')
})

test('samepage conflicts and resolve show a member\'s paths and copies escaped', () => {
  const version = { id: 'b'.repeat(64), author: 'c'.repeat(64), mtimeMs: 0, size: 6 }
  const conflicts: ConflictInfo[] = [{ path: PATH, current: version, versions: [{ ...version, copy: `${PATH}.copy` }], copies: [`${PATH}.c2`] }]
  const text = conflictsText(conflicts)
  assert.doesNotMatch(text, UNSAFE)
  assert.equal(text.split('\n')[0], ESCAPED)
  assert.equal(text.split('\n').length, 5, JSON.stringify(text))
  const resolved = resolvedText({ path: PATH, removed: [`${PATH}.c2`] })
  assert.doesNotMatch(resolved, UNSAFE)
  assert.ok(resolved.startsWith(`${ESCAPED} keeps the chosen version on every node; removed "x\\u001b`), resolved)
  assert.equal(conflictsText([]), 'no conflicts')
})

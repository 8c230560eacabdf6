/**
 * What the command line prints of text a peer chose (a space's name, a file's path): never a control character,
 * whatever the daemon answers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statusText } from '../../src/cli/net-view.ts'
import type { StatusView } from '../../src/cli/net-view.ts'

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

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { hasCode } from '../../src/ids/index.ts'

/**
 * folders.json is checked field by field when the node starts its folders
 * (node/folders.ts): a file a person or a disk changed is BAD_CONFIG naming
 * the file, the folder and the field, as config.json is, never a TypeError
 * from deep inside a folder's sync.
 */
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

const cases: Array<[string, (space: string) => string, RegExp]> = [
  ['"path" a number', space => JSON.stringify({ folders: [{ space, path: 5, mode: 'send-receive' }] }),
    /folders\.json: folder 1: "path" must be the folder's path, a string; fix or remove it/],
  ['an unknown "mode"', space => JSON.stringify({ folders: [{ space, path: '/srv/x', mode: 'both' }] }),
    /folders\.json: folder 1: "mode" must be one of send-receive, send-only, receive-only/],
  ['a "space" that is no space id', () => JSON.stringify({ folders: [{ space: 'team', path: '/srv/x', mode: 'send-only' }] }),
    /folders\.json: folder 1: "space" is not a space id/],
  ['"folders" not a list', () => JSON.stringify({ folders: 'all' }), /folders\.json must hold \{"folders": \[\.\.\.\]\}/],
  // Each of these read as no folders, and the next `folder add` wrote that back: every folder gone (a review's probe).
  ['a list at the top', space => JSON.stringify([{ space, path: '/srv/x', mode: 'send-only' }]), /must hold \{"folders"/],
  ['"folders" null', () => JSON.stringify({ folders: null }), /must hold \{"folders"/],
  ['a misspelt key', space => JSON.stringify({ folder: [{ space, path: '/srv/x', mode: 'send-only' }] }), /must hold \{"folders"/],
  ['a folder that is not an object', () => JSON.stringify({ folders: [null] }), /folders\.json: folder 1: "path"/],
  ['not JSON', () => '{"folders": [', /folders\.json is not valid JSON/]
]

test('a folders.json changed by hand: the node\'s start is refused with BAD_CONFIG naming the file and field', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folders-file-'))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  const first = Node.open({ dir, listen: LISTEN })
  await first.start()
  const space = first.createSpace('docs').id // held here: its folder is started, not skipped
  await first.stop()
  const file = path.join(dir, 'folders.json')
  for (const [what, text, says] of cases) {
    fs.writeFileSync(file, text(space))
    const node = Node.open({ dir, listen: LISTEN })
    let err: unknown
    try {
      await node.start()
    } catch (e) {
      err = e
    } finally {
      await node.stop()
    }
    assert.ok(hasCode(err, 'BAD_CONFIG'), `${what}: ${String(err)}`)
    assert.ok((err as Error).message.startsWith(file), (err as Error).message)
    assert.match((err as Error).message, says, what)
    assert.equal(fs.readFileSync(file, 'utf8'), text(space), `${what}: the file is left as it was`)
  }
})

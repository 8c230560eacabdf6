import assert from 'node:assert/strict'
import { compareBytes, decodeGenesis } from '../../src/codec/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import type { Store, ViewName } from '../../src/store/index.ts'
import { rebuildDataViews } from '../../src/space/commits.ts'
import { ReplicaState } from '../../src/space/state.ts'
import { DERIVED_VIEWS, hashRows } from '../../src/space/view-reads.ts'
import { aclRows } from '../../src/space/views.ts'

/**
 * The view hash of a space (SpaceReplica.viewHash) computed over views
 * rebuilt from its stored entries alone, in a fresh replica state: a check
 * of invariant 2 (views equal a rebuild from the stored entries). Tests only;
 * the rebuild is the one the replica commits after an ACL change or a fork.
 */
export function recomputedViewHash (store: Store, space: SpaceKey, views: readonly ViewName[] = DERIVED_VIEWS): string {
  const g = store.genesis(space)
  assert.ok(g !== undefined, `space ${space} is not in this store`)
  const s = new ReplicaState(store, decodeGenesis(g.bytes, g.sig), 0)
  const rows = [...rebuildDataViews(s, s.acl).writes(), ...aclRows(s.acl)].filter(w => w.value !== null)
  return hashRows(views.map(view => {
    const ofView = rows.filter(r => r.view === view).map(r => [r.key, r.value as Uint8Array] as const)
    return [view, ofView.sort((a, b) => compareBytes(a[0], b[0]))] as const
  }))
}

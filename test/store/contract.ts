/**
 * The Store contract, as a node:test suite any implementation must pass.
 *
 * make() gives a fresh, empty store per test. When it also gives reopen(),
 * every test checks its state twice: once on the live store, and once more
 * after the suite closed that store and reopen() returned a new one on the
 * same backing data. The suite closes the last store it holds; cleanup()
 * (if given) then removes the backing data.
 *
 * Entries are synthetic: the store never decodes bytes, so any bytes do.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { AuthorKey, EntryId, SpaceKey } from '../../src/ids/index.ts'
import type { Batch, FeedState, ForkProof, Store, StoredEntry, ViewName, ViewWrite } from '../../src/store/types.ts'
import { authorKey, entryId, spaceKey } from '../helpers/ids.ts'

export interface StoreHarness {
  readonly store: Store
  /** Open the same data again; called after the suite closed the previous store. */
  readonly reopen?: () => Store
  readonly cleanup?: () => void
}

// Two spaces in the order spaces() lists them (space keys are hashes).
const ONE = spaceKey('one')
const TWO = spaceKey('two')
const SPACE = ONE < TWO ? ONE : TWO
const OTHER = ONE < TWO ? TWO : ONE
const ZERO = spaceKey('zero')

// Authors named by labels, which keep their order as keys: AA < AB < BB < … < ZZ.
const [AA, AB, BB, CC, DD, EE, ZZ] = [authorKey('aa'), authorKey('ab'), authorKey('bb'), authorKey('cc'),
  authorKey('dd'), authorKey('ee'), authorKey('zz')]
const labelOf = new Map([[AA, 'aa'], [AB, 'ab'], [BB, 'bb'], [CC, 'cc'], [DD, 'dd'], [EE, 'ee'], [ZZ, 'zz']])
const label = (author: AuthorKey): string => labelOf.get(author) ?? author

const ODD_ID = entryId('abcdef')

function entry (author: AuthorKey, epoch: number, seq: number, opts: { kind?: 'acl' | 'data', verified?: boolean } = {}): StoredEntry {
  return {
    author,
    epoch,
    seq,
    id: entryId(`${label(author)}/${epoch}/${seq}`),
    bytes: Uint8Array.of(0xe0, epoch & 0xff, seq & 0xff, label(author).charCodeAt(0)),
    sig: Uint8Array.of(0x51, seq & 0xff, 0x00, 0xff),
    verified: opts.verified ?? false,
    kind: opts.kind ?? 'data'
  }
}

function chain (author: AuthorKey, epoch: number, from: number, to: number, kind: 'acl' | 'data' = 'data'): StoredEntry[] {
  const out: StoredEntry[] = []
  for (let seq = from; seq < to; seq++) out.push(entry(author, epoch, seq, { kind }))
  return out
}

function verifiedCopy (e: StoredEntry): StoredEntry {
  return { ...e, verified: true }
}

function fork (author: AuthorKey, epoch: number, seq: number, tag: number): ForkProof {
  return {
    author,
    epoch,
    seq,
    a: [Uint8Array.of(0xa0, tag, seq), Uint8Array.of(0x5a, tag)],
    b: [Uint8Array.of(0xb0, tag, seq, 0x00), Uint8Array.of(0x5b, tag)]
  }
}

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

function feedState (author: AuthorKey, epoch: number, count: number, head: EntryId | null, frozenAt: number | null = null): FeedState {
  return { author, epoch, count, head, frozenAt }
}

function rows (store: Store, space: SpaceKey, view: ViewName): Array<[Uint8Array, Uint8Array]> {
  return [...store.viewRows(space, view)].map(([k, v]) => [k, v])
}

export function storeContract (name: string, make: () => StoreHarness): void {
  /** Run setup on a fresh store, then verify it; with reopen, verify again after close + reopen. */
  function scenario (title: string, setup: (store: Store) => void, verify: (store: Store) => void): void {
    it(title, () => {
      const h = make()
      let store = h.store
      try {
        setup(store)
        verify(store)
        if (h.reopen !== undefined) {
          store.close()
          store = h.reopen()
          verify(store)
        }
      } finally {
        store.close()
        h.cleanup?.()
      }
    })
  }

  describe(`store contract: ${name}`, () => {
    scenario('an empty store reads as empty', () => {}, store => {
      assert.deepEqual(store.spaces(), [])
      assert.equal(store.genesis(SPACE), undefined)
      assert.deepEqual(store.feeds(SPACE), [])
      assert.equal(store.feed(SPACE, AA, 0), undefined)
      assert.equal(store.entryAt(SPACE, AA, 0, 0), undefined)
      assert.equal(store.entryById(SPACE, entryId('none')), undefined)
      assert.deepEqual(store.run(SPACE, AA, 0, 0, 10, 10), [])
      assert.equal(store.lastVerified(SPACE, AA, 0, 10), undefined)
      assert.deepEqual([...store.entries(SPACE)], [])
      assert.deepEqual(store.forks(SPACE), [])
      assert.equal(store.viewGet(SPACE, 'kv', b(1)), undefined)
      assert.deepEqual(rows(store, SPACE, 'kv'), [])
    })

    scenario('genesis is read back; spaces() lists spaces with a genesis, sorted', store => {
      store.commit({ space: OTHER, genesis: { bytes: b(2, 2), sig: b(0x22) } })
      store.commit({ space: SPACE, genesis: { bytes: b(1, 0, 0xff), sig: b(0x11, 0x00) } })
      // A space that only has views or entries, without genesis, is not listed.
      store.commit({ space: ZERO, viewWrites: [{ view: 'kv', key: b(1), value: b(1) }], entries: [entry(AA, 0, 0)] })
    }, store => {
      assert.deepEqual(store.spaces(), [SPACE, OTHER])
      assert.deepEqual(store.genesis(SPACE), { bytes: b(1, 0, 0xff), sig: b(0x11, 0x00) })
      assert.deepEqual(store.genesis(OTHER), { bytes: b(2, 2), sig: b(0x22) })
      assert.equal(store.genesis(ZERO), undefined)
      assert.deepEqual(store.entryAt(ZERO, AA, 0, 0), entry(AA, 0, 0))
    })

    const e0 = entry(AA, 0, 0, { verified: true })
    const e1 = entry(AA, 0, 1)
    const e2 = entry(AA, 0, 2, { verified: true })
    const e3 = entry(AA, 0, 3)
    const e4 = entry(AA, 0, 4)
    scenario('entries: entryAt, entryById, run ranges, maxCount, lastVerified, verified marking', store => {
      store.commit({ space: SPACE, genesis: { bytes: b(1), sig: b(2) }, entries: [e0, e1, e2] })
      store.commit({ space: SPACE, entries: [e3, e4] })
      // Marking: an unknown id is ignored; an entry of the same batch can be marked.
      store.commit({ space: SPACE, verified: [e3.id, entryId('unknown')] })
      // The same feed position in another space is a different entry.
      const other = entry(AA, 0, 0, { kind: 'acl' })
      store.commit({ space: OTHER, entries: [{ ...other, id: ODD_ID }], verified: [ODD_ID] })
    }, store => {
      const v3 = verifiedCopy(e3)
      assert.deepEqual(store.entryAt(SPACE, AA, 0, 0), e0)
      assert.deepEqual(store.entryAt(SPACE, AA, 0, 3), v3)
      assert.equal(store.entryAt(SPACE, AA, 0, 5), undefined)
      assert.equal(store.entryAt(SPACE, AA, 1, 0), undefined)
      assert.equal(store.entryAt(SPACE, BB, 0, 0), undefined)
      assert.deepEqual(store.entryById(SPACE, e4.id), e4)
      assert.deepEqual(store.entryById(SPACE, e3.id), v3)
      assert.equal(store.entryById(SPACE, ODD_ID), undefined)
      assert.deepEqual(store.entryById(OTHER, ODD_ID), { ...entry(AA, 0, 0, { kind: 'acl' }), id: ODD_ID, verified: true })
      assert.equal(store.entryById(OTHER, e0.id), undefined)

      const all = [e0, e1, e2, v3, e4]
      assert.deepEqual(store.run(SPACE, AA, 0, 0, 5, 100), all)
      assert.deepEqual(store.run(SPACE, AA, 0, 0, 1000, 1000), all)
      assert.deepEqual(store.run(SPACE, AA, 0, 1, 4, 100), [e1, e2, v3])
      assert.deepEqual(store.run(SPACE, AA, 0, 1, 5, 2), [e1, e2])
      assert.deepEqual(store.run(SPACE, AA, 0, 4, 5, 1), [e4])
      assert.deepEqual(store.run(SPACE, AA, 0, 2, 2, 10), [])
      assert.deepEqual(store.run(SPACE, AA, 0, 0, 5, 0), [])
      assert.deepEqual(store.run(SPACE, AA, 0, 5, 10, 10), [])
      assert.deepEqual(store.run(SPACE, AA, 9, 0, 10, 10), [])
      assert.deepEqual(store.run(OTHER, AA, 0, 0, 10, 10).map(e => e.id), [ODD_ID])

      assert.equal(store.lastVerified(SPACE, AA, 0, 100), 3)
      assert.equal(store.lastVerified(SPACE, AA, 0, 5), 3)
      assert.equal(store.lastVerified(SPACE, AA, 0, 4), 3)
      assert.equal(store.lastVerified(SPACE, AA, 0, 3), 2)
      assert.equal(store.lastVerified(SPACE, AA, 0, 2), 0)
      assert.equal(store.lastVerified(SPACE, AA, 0, 1), 0)
      assert.equal(store.lastVerified(SPACE, AA, 0, 0), undefined)
      assert.equal(store.lastVerified(SPACE, BB, 0, 10), undefined)
      assert.equal(store.lastVerified(OTHER, AA, 0, 10), 0)
    })

    scenario('entries committed and marked verified in one batch', store => {
      const x = entry(CC, 3, 0)
      store.commit({ space: SPACE, entries: [x, entry(CC, 3, 1)], verified: [x.id] })
    }, store => {
      assert.deepEqual(store.run(SPACE, CC, 3, 0, 2, 2), [verifiedCopy(entry(CC, 3, 0)), entry(CC, 3, 1)])
      assert.equal(store.lastVerified(SPACE, CC, 3, 2), 0)
    })

    scenario('findById names the entries looked up by id; every entry is found by id; marking by position', store => {
      const [x, y, z] = chain(DD, 1, 0, 3) as [StoredEntry, StoredEntry, StoredEntry]
      store.commit({ space: SPACE, entries: [x, y], findById: [y.id] })
      store.commit({ space: OTHER, entries: [{ ...z, seq: 0 }], findById: [z.id] })
      // By position: marked only where that position holds that id.
      store.commit({ space: SPACE, verified: [x, { ...y, id: ODD_ID }, { ...x, seq: 7 }] })
      store.commit({ space: SPACE, verified: [y.id, z.id] })
    }, store => {
      const [x, y, z] = chain(DD, 1, 0, 3) as [StoredEntry, StoredEntry, StoredEntry]
      assert.deepEqual(store.entryById(SPACE, x.id), verifiedCopy(x))
      assert.deepEqual(store.entryById(SPACE, y.id), verifiedCopy(y))
      assert.equal(store.entryById(SPACE, z.id), undefined)
      assert.deepEqual(store.entryById(OTHER, z.id), { ...z, seq: 0 })
      assert.equal(store.entryById(OTHER, y.id), undefined)
      assert.deepEqual(store.run(SPACE, DD, 1, 0, 10, 10), [verifiedCopy(x), verifiedCopy(y)])
    })

    scenario('feed states: count and head follow the entries; feeds() sorted by author, then epoch numerically', store => {
      store.commit({ space: SPACE, entries: [...chain(BB, 2, 0, 1), ...chain(AA, 10, 0, 3)] })
      store.commit({ space: SPACE, entries: [...chain(AA, 2, 0, 2), ...chain(AA, 10, 3, 4)] })
      store.commit({ space: OTHER, entries: chain(ZZ, 0, 0, 1) })
    }, store => {
      assert.deepEqual(store.feeds(SPACE), [
        feedState(AA, 2, 2, entry(AA, 2, 1).id),
        feedState(AA, 10, 4, entry(AA, 10, 3).id),
        feedState(BB, 2, 1, entry(BB, 2, 0).id)
      ])
      assert.deepEqual(store.feed(SPACE, AA, 10), feedState(AA, 10, 4, entry(AA, 10, 3).id))
      assert.equal(store.feed(SPACE, AA, 3), undefined)
      assert.equal(store.feed(SPACE, ZZ, 0), undefined)
      assert.deepEqual(store.feeds(OTHER), [feedState(ZZ, 0, 1, entry(ZZ, 0, 0).id)])
    })

    const f1 = fork(AA, 0, 3, 1)
    const f2 = fork(AA, 0, 5, 2)
    const f3 = fork(AA, 0, 1, 3)
    const f4 = fork(DD, 7, 4, 4)
    scenario('forks freeze feeds at the lowest proven seq, create a missing feed, and are listed in order', store => {
      store.commit({ space: SPACE, entries: chain(AA, 0, 0, 4) })
      store.commit({ space: SPACE, forks: [f1] })
    }, store => {
      assert.deepEqual(store.feed(SPACE, AA, 0), feedState(AA, 0, 4, entry(AA, 0, 3).id, 3))
      assert.deepEqual(store.forks(SPACE), [f1])
      assert.deepEqual(store.forks(OTHER), [])
    })

    scenario('forks: later and earlier proofs; a fork on a feed not held', store => {
      store.commit({ space: SPACE, entries: chain(AA, 0, 0, 4) })
      store.commit({ space: SPACE, forks: [f1] })
      store.commit({ space: SPACE, forks: [f2] })
      store.commit({ space: SPACE, forks: [f4] })
    }, store => {
      assert.deepEqual(store.feed(SPACE, AA, 0), feedState(AA, 0, 4, entry(AA, 0, 3).id, 3))
      assert.deepEqual(store.feed(SPACE, DD, 7), feedState(DD, 7, 0, null, 4))
      assert.deepEqual(store.feeds(SPACE).map(f => [f.author, f.epoch, f.frozenAt]), [[AA, 0, 3], [DD, 7, 4]])
      assert.deepEqual(store.forks(SPACE), [f1, f4], 'one proof per feed: a later one is not kept')
      assert.deepEqual(store.run(SPACE, DD, 7, 0, 10, 10), [])
    })

    scenario('forks: an earlier proof lowers frozenAt', store => {
      store.commit({ space: SPACE, entries: chain(AA, 0, 0, 4), forks: [f1] })
      store.commit({ space: SPACE, forks: [f3] })
    }, store => {
      assert.equal(store.feed(SPACE, AA, 0)?.frozenAt, 1)
      assert.equal(store.feed(SPACE, AA, 0)?.count, 4)
      assert.deepEqual(store.forks(SPACE), [f3], 'one proof per feed: the earlier one replaces it')
    })

    const bad: Array<[string, Batch]> = [
      ['a gap after the held entries', { space: SPACE, entries: [entry(AA, 0, 4)] }],
      ['a seq already held', { space: SPACE, entries: [entry(AA, 0, 1)] }],
      ['a new feed not starting at 0', { space: SPACE, entries: [entry(BB, 0, 1)] }],
      ['a gap inside the batch', { space: SPACE, entries: [entry(BB, 0, 0), entry(BB, 0, 2)] }],
      ['a repeat inside the batch', { space: SPACE, entries: [entry(BB, 0, 0), entry(BB, 0, 0)] }]
    ]
    for (const [what, batch] of bad) {
      scenario(`rejects ${what}, leaving nothing of the batch applied`, store => {
        store.commit({ space: SPACE, entries: chain(AA, 0, 0, 2), viewWrites: [{ view: 'kv', key: b(1), value: b(1) }] })
        assert.throws(() => store.commit({
          space: SPACE,
          genesis: { bytes: b(9), sig: b(9) },
          // Valid entries first, so an implementation applying as it goes must undo them.
          entries: [...chain(CC, 0, 0, 2), entry(AA, 0, 2), ...(batch.entries ?? [])],
          verified: [entry(AA, 0, 0).id],
          forks: [fork(EE, 0, 0, 9)],
          replaceViews: true,
          viewWrites: [{ view: 'kv', key: b(2), value: b(2) }, { view: 'acl', key: b(3), value: b(3) }]
        }), /does not extend/)
        // The store is still usable after a rejected commit.
        store.commit({ space: OTHER, genesis: { bytes: b(7), sig: b(7) } })
      }, store => {
        assert.deepEqual(store.spaces(), [OTHER])
        assert.equal(store.genesis(SPACE), undefined)
        assert.deepEqual(store.feeds(SPACE), [feedState(AA, 0, 2, entry(AA, 0, 1).id)])
        assert.deepEqual([...store.entries(SPACE)], chain(AA, 0, 0, 2))
        assert.equal(store.entryById(SPACE, entry(CC, 0, 0).id), undefined)
        assert.equal(store.entryById(SPACE, entry(AA, 0, 2).id), undefined)
        assert.equal(store.lastVerified(SPACE, AA, 0, 10), undefined)
        assert.deepEqual(store.forks(SPACE), [])
        assert.deepEqual(rows(store, SPACE, 'kv'), [[b(1), b(1)]])
        assert.deepEqual(rows(store, SPACE, 'acl'), [])
      })
    }

    // Bytewise order: shorter prefix first, 0x00 and 0xff bytes compare as unsigned.
    const orderedKeys = [b(), b(0x00), b(0x00, 0x00), b(0x00, 0xff), b(0x01), b(0x7f, 0xff, 0xff), b(0x80), b(0xff), b(0xff, 0x00), b(0xff, 0xff, 0xff)]
    scenario('views: set, overwrite, delete; rows in bytewise key order; per view and per space', store => {
      const shuffled = [orderedKeys[5], orderedKeys[9], orderedKeys[0], orderedKeys[3], orderedKeys[7], orderedKeys[1], orderedKeys[8], orderedKeys[2], orderedKeys[6], orderedKeys[4]]
      store.commit({ space: SPACE, viewWrites: shuffled.map((k, i) => ({ view: 'kv' as const, key: k ?? b(), value: b(i) })) })
      store.commit({
        space: SPACE,
        viewWrites: [
          { view: 'kv', key: b(0xff), value: b(0xaa, 0xbb) }, // overwrite
          { view: 'kv', key: b(0x80), value: null }, // delete
          { view: 'kv', key: b(0x42), value: null }, // delete of a missing row
          { view: 'kv', key: b(0x01), value: b() }, // an empty value is a value, not a delete
          { view: 'counter', key: b(0x00), value: b(5) }
        ]
      })
      store.commit({ space: OTHER, viewWrites: [{ view: 'kv', key: b(0x00), value: b(6) }] })
    }, store => {
      const kv = rows(store, SPACE, 'kv')
      assert.deepEqual(kv.map(([k]) => k), orderedKeys.filter(k => !(k.length === 1 && k[0] === 0x80)))
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0xff)), b(0xaa, 0xbb))
      assert.equal(store.viewGet(SPACE, 'kv', b(0x80)), undefined)
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0x01)), b())
      assert.deepEqual(store.viewGet(SPACE, 'kv', b()), b(2))
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0x00, 0x00)), b(7))
      assert.equal(store.viewGet(SPACE, 'kv', b(0x00, 0x00, 0x00)), undefined)
      assert.deepEqual(rows(store, SPACE, 'counter'), [[b(0x00), b(5)]])
      assert.deepEqual(store.viewGet(SPACE, 'counter', b(0x00)), b(5))
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0x00)), b(5))
      assert.deepEqual(rows(store, SPACE, 'ledger'), [])
      assert.deepEqual(rows(store, OTHER, 'kv'), [[b(0x00), b(6)]])
      for (const [k, v] of store.viewRows(SPACE, 'kv')) {
        assert.ok(k instanceof Uint8Array && v instanceof Uint8Array)
        assert.deepEqual(store.viewGet(SPACE, 'kv', k), v)
      }
      // Many keys in one read (a store that has it): what viewGet reads key by key; a key without a row is absent.
      if (store.viewGetMany !== undefined) {
        const asked = [...orderedKeys, b(0x42), b(0x00, 0x00, 0x00)]
        const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex')
        const many = store.viewGetMany(SPACE, 'kv', asked.map(hex))
        for (const k of asked) assert.deepEqual(many.get(hex(k)), store.viewGet(SPACE, 'kv', k))
        assert.equal(many.size, asked.filter(k => store.viewGet(SPACE, 'kv', k) !== undefined).length)
        assert.equal(store.viewGetMany(OTHER, 'counter', asked.map(hex)).size, 0)
      }
    })

    scenario('replaceViews clears every view of the space (only that space) before its writes', store => {
      store.commit({
        space: SPACE,
        viewWrites: [
          { view: 'kv', key: b(1), value: b(1) },
          { view: 'kv', key: b(2), value: b(2) },
          { view: 'acl', key: b(1), value: b(1) },
          { view: 'status', key: b(1), value: b(1) }
        ]
      })
      store.commit({ space: OTHER, viewWrites: [{ view: 'kv', key: b(1), value: b(9) }] })
      store.commit({
        space: SPACE,
        replaceViews: true,
        viewWrites: [{ view: 'kv', key: b(2), value: b(3) }, { view: 'ledger', key: b(0xff), value: b(4) }, { view: 'ledger', key: b(0), value: null }]
      })
    }, store => {
      assert.deepEqual(rows(store, SPACE, 'kv'), [[b(2), b(3)]])
      assert.deepEqual(rows(store, SPACE, 'acl'), [])
      assert.deepEqual(rows(store, SPACE, 'status'), [])
      assert.deepEqual(rows(store, SPACE, 'ledger'), [[b(0xff), b(4)]])
      assert.equal(store.viewGet(SPACE, 'kv', b(1)), undefined)
      assert.deepEqual(rows(store, OTHER, 'kv'), [[b(1), b(9)]])
    })

    scenario('entries(kind): (author, epoch, seq) order with numeric epochs, filtered by kind', store => {
      store.commit({ space: SPACE, entries: [...chain(BB, 10, 0, 2, 'acl'), ...chain(BB, 2, 0, 1)] })
      store.commit({
        space: SPACE,
        entries: [entry(AA, 10, 0, { kind: 'acl' }), entry(AA, 10, 1), entry(AA, 2, 0), entry(AA, 2, 1, { kind: 'acl' }), entry(AA, 2, 2)]
      })
      store.commit({ space: OTHER, entries: chain(AB, 0, 0, 2, 'acl') })
    }, store => {
      const pos = (es: Iterable<StoredEntry>): string[] => [...es].map(e => `${label(e.author)}/${e.epoch}/${e.seq}`)
      assert.deepEqual(pos(store.entries(SPACE)), ['aa/2/0', 'aa/2/1', 'aa/2/2', 'aa/10/0', 'aa/10/1', 'bb/2/0', 'bb/10/0', 'bb/10/1'])
      assert.deepEqual(pos(store.entries(SPACE, 'acl')), ['aa/2/1', 'aa/10/0', 'bb/10/0', 'bb/10/1'])
      assert.deepEqual(pos(store.entries(SPACE, 'data')), ['aa/2/0', 'aa/2/2', 'aa/10/1', 'bb/2/0'])
      assert.deepEqual(pos(store.entries(OTHER, 'data')), [])
      assert.deepEqual([...store.dataPositions(SPACE, AA)], [{ epoch: 2, seq: 0 }, { epoch: 2, seq: 2 }, { epoch: 10, seq: 1 }])
      assert.deepEqual([...store.dataPositions(SPACE, BB)], [{ epoch: 2, seq: 0 }])
      assert.deepEqual([...store.dataPositions(OTHER, AB)], [])
      assert.deepEqual([...store.dataPositions(SPACE, CC)], [])
      assert.deepEqual([...store.entries(SPACE, 'acl')][1], entry(AA, 10, 0, { kind: 'acl' }))

      // Iterations can be nested and abandoned midway.
      const pairs: string[] = []
      for (const outer of store.entries(SPACE, 'acl')) {
        for (const inner of store.entries(SPACE, 'acl')) {
          pairs.push(`${outer.seq}${inner.seq}`)
          break
        }
        if (pairs.length === 3) break
      }
      assert.deepEqual(pairs, ['11', '01', '01'])
      assert.equal(pos(store.entries(SPACE)).length, 8)
    })

    // Sizes that are no multiple of the rows SqliteStore writes per statement (64, 8, 1), across a feed change,
    // with the ids also given as bytes, and writes to one key interleaved: the batch lands as if row by row.
    const many = [...chain(AA, 0, 0, 1097), ...chain(BB, 3, 0, 75)]
    scenario('a large batch: every entry and view write lands in order', store => {
      const entryIdBytes = many.map(e => Buffer.from(e.id, 'hex'))
      const viewWrites: ViewWrite[] = []
      for (let i = 0; i < 150; i++) viewWrites.push({ view: 'kv', key: b(i >> 8, i & 0xff), value: b(i & 0xff) })
      viewWrites.push({ view: 'kv', key: b(0, 7), value: null }, { view: 'kv', key: b(0, 8), value: null })
      viewWrites.push({ view: 'kv', key: b(0, 7), value: b(0x77) }, { view: 'kv', key: b(0, 9), value: b(0x99) })
      viewWrites.push({ view: 'kv', key: b(0, 9), value: null })
      store.commit({ space: SPACE, entries: many, entryIdBytes, viewWrites })
    }, store => {
      assert.deepEqual([...store.entries(SPACE)], many)
      assert.deepEqual(store.feed(SPACE, AA, 0), feedState(AA, 0, 1097, many[1096]?.id ?? null))
      assert.deepEqual(store.entryById(SPACE, many[700]?.id as EntryId), many[700])
      const kv = rows(store, SPACE, 'kv')
      assert.equal(kv.length, 148)
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0, 7)), b(0x77))
      assert.equal(store.viewGet(SPACE, 'kv', b(0, 8)), undefined)
      assert.equal(store.viewGet(SPACE, 'kv', b(0, 9)), undefined)
      assert.deepEqual(store.viewGet(SPACE, 'kv', b(0, 149)), b(149))
    })
  })
}

import { publicKeyFromPeerId } from '../identity/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { RelayPolicy } from '../net/index.ts'
import type { SpaceSet } from './space-set.ts'

/**
 * Who may use this node as a relay (net/relay.ts), read from the spaces it
 * holds at each request: a member of any of them may reserve a slot; two
 * peers are relayed to each other only if one space held here has both as
 * current members (the deployment's status spaces count: they are spaces
 * this node shares). A peer whose key is not Ed25519 is a member of nothing.
 */
export function memberRelayPolicy (spaces: SpaceSet): RelayPolicy {
  const author = (peerId: string): AuthorKey | undefined => {
    const pub = publicKeyFromPeerId(peerId)
    return pub === undefined ? undefined : authorKeyOf(pub)
  }
  return {
    member: peerId => spaces.memberAnywhere(peerId),
    together: (a, b) => {
      const authorA = author(a)
      const authorB = author(b)
      if (authorA === undefined || authorB === undefined) return false
      for (const r of spaces.all()) {
        if (r.acl.currentRole(authorA) !== null && r.acl.currentRole(authorB) !== null) return true
      }
      return false
    }
  }
}

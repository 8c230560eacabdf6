import type { Role } from '../codec/index.ts'

const RANK: Record<Role, number> = { reader: 1, writer: 2, admin: 3, owner: 4 }

export function roleRank (role: Role | null): number {
  return role === null ? 0 : RANK[role]
}

export function atLeast (role: Role | null, needed: Role): boolean {
  return roleRank(role) >= RANK[needed]
}

export function higher (a: Role | null, b: Role | null): Role | null {
  return roleRank(a) >= roleRank(b) ? a : b
}

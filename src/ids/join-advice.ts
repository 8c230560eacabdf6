/**
 * What to do about a join its inviter refused, said alike by the daemon's notice and by `space list` in the CLI
 * (which loads no daemon code: test/cli/client-loads.test.ts).
 */
export function refusedNext (name: string): string {
  return `ask for a new invite, then samepage space join TOKEN; or samepage space leave ${name}`
}

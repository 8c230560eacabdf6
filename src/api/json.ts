/**
 * JSON for API answers. Values in spaces are DAG-CBOR, which JSON cannot
 * hold as they are: bytes become {"/": {"bytes": base64}} (as in DAG-JSON),
 * integers past 2^53 become strings, CIDs their string form.
 *
 * It never throws on a value (decision 14): values read from spaces nest at
 * most CBOR_DEPTH_MAX levels (codec/), but should one still fail to
 * serialize, the answer keeps every other element of a list (or field of an
 * object) and marks the one that failed {"/": {"unreadable": why}}, as
 * space/ marks a row it cannot decode.
 */
/** The answer of a call that returns nothing else: one object, so the server can send its JSON made once. */
export const OK_ANSWER = { ok: true } as const

export function toJson (value: unknown): string {
  try {
    return stringify(value)
  } catch {
    if (Array.isArray(value)) return `[${value.map(elementJson).join(',')}]`
    if (value !== null && typeof value === 'object') {
      return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${elementJson(v)}`).join(',')}}`
    }
    return stringify(marker('the answer cannot be shown as JSON'))
  }
}

/** One element of a list as JSON, or the marker of why it cannot be (never throws). */
export function elementJson (v: unknown): string {
  try {
    return stringify(v)
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : 'cannot be shown as JSON'
    return stringify(marker(why))
  }
}

const marker = (why: string): unknown => ({ '/': { unreadable: why } })

function stringify (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return { '/': { bytes: Buffer.from(v).toString('base64') } }
    const isCid = v !== null && typeof v === 'object' && 'asCID' in v && (v as { asCID: unknown }).asCID === v
    if (isCid) return { '/': String(v) }
    return v
  }) ?? 'null'
}

/**
 * JSON for API answers. Values in spaces are DAG-CBOR, which JSON cannot
 * hold as they are: bytes become {"/": {"bytes": base64}} (as in DAG-JSON),
 * integers past 2^53 become strings, CIDs their string form.
 */
export function toJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return { '/': { bytes: Buffer.from(v).toString('base64') } }
    if (v !== null && typeof v === 'object' && 'asCID' in v && (v as { asCID: unknown }).asCID === v) return { '/': String(v) }
    return v
  })
}

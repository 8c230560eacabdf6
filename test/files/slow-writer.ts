/**
 * A process that writes one file version from a slow network: chunk i
 * arrives after 20 × (i + 1) ms (all asked at once, as the writer does),
 * and is printed as it arrives; the test SIGKILLs it midway.
 *   slow-writer.ts <folder> <version.json> <source file>
 */
import fs from 'node:fs'
import { writeFileVersion } from '../../src/files/index.ts'
import type { FileVersionToWrite } from '../../src/files/index.ts'

const [folder, versionFile, sourceFile] = process.argv.slice(2) as [string, string, string]
const raw = JSON.parse(fs.readFileSync(versionFile, 'utf8')) as Omit<FileVersionToWrite, 'chunks'> & { chunks: [string, number][] }
const version: FileVersionToWrite = { ...raw, chunks: raw.chunks.map(([h, n]) => [Buffer.from(h, 'hex'), n] as const) }
const source = fs.readFileSync(sourceFile)
const offsets: number[] = []
let at = 0
for (const [, n] of version.chunks) { offsets.push(at); at += n }
await writeFileVersion(folder, version, {
  fetch: async (_hash, size, index) => {
    await new Promise(resolve => setTimeout(resolve, 20 * (index + 1)))
    process.stdout.write(`fetched ${index}\n`)
    return source.subarray(offsets[index], (offsets[index] as number) + size)
  }
})
process.stdout.write('done\n')

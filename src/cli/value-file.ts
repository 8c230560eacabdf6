import fs from 'node:fs'
import { CliError } from './client.ts'

/**
 * A kv value or ledger transaction read from a file, or from stdin for `-`
 * (`kv put SPACE KEY --file F`, `ledger append SPACE --file F`): what an
 * argument cannot carry (a value past the system's argument size, bytes a
 * shell would mangle). Read whole, as UTF-8 text, exactly (a final newline
 * is kept). Bounded: the API takes a request body of at most 1 MiB and an
 * entry holds at most 64 KiB, so more than VALUE_FILE_BYTES_MAX is refused
 * here without reading the rest; the daemon decides the entry limit.
 */
const VALUE_FILE_BYTES_MAX = 1024 * 1024

export async function readValueFile (file: string): Promise<string> {
  const bytes = file === '-' ? await readStdin() : readFile(file)
  if (bytes.length > VALUE_FILE_BYTES_MAX) {
    const what = file === '-' ? 'stdin' : file
    throw new CliError(`${what} holds over 1 MiB; a value is at most one 64 KiB entry (README: The command line)`, 2,
      'BAD_INPUT')
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    const what = file === '-' ? 'stdin' : file
    throw new CliError(`${what} is not UTF-8 text; a value from a file is text`, 2, 'BAD_INPUT')
  }
}

/** At most one byte past the limit: enough to know it is over. */
function readFile (file: string): Buffer {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    const why = missing ? 'does not exist' : `cannot be read (${(err as Error).message})`
    throw new CliError(`the value file ${file} ${why}`, 2, 'BAD_INPUT')
  }
  try {
    const buffer = Buffer.alloc(VALUE_FILE_BYTES_MAX + 1)
    let size = 0
    for (;;) {
      const n = fs.readSync(fd, buffer, size, buffer.length - size, null)
      size += n
      if (n === 0 || size === buffer.length) return buffer.subarray(0, size)
    }
  } catch (err) {
    throw new CliError(`the value file ${file} cannot be read (${(err as Error).message})`, 2, 'BAD_INPUT')
  } finally {
    fs.closeSync(fd)
  }
}

async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size > VALUE_FILE_BYTES_MAX) break // over: the rest is not read
  }
  return Buffer.concat(chunks)
}

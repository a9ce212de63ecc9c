// Makes a file really read-only for a test, the way a read-only mount or a locked-down file would
// be. Root ignores permission bits, so as root the file is made immutable (`chattr +i`, which even
// root cannot write through); otherwise its write bits are cleared. Both are undone by the result.

import { chmodSync, statSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

/** Makes `path` unwritable for this process; returns the function that makes it writable again. */
export function makeReadOnly(path: string): () => void {
  if (process.getuid?.() !== 0) {
    const mode = statSync(path).mode & 0o777
    chmodSync(path, mode & ~0o222)
    return () => chmodSync(path, mode)
  }
  execFileSync('chattr', ['+i', path], { stdio: 'pipe' })
  return () => execFileSync('chattr', ['-i', path], { stdio: 'pipe' })
}

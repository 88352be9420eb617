/**
 * The embedded default has no configured keys, yet must never be an open relay. The first start
 * generates a key, stores it in `<data_dir>/default-key` (mode 0600) and prints it once; later
 * starts reuse it. `SWITCHYARD_API_KEY` sets it explicitly instead.
 */

import { join } from 'node:path'
import { mkdirSync, randomBytes, readFileSync, writeFileSync } from '../core/builtins.ts'

export interface DefaultKey {
  key: string
  /** Where it came from, for the start-up log. */
  origin: 'environment' | 'created' | 'file'
  file: string
}

export function ensureDefaultKey(dataDir: string, environment = process.env): DefaultKey {
  const file = join(dataDir, 'default-key')
  const fromEnvironment = environment.SWITCHYARD_API_KEY
  if (fromEnvironment) return { key: fromEnvironment, origin: 'environment', file }
  try {
    const stored = readFileSync(file, 'utf8').trim()
    if (stored.length >= 16) return { key: stored, origin: 'file', file }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const key = `sy-${randomBytes(24).toString('base64url')}`
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'w' })
  return { key, origin: 'created', file }
}

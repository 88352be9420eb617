/**
 * The parts of undici the gateway uses: the connection pools (`Pool` for one origin, `Agent` for
 * any) and the error classes.
 * Loading them from their own files instead of the package index (which also loads fetch,
 * WebSocket, the cache and the mocks) keeps about 10 MB out of every process's resident memory.
 * The types still come from the package's declarations, so the compiler checks every use.
 */
import { createRequire } from 'node:module'
import type * as Undici from 'undici'

const require = createRequire(import.meta.url)

export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js')
export const Pool: typeof Undici.Pool = require('undici/lib/dispatcher/pool.js')
export const errors: typeof Undici.errors = require('undici/lib/core/errors.js')
export type Agent = Undici.Agent
export type Pool = Undici.Pool

let requestApi: Promise<typeof Undici.request> | undefined

/** undici's `request`, with the whole package loaded on first use: only image downloads need it. */
export function loadRequest(): Promise<typeof Undici.request> {
  requestApi ??= import('undici').then((module) => module.request)
  return requestApi
}
export type { Dispatcher } from 'undici'

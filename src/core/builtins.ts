/**
 * The Node built-ins the gateway calls, loaded with `require` instead of `import`. An ESM import
 * of a built-in reads every export to build its namespace, which runs the lazy getters: node:http's
 * `WebSocket` loads Node's bundled undici (fetch and WebSocket, 800 KB of source), node:crypto's
 * `webcrypto` all of WebCrypto, node:fs's `promises` readline. None of them is used here, and
 * together they cost an idle gateway about 8 MB of resident memory. Only the named exports below
 * are read, so only their modules load. Types still come from `@types/node`.
 */
import type * as Crypto from 'node:crypto'
import type * as Dns from 'node:dns'
import type * as Fs from 'node:fs'
import type * as Http from 'node:http'
import { createRequire } from 'node:module'
import type * as Net from 'node:net'
import type * as Util from 'node:util'

const require = createRequire(import.meta.url)

export const { createHash, hash, randomBytes, randomFillSync, timingSafeEqual } =
  require('node:crypto') as typeof Crypto
export const { lookup } = require('node:dns') as typeof Dns
export const { existsSync, mkdirSync, readFile, readFileSync, writeFileSync } =
  require('node:fs') as typeof Fs
export const { createServer } = require('node:http') as typeof Http
export const { BlockList, isIP } = require('node:net') as typeof Net
export const { parseArgs } = require('node:util') as typeof Util

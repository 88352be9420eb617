/**
 * Downloads one client-supplied image URL into a `data:` URL, defensively: only http(s), only
 * public addresses (checked on the very addresses the socket connects to, so a DNS answer cannot
 * change between the check and the connection), redirects counted and re-checked, an image
 * content type, and a size cap enforced while the body streams in.
 */
import type { LookupAddress, LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { lookup as dnsLookup, isIP } from '../core/builtins.ts'
import { type AddressPolicy, createAddressPolicy, normalizeHost } from './address-policy.ts'
import type { ImageFetchConfig } from './image-fetch-config.ts'
import { Agent, type Dispatcher, loadRequest } from './undici.ts'

/** A failure whose message is safe to show the client: it names only what the client sent. */
export class ImageFetchError extends Error {
  override readonly name = 'ImageFetchError'
}

/** Resolves a host name to all its addresses; `node:dns` in production, a table in tests. */
export type Resolve = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

export interface ImageFetcher {
  /** Resolves to a `data:<mime>;base64,…` URL or rejects with an ImageFetchError. */
  fetch(url: string, signal: AbortSignal): Promise<string>
  close(): Promise<void>
}

const redirectStatuses = new Set([301, 302, 303, 307, 308])
const imageType = /^image\/[a-z0-9][a-z0-9.+-]*$/

export function createImageFetcher(
  config: ImageFetchConfig,
  resolve: Resolve = dnsLookup as Resolve,
): ImageFetcher {
  const policy = createAddressPolicy(config.allow_private_hosts)
  const agent = new Agent({
    connect: { lookup: guardedLookup(policy, resolve), timeout: config.timeout_ms },
    headersTimeout: config.timeout_ms,
    bodyTimeout: config.timeout_ms,
    keepAliveTimeout: 4_000,
  })

  async function download(start: string, signal: AbortSignal): Promise<string> {
    let url = parseHttpUrl(start)
    for (let redirects = 0; ; redirects++) {
      const host = normalizeHost(url.hostname)
      // An IP literal is connected to directly, without a lookup: check it here.
      if (isIP(host) !== 0 && !policy.allowsHost(host) && !policy.allowsAddress(host)) {
        throw blocked(host)
      }
      const request = await loadRequest()
      const response = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers: { accept: 'image/*' },
        signal,
      })
      const { statusCode, headers, body } = response
      const location = headers.location
      if (redirectStatuses.has(statusCode) && typeof location === 'string') {
        discard(body)
        if (redirects >= config.max_redirects) {
          throw new ImageFetchError(`more than ${config.max_redirects} redirects`)
        }
        url = parseHttpUrl(location, url)
        continue
      }
      if (statusCode < 200 || statusCode >= 300) {
        discard(body)
        throw new ImageFetchError(`the image host ${host} answered with status ${statusCode}`)
      }
      const contentType = headers['content-type']
      const mime =
        typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : ''
      if (!imageType.test(mime)) {
        discard(body)
        throw new ImageFetchError(`the URL is not an image (content type ${mime || 'missing'})`)
      }
      const tooLarge = () =>
        new ImageFetchError(`the image is larger than ${config.max_bytes} bytes`)
      if (Number(headers['content-length']) > config.max_bytes) {
        discard(body)
        throw tooLarge()
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length
        // Leaving the loop destroys the body, so the rest is never read.
        if (size > config.max_bytes) throw tooLarge()
        chunks.push(chunk)
      }
      return `data:${mime};base64,${Buffer.concat(chunks, size).toString('base64')}`
    }
  }

  return {
    async fetch(url, signal) {
      try {
        return await download(url, signal)
      } catch (error) {
        throw describeFailure(error, signal, config.timeout_ms)
      }
    },
    close: () => agent.close(),
  }
}

/**
 * The lookup the sockets use: every address a name resolves to must be allowed, and the socket
 * connects to exactly the addresses checked here.
 */
function guardedLookup(policy: AddressPolicy, resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 0)
      const refused =
        !policy.allowsHost(hostname) &&
        addresses.some((entry) => !policy.allowsAddress(entry.address))
      if (refused || addresses.length === 0) {
        const failure = refused
          ? blocked(hostname)
          : Object.assign(new Error('no address'), { code: 'ENOTFOUND' })
        return callback(failure, '', 0)
      }
      if (options.all === true) return callback(null, addresses)
      const [first] = addresses
      callback(null, first!.address, first!.family)
    })
  }
}

/** Drops a body we will not read; undici reports that as an error nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {})
  body.destroy()
}

function blocked(host: string): ImageFetchError {
  return new ImageFetchError(
    `the image host ${host} is a private or reserved address, which the gateway does not fetch from`,
  )
}

function parseHttpUrl(text: string, base?: URL): URL {
  let url: URL
  try {
    url = new URL(text, base)
  } catch {
    throw new ImageFetchError('the image URL is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ImageFetchError(`the image URL must be http(s), not ${url.protocol.slice(0, -1)}`)
  }
  return url
}

/** Turns whatever went wrong into a message about the client's URL, never about our network. */
function describeFailure(error: unknown, signal: AbortSignal, timeoutMs: number): ImageFetchError {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current instanceof ImageFetchError) return current
  }
  if (signal.aborted) {
    const reason: unknown = signal.reason
    return reason instanceof Error && reason.name === 'TimeoutError'
      ? new ImageFetchError(`downloading the image took longer than ${timeoutMs} ms`)
      : new ImageFetchError('the download was cancelled')
  }
  const code = (error as { code?: unknown } | null)?.code
  const detail = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''
  return new ImageFetchError(`the image could not be downloaded${detail}`)
}

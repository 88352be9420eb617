/**
 * For providers that cannot fetch image URLs themselves (`ProviderAdapter.inlinesImageUrls`):
 * downloads every `http(s)` image part of a request, a few at a time, and hands the adapter a copy
 * of the request with `data:` URLs in their place. Adapters stay pure; the I/O happens here.
 */
import type { ChatRequest } from '../core/chat.ts'
import { GatewayError } from '../core/errors.ts'
import { createImageFetcher, ImageFetchError, type Resolve } from './fetch-image.ts'
import type { ImageFetchConfig } from './image-fetch-config.ts'

/** Downloads in flight at once for one request. */
const concurrency = 4
const remoteUrl = /^https?:/i

export interface ImageInliner {
  /** The request with its remote image URLs inlined; a 400 naming the part when one fails. */
  inline(request: ChatRequest, signal: AbortSignal): Promise<ChatRequest>
  close(): Promise<void>
}

/** The cheap check that keeps requests without remote images off the download path. */
export function hasRemoteImageUrls(request: ChatRequest): boolean {
  for (const message of request.messages) {
    if (!Array.isArray(message.content)) continue
    for (const part of message.content) if (remoteImage(part) !== undefined) return true
  }
  return false
}

export function createImageInliner(config: ImageFetchConfig, resolve?: Resolve): ImageInliner {
  const fetcher = createImageFetcher(config, resolve)
  // Retries and fallbacks call again with the same request: download its images once.
  const inlined = new WeakMap<ChatRequest, Promise<ChatRequest>>()

  async function inlineAll(request: ChatRequest, signal: AbortSignal): Promise<ChatRequest> {
    // Each distinct URL once, remembering the first part that named it for error messages.
    const urls = new Map<string, string>()
    request.messages.forEach((message, messageIndex) => {
      if (!Array.isArray(message.content)) return
      message.content.forEach((part, partIndex) => {
        const url = remoteImage(part)?.url
        if (url !== undefined && !urls.has(url)) {
          urls.set(url, `messages[${messageIndex}].content[${partIndex}].image_url`)
        }
      })
    })
    const failed = new AbortController()
    const all = AbortSignal.any([signal, failed.signal, AbortSignal.timeout(config.timeout_ms)])
    const queue = [...urls]
    const dataUrls = new Map<string, string>()
    async function worker(): Promise<void> {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [url, param] = next
        try {
          dataUrls.set(url, await fetcher.fetch(url, all))
        } catch (error) {
          failed.abort()
          const reason = error instanceof ImageFetchError ? error.message : 'download failed'
          throw new GatewayError(
            'invalid_request',
            `Could not use the image at ${param}: ${reason}`,
            {
              param,
            },
          )
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))

    const messages = request.messages.map((message) => {
      if (!Array.isArray(message.content)) return message
      const content = message.content.map((part) => {
        const image = remoteImage(part)
        if (image === undefined) return part
        return { ...part, image_url: { ...image, url: dataUrls.get(image.url) } }
      })
      return { ...message, content } as typeof message
    })
    return { ...request, messages }
  }

  return {
    inline(request, signal) {
      let result = inlined.get(request)
      if (result === undefined) {
        result = inlineAll(request, signal)
        inlined.set(request, result)
      }
      return result
    },
    close: () => fetcher.close(),
  }
}

/** An `image_url` part's image object when its URL is http(s), as sent (with `detail`). */
function remoteImage(part: unknown): { url: string; [key: string]: unknown } | undefined {
  if (part === null || typeof part !== 'object') return undefined
  const { type, image_url: image } = part as { type?: unknown; image_url?: unknown }
  if (type !== 'image_url' || image === null || typeof image !== 'object') return undefined
  const { url } = image as { url?: unknown }
  return typeof url === 'string' && remoteUrl.test(url) ? { ...image, url } : undefined
}

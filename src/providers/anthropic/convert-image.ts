/**
 * An OpenAI `image_url` part as an Anthropic image source. Data URLs become base64 sources;
 * http(s) URLs are handed to Anthropic, which fetches them itself, so nothing is fetched here.
 */
import type { ImageBlockParam } from '@anthropic-ai/sdk/resources/messages'
import { GatewayError } from '../../core/errors.ts'

const imageMediaTypes = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const
type ImageMediaType = (typeof imageMediaTypes)[number]

const dataUrl = /^data:([^;,]+)((?:;[^;,]*)*?);base64,/i

export function convertImage(url: string, param: string): ImageBlockParam {
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } }
  const match = dataUrl.exec(url)
  if (match === null) {
    throw new GatewayError(
      'invalid_request',
      `Invalid image URL in '${param}': expected an http(s) URL or a base64 data URL`,
      { param },
    )
  }
  const mediaType = match[1]!.toLowerCase()
  if (!isImageMediaType(mediaType)) {
    throw new GatewayError(
      'invalid_request',
      `Unsupported image type '${mediaType}' in '${param}': Anthropic takes ${imageMediaTypes.join(', ')}`,
      { param },
    )
  }
  return {
    type: 'image',
    source: { type: 'base64', media_type: mediaType, data: url.slice(match[0].length) },
  }
}

function isImageMediaType(value: string): value is ImageMediaType {
  return (imageMediaTypes as readonly string[]).includes(value)
}

/** A base64 data URL's media type and payload, for `file` parts (PDF documents). */
export function readDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = dataUrl.exec(url)
  if (match === null) return undefined
  return { mediaType: match[1]!.toLowerCase(), data: url.slice(match[0].length) }
}

/** Turns an image, audio or file reference from an OpenAI content part into a Gemini part. */
import { GatewayError } from '../../core/errors.ts'
import type { GeminiPart } from './wire-types.ts'

const dataUrl = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s

const mimeByExtension: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
}

/** `data:` URLs go inline; anything else is a URI Gemini fetches itself (`fileData`). */
export function urlToPart(url: string, param: string): GeminiPart {
  if (url.startsWith('data:')) return { inlineData: readDataUrl(url, param) }
  if (!/^(?:https?|gs):\/\//.test(url)) {
    throw new GatewayError('invalid_request', `Invalid URL in '${param}'`, { param })
  }
  return { fileData: { fileUri: url, mimeType: guessMimeType(url) ?? 'image/jpeg' } }
}

export function readDataUrl(url: string, param: string): { mimeType: string; data: string } {
  const match = dataUrl.exec(url)
  if (match === null) {
    throw new GatewayError('invalid_request', `Invalid data URL in '${param}'`, { param })
  }
  const mimeType = match[1] || 'application/octet-stream'
  const isBase64 = (match[2] ?? '').split(';').includes('base64')
  const payload = match[3] ?? ''
  // Gemini takes base64 only; a percent-encoded data URL (rare, e.g. SVG) is re-encoded.
  const data = isBase64 ? payload : Buffer.from(decodeURIComponent(payload)).toString('base64')
  return { mimeType, data }
}

export function guessMimeType(name: string): string | undefined {
  const path = name.split(/[?#]/, 1)[0] ?? ''
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase()
  return extension === undefined ? undefined : mimeByExtension[extension]
}

/**
 * Where Gemini's JSON enters: one unstreamed body or one stream event, checked for the shape the
 * translators read (objects and arrays where they are expected) so nothing below meets junk.
 */
import { GatewayError } from '../../core/errors.ts'
import { narrowError } from './map-error.ts'
import type { GeminiErrorBody, GeminiResponse } from './wire-types.ts'

export type GeminiPayload =
  | { type: 'response'; response: GeminiResponse }
  | { type: 'error'; error: GeminiErrorBody['error'] }

export function parsePayload(text: string): GeminiPayload {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw malformed('a body that is not JSON')
  }
  if (!isRecord(parsed)) throw malformed('a body that is not a JSON object')
  if (isRecord(parsed.error)) {
    return { type: 'error', error: narrowError(parsed.error) }
  }
  const { candidates, usageMetadata, promptFeedback } = parsed
  if (candidates !== undefined) {
    if (!Array.isArray(candidates)) throw malformed('candidates that are not a list')
    for (const candidate of candidates) {
      if (!isRecord(candidate)) throw malformed('a candidate that is not an object')
      const { content } = candidate
      if (content === undefined) continue
      if (!isRecord(content) || !(content.parts === undefined || Array.isArray(content.parts))) {
        throw malformed('a candidate whose content has no list of parts')
      }
      if (Array.isArray(content.parts) && !content.parts.every(isRecord)) {
        throw malformed('a part that is not an object')
      }
    }
  }
  if (usageMetadata !== undefined && !isRecord(usageMetadata)) {
    throw malformed('usageMetadata that is not an object')
  }
  if (promptFeedback !== undefined && !isRecord(promptFeedback)) {
    throw malformed('promptFeedback that is not an object')
  }
  return { type: 'response', response: parsed as GeminiResponse }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function malformed(what: string): GatewayError {
  return new GatewayError('upstream_error', `Upstream Gemini sent ${what}`)
}

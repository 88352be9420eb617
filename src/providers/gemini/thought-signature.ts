/**
 * Gemini signs the thinking behind a function call (`thoughtSignature`) and, from Gemini 3 on,
 * wants it back with the call in later turns. It travels with the OpenAI tool call in
 * `extra_content.google.thought_signature`, the field Google's own OpenAI-compatible endpoint
 * uses, so clients that replay assistant messages as received keep it.
 */
export interface ThoughtSignatureCarrier {
  extra_content?: { google: { thought_signature: string } }
}

export function withThoughtSignature<T extends object>(
  call: T,
  signature: string | undefined,
): T & ThoughtSignatureCarrier {
  if (signature === undefined) return call
  return { ...call, extra_content: { google: { thought_signature: signature } } }
}

export function readThoughtSignature(call: object): string | undefined {
  const extra = (call as { extra_content?: unknown }).extra_content
  if (extra === null || typeof extra !== 'object') return undefined
  const google = (extra as { google?: unknown }).google
  if (google === null || typeof google !== 'object') return undefined
  const signature = (google as { thought_signature?: unknown }).thought_signature
  return typeof signature === 'string' ? signature : undefined
}

/**
 * Google Search grounding as OpenAI's `url_citation` annotations. Each grounding support is a
 * claim (a segment of the answer) citing one or more web sources; it becomes one annotation per
 * cited source, with the claim's character range in the message content. Gemini measures a
 * segment in bytes of one part; the range is found from the segment's own text instead, which
 * also holds when parts are joined and when the answer was streamed.
 */
import type { GroundingMetadata } from '@google/genai'
import type { ChatCompletionMessage } from 'openai/resources/chat/completions'

export type UrlCitation = ChatCompletionMessage.Annotation

export function groundingAnnotations(
  metadata: GroundingMetadata | undefined,
  content: string,
): UrlCitation[] {
  const sources = metadata?.groundingChunks ?? []
  const annotations: UrlCitation[] = []
  let cursor = 0
  for (const support of metadata?.groundingSupports ?? []) {
    const claim = support.segment?.text
    if (claim === undefined || claim === '') continue
    let start = content.indexOf(claim, cursor)
    if (start === -1) start = content.indexOf(claim)
    if (start === -1) continue
    cursor = start
    for (const sourceIndex of support.groundingChunkIndices ?? []) {
      const web = sources[sourceIndex]?.web
      if (web?.uri === undefined) continue
      annotations.push({
        type: 'url_citation',
        url_citation: {
          url: web.uri,
          title: web.title ?? web.domain ?? web.uri,
          start_index: start,
          end_index: start + claim.length,
        },
      })
    }
  }
  return annotations
}

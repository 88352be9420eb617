/**
 * Azure interleaves content-filter annotations with a stream's chunks: a first chunk with
 * `choices: []` and `prompt_filter_results`, and (with asynchronous filtering) chunks whose choice
 * carries `content_filter_results` but no `delta`. OpenAI clients expect every chunk but the usage
 * chunk to carry a choice with a delta, and several index `choices[0].delta` blindly, so these
 * annotation-only chunks are not forwarded. Filter results riding on ordinary chunks pass through.
 */
import type { SseEvent, StreamTranslator } from '../types.ts'

export function skipFilterAnnotations(translator: StreamTranslator): StreamTranslator {
  return {
    push: (event) => (isAnnotationOnly(event) ? [] : translator.push(event)),
    end: () => translator.end(),
  }
}

/** Plain substring checks: keys appear unescaped only as keys, so no parse is needed. */
export function isAnnotationOnly({ data }: SseEvent): boolean {
  return (
    data.includes('"content_filter_') &&
    !data.includes('"delta"') &&
    !data.includes('"usage":{') &&
    !data.includes('"finish_reason":"') &&
    !data.includes('"error"')
  )
}

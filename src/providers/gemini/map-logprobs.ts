/** Gemini's `logprobsResult` to OpenAI's `logprobs.content`. */
import type { ChatCompletionTokenLogprob } from 'openai/resources/chat/completions'
import type { GeminiLogprobsResult } from './wire-types.ts'

export function mapLogprobs(
  result: GeminiLogprobsResult | undefined,
): { content: ChatCompletionTokenLogprob[]; refusal: null } | null {
  if (result?.chosenCandidates === undefined) return null
  const content = result.chosenCandidates.map((chosen, step): ChatCompletionTokenLogprob => {
    const token = chosen.token ?? ''
    return {
      token,
      logprob: chosen.logProbability ?? 0,
      bytes: [...Buffer.from(token, 'utf8')],
      top_logprobs: (result.topCandidates?.[step]?.candidates ?? []).map((top) => {
        const topToken = top.token ?? ''
        return {
          token: topToken,
          logprob: top.logProbability ?? 0,
          bytes: [...Buffer.from(topToken, 'utf8')],
        }
      }),
    }
  })
  return { content, refusal: null }
}

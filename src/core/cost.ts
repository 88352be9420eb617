/** Cost of a request from a model's `costs` (currency units per million tokens). */
export interface ModelCosts {
  prompt_tokens: number
  completion_tokens: number
  cached_tokens?: number | undefined
}

export function computeCost(
  costs: ModelCosts | undefined,
  promptTokens: number,
  completionTokens: number,
  cachedTokens: number,
): number {
  if (costs === undefined) return 0
  // Cached prompt tokens are billed at the cached rate when one is set, else as prompt tokens.
  const cachedRate = costs.cached_tokens ?? costs.prompt_tokens
  const uncached = Math.max(0, promptTokens - cachedTokens)
  return (
    (uncached * costs.prompt_tokens +
      cachedTokens * cachedRate +
      completionTokens * costs.completion_tokens) /
    1e6
  )
}

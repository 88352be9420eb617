/**
 * `reasoning_effort` as Claude thinking. Two forms exist: `budget` (extended thinking with a
 * token budget, for Claude 4.5 and earlier; deprecated on 4.6 and rejected by 4.7 and later) and
 * `adaptive` (Claude decides how much to think, `output_config.effort` says how hard; Claude 4.6
 * and later). The provider's `reasoning_mode` picks one.
 */
import type { OutputConfig, ThinkingConfigParam } from '@anthropic-ai/sdk/resources/messages'
import type { ReasoningEffort } from 'openai/resources/shared'
import { GatewayError } from '../../core/errors.ts'

export type ReasoningMode = 'budget' | 'adaptive'
type Effort = Exclude<ReasoningEffort, null | 'none'>

/** Thinking budgets per effort, in tokens. Anthropic's minimum is 1024. */
export const thinkingBudgets: Record<Effort, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 24576,
  max: 32768,
}

const adaptiveEfforts: Record<Effort, NonNullable<OutputConfig['effort']>> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
}

export interface ReasoningPlan {
  thinking?: ThinkingConfigParam
  effort?: NonNullable<OutputConfig['effort']>
  maxTokens: number
}

/**
 * `maxTokens` is what the client asked for (undefined: not set). Thinking tokens count toward
 * Anthropic's `max_tokens`, as reasoning tokens count toward OpenAI's `max_completion_tokens`;
 * when the client set no limit the budget is added to the default, so the answer keeps its room.
 */
export function planReasoning(
  effort: ReasoningEffort | undefined,
  mode: ReasoningMode,
  maxTokens: number | undefined,
  defaultMaxTokens: number,
): ReasoningPlan {
  if (effort === undefined || effort === null || effort === 'none') {
    return { maxTokens: maxTokens ?? defaultMaxTokens }
  }
  if (!(effort in thinkingBudgets)) {
    throw new GatewayError('invalid_request', `Invalid reasoning_effort '${effort}'`, {
      param: 'reasoning_effort',
    })
  }
  if (mode === 'adaptive') {
    return {
      thinking: { type: 'adaptive', display: 'summarized' },
      effort: adaptiveEfforts[effort],
      maxTokens: maxTokens ?? defaultMaxTokens,
    }
  }
  const budget = thinkingBudgets[effort]
  if (maxTokens === undefined) {
    return {
      thinking: { type: 'enabled', budget_tokens: budget },
      maxTokens: budget + defaultMaxTokens,
    }
  }
  // The budget must stay below max_tokens; a small limit shrinks it, down to Anthropic's minimum.
  const fitted = Math.min(budget, maxTokens - 1)
  if (fitted < thinkingBudgets.minimal) {
    throw new GatewayError(
      'invalid_request',
      `reasoning_effort needs max_completion_tokens above ${thinkingBudgets.minimal} on Anthropic models`,
      { param: 'reasoning_effort' },
    )
  }
  return { thinking: { type: 'enabled', budget_tokens: fitted }, maxTokens }
}

/**
 * Azure OpenAI wire-format samples: OpenAI's shapes plus Azure's content-filter annotations,
 * alphabetical keys and `usage: null` on every stream chunk, as the service sends them.
 */
import type { ServerResponse } from 'node:http'
import type { RecordedRequest, UpstreamHandler } from './fake-upstream.ts'
import { sendJson } from './fake-upstream.ts'

export const azureModel = 'gpt-4o-2024-08-06'

const safe = { filtered: false, severity: 'safe' }
export const filterResults = { hate: safe, self_harm: safe, sexual: safe, violence: safe }
export const promptFilterResults = [
  {
    prompt_index: 0,
    content_filter_results: { ...filterResults, jailbreak: { filtered: false, detected: false } },
  },
]

/** The first event of every Azure stream: no choices, only the prompt's filter results. */
export const promptFilterChunk = {
  choices: [],
  created: 0,
  id: '',
  model: '',
  object: '',
  prompt_filter_results: promptFilterResults,
}

export function azureCompletion(
  message: Record<string, unknown>,
  finishReason = 'stop',
  usage = { completion_tokens: 7, prompt_tokens: 19, total_tokens: 26 },
) {
  return {
    choices: [
      {
        content_filter_results: finishReason === 'tool_calls' ? {} : filterResults,
        finish_reason: finishReason,
        index: 0,
        logprobs: null,
        message: { refusal: null, role: 'assistant', ...message },
      },
    ],
    created: 1_736_407_895,
    id: 'chatcmpl-AnhIt2rw8vL8czymkCwEOKKTg7HPc',
    model: azureModel,
    object: 'chat.completion',
    prompt_filter_results: promptFilterResults,
    system_fingerprint: 'fp_5154047bf2',
    usage,
  }
}

export function azureChunk(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  extra: Record<string, unknown> = {},
) {
  return {
    choices: [
      {
        content_filter_results: 'content' in delta ? filterResults : {},
        delta,
        finish_reason: finishReason,
        index: 0,
        logprobs: null,
      },
    ],
    created: 1_736_407_895,
    id: 'chatcmpl-AnhIt2rw8vL8czymkCwEOKKTg7HPc',
    model: azureModel,
    object: 'chat.completion.chunk',
    system_fingerprint: 'fp_5154047bf2',
    usage: null,
    ...extra,
  }
}

export const azureUsage = {
  completion_tokens: 2,
  completion_tokens_details: { reasoning_tokens: 0 },
  prompt_tokens: 11,
  prompt_tokens_details: { cached_tokens: 0 },
  total_tokens: 13,
}

/** A usage chunk: sent last when the request asked for `stream_options.include_usage`. */
export function azureUsageChunk() {
  return { ...azureChunk({}), choices: [], usage: azureUsage }
}

/** A chunk of asynchronous content filtering: a choice with filter results and no delta. */
export function asyncFilterChunk() {
  return {
    choices: [
      {
        content_filter_offsets: { check_offset: 35, end_offset: 60, start_offset: 35 },
        content_filter_results: filterResults,
        finish_reason: null,
        index: 0,
      },
    ],
    created: 0,
    id: '',
    model: '',
    object: '',
  }
}

const deploymentPath = /^\/openai\/deployments\/([^/?]+)\/chat\/completions\?(.*)$/

/**
 * Answers like the service when the URL or the key is wrong, else hands the request on. Only a
 * request with the deployment in the path, an `api-version` and the right `api-key` gets through.
 */
export function azureGate(
  apiKey: string,
  next: (request: RecordedRequest, response: ServerResponse, deployment: string) => unknown,
): UpstreamHandler {
  return async (request, response) => {
    const match = deploymentPath.exec(request.path)
    const query = new URLSearchParams(match?.[2] ?? '')
    if (request.headers['api-key'] !== apiKey) {
      return sendJson(response, 401, {
        error: {
          code: '401',
          message: `Access denied due to invalid subscription key or wrong API endpoint. Key: ${String(request.headers['api-key'])}`,
        },
      })
    }
    if (match === null || !query.has('api-version')) {
      return sendJson(response, 404, { error: { code: '404', message: 'Resource not found' } })
    }
    await next(request, response, decodeURIComponent(match[1]!))
  }
}

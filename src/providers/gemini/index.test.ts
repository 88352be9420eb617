import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatRequest } from '../../core/chat.ts'
import { providerConfigSchema } from '../registry.ts'
import { createGeminiAdapter, type GeminiProviderConfig } from './index.ts'

const request = { model: 'x', messages: [{ role: 'user', content: 'Hi' }] } as ChatRequest
const target = (upstreamModel: string, stream: boolean) => ({
  upstreamModel,
  requestedModel: 'alias',
  stream,
  clientWantsUsage: false,
})

describe('kind: gemini', () => {
  test('base_url defaults to the public v1beta endpoint', () => {
    const config = providerConfigSchema.parse({ kind: 'gemini', api_key: 'AIza-test-key' })
    assert.equal(
      (config as GeminiProviderConfig).base_url,
      'https://generativelanguage.googleapis.com/v1beta',
    )
  })

  test('unknown keys are config errors', () => {
    assert.equal(providerConfigSchema.safeParse({ kind: 'gemini', apikey: 'x' }).success, false)
  })

  const paths: [string, string, boolean, string][] = [
    [
      'https://generativelanguage.googleapis.com/v1beta',
      'gemini-2.5-flash',
      false,
      '/v1beta/models/gemini-2.5-flash:generateContent',
    ],
    [
      'https://generativelanguage.googleapis.com/v1beta/',
      'gemini-2.5-flash',
      true,
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ],
    [
      'https://proxy.example/google/v1beta?project=a',
      'tunedModels/my-model',
      true,
      '/google/v1beta/tunedModels/my-model:streamGenerateContent?project=a&alt=sse',
    ],
  ]
  for (const [baseUrl, model, stream, expected] of paths) {
    test(`${baseUrl} + ${model} (${stream ? 'stream' : 'unary'})`, () => {
      const adapter = createGeminiAdapter({
        kind: 'gemini',
        base_url: baseUrl,
        reasoning_mode: 'auto',
      })
      const built = adapter.buildRequest(request, target(model, stream))
      assert.equal(built.request.path, expected)
      assert.equal(built.request.origin, new URL(baseUrl).origin)
    })
  }

  test('headers: the key as x-goog-api-key, configured headers kept', () => {
    const adapter = createGeminiAdapter({
      kind: 'gemini',
      base_url: 'https://generativelanguage.googleapis.com/v1beta',
      api_key: 'AIza-test-key',
      headers: { 'x-team': 'search' },
      reasoning_mode: 'auto',
    })
    assert.equal(adapter.inlinesImageUrls, true)
    assert.deepEqual(adapter.buildRequest(request, target('m', false)).request.headers, {
      'content-type': 'application/json',
      'x-team': 'search',
      'x-goog-api-key': 'AIza-test-key',
    })
  })

  test('ids and timestamps come from the injected clock and id source', () => {
    let ids = 0
    const adapter = createGeminiAdapter(
      {
        kind: 'gemini',
        base_url: 'https://generativelanguage.googleapis.com/v1beta',
        reasoning_mode: 'auto',
      },
      { newId: () => `id${++ids}`, now: () => 1_700_000_000_999 },
    )
    const body = JSON.stringify({
      candidates: [
        {
          content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] },
          finishReason: 'STOP',
        },
      ],
    })
    const completion = adapter.parseResponse(body, target('m', false))
    assert.equal(completion.id, 'chatcmpl-id1')
    assert.equal(completion.created, 1_700_000_000)
    assert.equal(completion.model, 'alias')
    assert.equal(completion.choices[0]?.message.tool_calls?.[0]?.id, 'call_id2')
  })
})

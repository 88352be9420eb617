import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatRequest } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { fixtureJson } from './fixtures.test-helper.ts'
import { reasoningModeFor, toGeminiRequest } from './to-gemini-request.ts'

const user = (content: unknown) => ({ model: 'm', messages: [{ role: 'user', content }] })

describe('toGeminiRequest', () => {
  test('a tool conversation: system, merged tool results, signatures, declarations', () => {
    const request = fixtureJson<ChatRequest>('tool-conversation.request.json')
    const { body, dropped } = toGeminiRequest(request)
    assert.deepEqual(body, fixtureJson('tool-conversation.gemini.json'))
    assert.deepEqual(dropped.sort(), ['parallel_tool_calls', 'user'])
  })

  const cases: { name: string; request: object; expected: object; dropped?: string[] }[] = [
    {
      name: 'plain text',
      request: user('Hi'),
      expected: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
    },
    {
      name: 'sampling parameters',
      request: {
        ...user('Hi'),
        max_tokens: 50,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        stop: 'END',
        seed: 7,
        n: 2,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: {
          maxOutputTokens: 50,
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          stopSequences: ['END'],
          seed: 7,
          candidateCount: 2,
          presencePenalty: 0.5,
          frequencyPenalty: -0.5,
        },
      },
    },
    {
      name: 'max_completion_tokens wins over max_tokens; stop list; n=1 not sent',
      request: { ...user('Hi'), max_tokens: 10, max_completion_tokens: 20, stop: ['a', 'b'], n: 1 },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { maxOutputTokens: 20, stopSequences: ['a', 'b'] },
      },
    },
    {
      name: 'json_object',
      request: { ...user('Hi'), response_format: { type: 'json_object' } },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { responseMimeType: 'application/json' },
      },
    },
    {
      name: 'json_schema goes to responseJsonSchema',
      request: {
        ...user('Hi'),
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', strict: true, schema: { type: 'object', properties: {} } },
        },
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object', properties: {} },
        },
      },
    },
    {
      name: 'reasoning_effort low asks for thoughts',
      request: { ...user('Hi'), reasoning_effort: 'low' },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
      },
    },
    {
      name: 'reasoning_effort none turns thinking off',
      request: { ...user('Hi'), reasoning_effort: 'none' },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
      },
    },
    {
      name: 'logprobs',
      request: { ...user('Hi'), logprobs: true, top_logprobs: 3 },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generationConfig: { responseLogprobs: true, logprobs: 3 },
      },
    },
    {
      name: 'images: data URL inline, http URL as fileData, audio and file inline',
      request: user([
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=2' } },
        { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
      ]),
      expected: {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'What is this?' },
              { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
              {
                fileData: {
                  fileUri: 'https://example.com/cat.webp?size=2',
                  mimeType: 'image/webp',
                },
              },
              { fileData: { fileUri: 'https://example.com/photo', mimeType: 'image/jpeg' } },
              { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
            ],
          },
        ],
      },
    },
    {
      name: 'consecutive user and assistant turns merge; assistant text without calls',
      request: {
        model: 'm',
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b', name: 'bob' },
          { role: 'assistant', content: 'c' },
          { role: 'assistant', content: [{ type: 'text', text: 'd' }] },
          { role: 'user', content: 'e' },
        ],
      },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
          { role: 'model', parts: [{ text: 'c' }, { text: 'd' }] },
          { role: 'user', parts: [{ text: 'e' }] },
        ],
      },
      dropped: ['messages.name'],
    },
    {
      name: 'a tool call without a signature gets the documented skip value',
      request: {
        model: 'm',
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: 'Calling',
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: '[1,2]' },
        ],
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
      expected: {
        contents: [
          { role: 'user', parts: [{ text: 'x' }] },
          {
            role: 'model',
            parts: [
              { text: 'Calling' },
              {
                functionCall: { name: 'f', args: {} },
                thoughtSignature: 'skip_thought_signature_validator',
              },
            ],
          },
          {
            role: 'user',
            parts: [{ functionResponse: { name: 'f', response: { content: '[1,2]' } } }],
          },
        ],
        tools: [{ functionDeclarations: [{ name: 'f' }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
      },
    },
    {
      name: 'tool_choice none, required and allowed_tools',
      request: {
        ...user('x'),
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] },
        },
      },
      expected: {
        contents: [{ role: 'user', parts: [{ text: 'x' }] }],
        tools: [{ functionDeclarations: [{ name: 'f' }] }],
        toolConfig: { functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames: ['f'] } },
      },
    },
    {
      name: 'unknown and unsupported parameters are dropped and listed',
      request: {
        ...user('x'),
        logit_bias: { '1': 2 },
        store: true,
        metadata: { a: 'b' },
        service_tier: 'auto',
        stream_options: null,
        modalities: ['text'],
      },
      expected: { contents: [{ role: 'user', parts: [{ text: 'x' }] }] },
      dropped: ['logit_bias', 'metadata', 'service_tier', 'store'],
    },
  ]
  for (const { name, request, expected, dropped = [] } of cases) {
    test(name, () => {
      const result = toGeminiRequest(request as ChatRequest)
      assert.deepEqual(result.body, expected)
      assert.deepEqual(result.dropped.sort(), dropped)
    })
  }

  test('tool_choice strings', () => {
    const modes = { auto: 'AUTO', none: 'NONE', required: 'ANY' } as const
    for (const [choice, mode] of Object.entries(modes)) {
      const { body } = toGeminiRequest({
        ...user('x'),
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: choice,
      } as ChatRequest)
      assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode } })
    }
  })

  test('safety settings from the provider config are sent', () => {
    const safetySettings = [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }]
    const { body } = toGeminiRequest(user('x') as ChatRequest, { safetySettings })
    assert.deepEqual(body.safetySettings, safetySettings)
  })

  const rejections: { name: string; request: object; code: string; param: string }[] = [
    {
      name: 'invalid tool call arguments',
      request: {
        model: 'm',
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{x' } }],
          },
        ],
      },
      code: 'invalid_request',
      param: 'messages[0].tool_calls[0].function.arguments',
    },
    {
      name: 'a tool result for an unknown call',
      request: { model: 'm', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] },
      code: 'invalid_request',
      param: 'messages[0].tool_call_id',
    },
    {
      name: 'audio output',
      request: { ...user('x'), modalities: ['text', 'audio'] },
      code: 'unsupported_parameter',
      param: 'modalities',
    },
    {
      name: 'legacy functions',
      request: { ...user('x'), functions: [{ name: 'f' }] },
      code: 'unsupported_parameter',
      param: 'functions',
    },
    {
      name: 'custom tools',
      request: { ...user('x'), tools: [{ type: 'custom', custom: { name: 'c' } }] },
      code: 'unsupported_parameter',
      param: 'tools[0].type',
    },
    {
      name: 'an OpenAI file id',
      request: user([{ type: 'file', file: { file_id: 'file-123' } }]),
      code: 'unsupported_parameter',
      param: 'messages[0].content[0].file.file_id',
    },
    {
      name: 'a broken data URL',
      request: user([{ type: 'image_url', image_url: { url: 'data:image/png;base64' } }]),
      code: 'invalid_request',
      param: 'messages[0].content[0].image_url.url',
    },
    {
      name: 'an unknown reasoning effort',
      request: { ...user('x'), reasoning_effort: 'extreme' },
      code: 'invalid_request',
      param: 'reasoning_effort',
    },
  ]
  for (const { name, request, code, param } of rejections) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => toGeminiRequest(request as ChatRequest),
        (error: unknown) =>
          error instanceof GatewayError &&
          error.code === code &&
          error.param === param &&
          error.status === 400,
      )
    })
  }
})

describe('reasoning mode by model', () => {
  const cases: [string, 'budget' | 'level'][] = [
    ['gemini-2.5-flash', 'budget'],
    ['gemini-2.5-pro', 'budget'],
    ['gemini-3-pro-preview', 'level'],
    ['gemini-3.5-flash', 'level'],
    ['models/gemini-3-flash', 'level'],
    ['tunedModels/my-model', 'budget'],
  ]
  for (const [model, mode] of cases) {
    test(`${model} thinks in ${mode === 'level' ? 'levels' : 'budgets'}`, () => {
      assert.equal(reasoningModeFor(model), mode)
    })
  }

  test('a forced level mode maps every effort for a Flash model', () => {
    const levels = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'].map(
      (effort) =>
        toGeminiRequest({ ...user('Hi'), reasoning_effort: effort } as ChatRequest, {
          reasoningMode: 'level',
          upstreamModel: 'gemini-3-flash',
        }).body.generationConfig?.thinkingConfig?.thinkingLevel,
    )
    assert.deepEqual(levels, ['MINIMAL', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH', 'HIGH'])
  })
})

/**
 * The Gemini adapter end to end: the official `openai` SDK calls the gateway, which speaks
 * Gemini's native wire format to a fake Gemini on loopback that records what it receives.
 */
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import {
  type FakeUpstream,
  type RecordedRequest,
  sendEvents,
  sendJson,
  startFakeUpstream,
} from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway } from './helpers/gateway.ts'

const apiKey = 'AIzaSyFAKEgatewayKEY_0123456789abcdef'
const generatePath = '/v1beta/models/gemini-2.5-flash:generateContent'
const streamPath = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'

interface GeminiBody {
  contents: { role: string; parts: Record<string, unknown>[] }[]
  systemInstruction?: { parts: { text: string }[] }
  generationConfig?: Record<string, unknown>
  tools?: unknown
  toolConfig?: unknown
}

const textCandidate = (text: string, finishReason?: string, index = 0) => ({
  content: { role: 'model', parts: [{ text }] },
  index,
  ...(finishReason === undefined ? {} : { finishReason }),
})

const usageMetadata = { promptTokenCount: 7, candidatesTokenCount: 5, totalTokenCount: 12 }

function answer(text: string, finishReason = 'STOP') {
  return {
    candidates: [textCandidate(text, finishReason)],
    usageMetadata,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-1',
  }
}

/** A streamed answer: one event per word, the finish on its own event with the final usage. */
function streamOf(words: string[], finishReason = 'STOP') {
  return [
    ...words.map((word) => ({
      data: { candidates: [textCandidate(word)], responseId: 'resp-2' },
    })),
    {
      data: { candidates: [textCandidate('', finishReason)], usageMetadata, responseId: 'resp-2' },
    },
  ]
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

function contentOf(chunks: ChatCompletionChunk[], index = 0): string {
  return chunks
    .flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index))
    .map((choice) => choice.delta.content ?? '')
    .join('')
}

function finishOf(chunks: ChatCompletionChunk[], index = 0): string | null | undefined {
  return chunks
    .flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index))
    .find((choice) => choice.finish_reason !== null)?.finish_reason
}

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the call to fail')
}

describe('Gemini through the gateway', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway
  const last = (): RecordedRequest & { body: GeminiBody } =>
    upstream.requests.at(-1) as RecordedRequest & { body: GeminiBody }

  before(async () => {
    upstream = await startFakeUpstream(() => {})
    gateway = await startTestGateway(`
# These tests replay upstream failures on one target on purpose: keep its breaker closed.
routing: { circuit_breaker: { failure_threshold: 1000 } }
providers:
  google:
    kind: gemini
    base_url: "${upstream.url}/v1beta"
    api_key: ${apiKey}
    safety_settings: [{ category: HARM_CATEGORY_HARASSMENT, threshold: BLOCK_ONLY_HIGH }]
models:
  - { id: gemini-flash, type: image-text-to-text, route: { provider: google, model: gemini-2.5-flash } }
  - { id: gemini-3-flash, type: image-text-to-text, route: { provider: google, model: gemini-3-flash-preview } }
  - { id: gemini-3-pro, type: image-text-to-text, route: { provider: google, model: gemini-3-pro-preview } }
`)
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('unstreamed chat: path, key header, body, and an OpenAI-shaped answer', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('Hello there!')))
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Hi!' }],
      temperature: 0.4,
    })
    const sent = last()
    assert.equal(sent.path, generatePath)
    assert.equal(sent.headers['x-goog-api-key'], apiKey)
    assert.equal(sent.headers.authorization, undefined)
    assert.deepEqual(sent.body, {
      contents: [{ role: 'user', parts: [{ text: 'Hi!' }] }],
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
      generationConfig: { temperature: 0.4 },
    })
    assert.equal(completion.id, 'chatcmpl-resp-1')
    assert.equal(completion.object, 'chat.completion')
    assert.equal(completion.model, 'gemini-flash')
    assert.deepEqual(completion.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello there!', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ])
    assert.deepEqual(completion.usage, {
      prompt_tokens: 7,
      completion_tokens: 5,
      total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })
  })

  test('streamed chat: role first, words in order, finish, [DONE]; no usage unless asked', async () => {
    upstream.handle((_request, response) => sendEvents(response, streamOf(['Hello', ' world'])))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Hi!' }],
        stream: true,
      }),
    )
    assert.equal(last().path, streamPath)
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant')
    assert.equal(contentOf(chunks), 'Hello world')
    assert.equal(finishOf(chunks), 'stop')
    assert.ok(chunks.every((chunk) => chunk.model === 'gemini-flash' && !chunk.usage))
    assert.ok(chunks.every((chunk) => chunk.id === 'chatcmpl-resp-2'))
  })

  test('streamed chat with include_usage: a final usage chunk with no choices', async () => {
    upstream.handle((_request, response) => sendEvents(response, streamOf(['Hi'])))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Hi!' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    const final = chunks.at(-1)!
    assert.deepEqual(final.choices, [])
    assert.equal(final.usage?.prompt_tokens, 7)
    assert.equal(final.usage?.completion_tokens, 5)
    assert.equal(final.usage?.total_tokens, 12)
    assert.equal(chunks.filter((chunk) => chunk.usage).length, 1)
  })

  test('system and developer prompts and a multi-turn history', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('Paris.')))
    await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
        { role: 'assistant', content: 'Paris.' },
        { role: 'developer', content: 'No punctuation.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    })
    assert.deepEqual(last().body.systemInstruction, {
      parts: [{ text: 'Be brief.' }, { text: 'No punctuation.' }],
    })
    assert.deepEqual(last().body.contents, [
      { role: 'user', parts: [{ text: 'Capital of France?' }] },
      { role: 'model', parts: [{ text: 'Paris.' }] },
      { role: 'user', parts: [{ text: 'And of Italy?' }] },
    ])
  })

  test('an image as a data URL goes inline', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('A red dot.')))
    const pixel =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
          ],
        },
      ],
    })
    assert.equal(completion.choices[0]?.message.content, 'A red dot.')
    assert.deepEqual(last().body.contents[0]?.parts, [
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: pixel } },
    ])
  })

  const weatherTool = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  }

  test('unstreamed: a tool call, then its result sent back by name', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                {
                  functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                  thoughtSignature: 'c2lnbmF0dXJl',
                },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata,
      }),
    )
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris?' },
    ]
    const first = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages,
      tools: [weatherTool],
      tool_choice: 'required',
    })
    assert.deepEqual(last().body.tools, [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather in a city',
            parametersJsonSchema: weatherTool.function.parameters,
          },
        ],
      },
    ])
    assert.deepEqual(last().body.toolConfig, { functionCallingConfig: { mode: 'ANY' } })
    const choice = first.choices[0]!
    assert.equal(choice.finish_reason, 'tool_calls')
    const call = choice.message.tool_calls?.[0]
    assert.ok(call?.type === 'function')
    assert.match(call.id, /^call_/)
    assert.equal(call.function.name, 'get_weather')
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' })

    upstream.handle((_request, response) => sendJson(response, 200, answer('Sunny, 24C.')))
    // The assistant message goes back as received, as SDK users do.
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":24}' })
    const second = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages,
      tools: [weatherTool],
    })
    assert.equal(second.choices[0]?.message.content, 'Sunny, 24C.')
    assert.deepEqual(last().body.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      {
        role: 'model',
        parts: [
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: 'c2lnbmF0dXJl',
          },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { temp: 24 } } }],
      },
    ])
  })

  test('streamed: parallel tool calls arrive whole with their own indexes, results go back merged', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, [
        {
          data: {
            candidates: [
              {
                content: {
                  role: 'model',
                  parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
                },
                index: 0,
              },
            ],
          },
        },
        {
          data: {
            candidates: [
              {
                content: {
                  role: 'model',
                  parts: [{ functionCall: { name: 'get_weather', args: { city: 'Rome' } } }],
                },
                finishReason: 'STOP',
                index: 0,
              },
            ],
            usageMetadata,
          },
        },
      ]),
    )
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Paris and Rome?' }],
        tools: [weatherTool],
        stream: true,
      }),
    )
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
    assert.deepEqual(
      calls.map((call) => [call.index, call.function?.name, call.function?.arguments]),
      [
        [0, 'get_weather', '{"city":"Paris"}'],
        [1, 'get_weather', '{"city":"Rome"}'],
      ],
    )
    assert.equal(finishOf(chunks), 'tool_calls')
    const [paris, rome] = calls.map((call) => call.id!)
    assert.ok(paris && rome && paris !== rome)

    upstream.handle((_request, response) => sendEvents(response, streamOf(['Both sunny.'])))
    const answerChunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        stream: true,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((call) => ({
              id: call.id!,
              type: 'function' as const,
              function: { name: call.function!.name!, arguments: call.function!.arguments! },
            })),
          },
          { role: 'tool', tool_call_id: paris, content: 'sunny' },
          { role: 'tool', tool_call_id: rome, content: 'sunny too' },
        ],
      }),
    )
    assert.equal(contentOf(answerChunks), 'Both sunny.')
    assert.deepEqual(last().body.contents.at(-1), {
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { content: 'sunny' } } },
        { functionResponse: { name: 'get_weather', response: { content: 'sunny too' } } },
      ],
    })
  })

  test('JSON schema output', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('{"city":"Paris"}')))
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    }
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'A city as JSON' }],
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    })
    assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ''), { city: 'Paris' })
    assert.deepEqual(last().body.generationConfig, {
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    })
  })

  test('stop sequences and a max-tokens cut-off, unstreamed and streamed', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, answer('Once upon a', 'MAX_TOKENS')),
    )
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'A story' }],
      max_tokens: 3,
      stop: ['THE END'],
    })
    assert.equal(completion.choices[0]?.finish_reason, 'length')
    assert.deepEqual(last().body.generationConfig, {
      maxOutputTokens: 3,
      stopSequences: ['THE END'],
    })

    upstream.handle((_request, response) =>
      sendEvents(response, streamOf(['Once', ' upon'], 'MAX_TOKENS')),
    )
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'A story' }],
        max_completion_tokens: 2,
        stop: 'THE END',
        stream: true,
      }),
    )
    assert.equal(finishOf(chunks), 'length')
    assert.deepEqual(last().body.generationConfig, {
      maxOutputTokens: 2,
      stopSequences: ['THE END'],
    })
  })

  test('n=2 asks for two candidates and answers with two choices, unstreamed and streamed', async () => {
    upstream.handle((_request, response) =>
      sendJson(response, 200, {
        candidates: [textCandidate('Red', 'STOP', 0), textCandidate('Blue', 'STOP', 1)],
        usageMetadata,
      }),
    )
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'A colour' }],
      n: 2,
    })
    assert.equal(last().body.generationConfig?.candidateCount, 2)
    assert.deepEqual(
      completion.choices.map((choice) => [choice.index, choice.message.content]),
      [
        [0, 'Red'],
        [1, 'Blue'],
      ],
    )

    upstream.handle((_request, response) =>
      sendEvents(response, [
        {
          data: {
            candidates: [textCandidate('Re', undefined, 0), textCandidate('Bl', undefined, 1)],
          },
        },
        {
          data: {
            candidates: [textCandidate('d', 'STOP', 0), textCandidate('ue', 'STOP', 1)],
            usageMetadata,
          },
        },
      ]),
    )
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'A colour' }],
        n: 2,
        stream: true,
      }),
    )
    assert.equal(contentOf(chunks, 0), 'Red')
    assert.equal(contentOf(chunks, 1), 'Blue')
    assert.equal(finishOf(chunks, 0), 'stop')
    assert.equal(finishOf(chunks, 1), 'stop')
  })

  test('reasoning: thought parts come back as reasoning_content, unstreamed and streamed', async () => {
    const thinking = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [{ text: 'Thinking it over.', thought: true }, { text: '42' }],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { ...usageMetadata, thoughtsTokenCount: 20 },
    }
    upstream.handle((_request, response) => sendJson(response, 200, thinking))
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'The answer?' }],
      reasoning_effort: 'medium',
    })
    const message = completion.choices[0]?.message as {
      content: string
      reasoning_content?: string
    }
    assert.equal(message.content, '42')
    assert.equal(message.reasoning_content, 'Thinking it over.')
    assert.equal(completion.usage?.completion_tokens, 25)
    assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 20)
    assert.deepEqual(last().body.generationConfig, {
      thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
    })

    upstream.handle((_request, response) => sendEvents(response, [{ data: thinking }]))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'The answer?' }],
        reasoning_effort: 'medium',
        stream: true,
      }),
    )
    const delta = chunks[0]?.choices[0]?.delta as { reasoning_content?: string; content?: string }
    assert.equal(delta.reasoning_content, 'Thinking it over.')
    assert.equal(delta.content, '42')
  })

  test('reasoning on Gemini 3: reasoning_effort is a thinking level the model takes', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('Done')))
    const levelFor = async (model: string, effort: 'minimal' | 'medium' | 'none') => {
      await gateway.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Think.' }],
        reasoning_effort: effort,
      })
      return last().body.generationConfig
    }
    assert.deepEqual(await levelFor('gemini-3-flash', 'medium'), {
      thinkingConfig: { thinkingLevel: 'MEDIUM', includeThoughts: true },
    })
    assert.deepEqual(await levelFor('gemini-3-flash', 'minimal'), {
      thinkingConfig: { thinkingLevel: 'MINIMAL', includeThoughts: true },
    })
    // Pro takes LOW and HIGH only, and cannot stop thinking.
    assert.deepEqual(await levelFor('gemini-3-pro', 'medium'), {
      thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true },
    })
    assert.deepEqual(await levelFor('gemini-3-pro', 'none'), {
      thinkingConfig: { thinkingLevel: 'LOW' },
    })
  })

  test('a blocked prompt is a content_filter finish, unstreamed and streamed', async () => {
    const blocked = {
      promptFeedback: {
        blockReason: 'SAFETY',
        safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }],
      },
      usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
    }
    upstream.handle((_request, response) => sendJson(response, 200, blocked))
    const completion = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Something dangerous' }],
    })
    assert.equal(completion.choices[0]?.finish_reason, 'content_filter')
    assert.equal(completion.choices[0]?.message.content, null)

    upstream.handle((_request, response) => sendEvents(response, [{ data: blocked }]))
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Something dangerous' }],
        stream: true,
      }),
    )
    assert.equal(finishOf(chunks), 'content_filter')
  })

  test('web search is Google Search grounding; its sources come back as url_citation annotations', async () => {
    const text = 'Spain won Euro 2024 — beating England 2–1 in Berlin.'
    const grounding = {
      webSearchQueries: ['Euro 2024 final result'],
      searchEntryPoint: { renderedContent: '<div>Google Search suggestions</div>' },
      groundingChunks: [
        {
          web: {
            uri: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/a',
            title: 'uefa.com',
          },
        },
        {
          web: {
            uri: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/b',
            title: 'bbc.com',
          },
        },
      ],
      groundingSupports: [
        // Gemini's indices are UTF-8 bytes; the dash takes three.
        {
          segment: { startIndex: 0, endIndex: 19, text: 'Spain won Euro 2024' },
          groundingChunkIndices: [0, 1],
        },
        {
          segment: {
            partIndex: 0,
            startIndex: 24,
            endIndex: 57,
            text: 'beating England 2–1 in Berlin.',
          },
          groundingChunkIndices: [1],
        },
      ],
    }
    const redirect = 'https://vertexaisearch.cloud.google.com/grounding-api-redirect'
    const citation = (source: string, title: string, start: number, end: number) => ({
      type: 'url_citation',
      url_citation: { url: `${redirect}/${source}`, title, start_index: start, end_index: end },
    })
    const expected = [
      citation('a', 'uefa.com', 0, 19),
      citation('b', 'bbc.com', 0, 19),
      citation('b', 'bbc.com', 22, 52),
    ]
    assert.equal(text.slice(22, 52), 'beating England 2–1 in Berlin.')
    upstream.handle((_request, response) =>
      sendJson(response, 200, {
        candidates: [{ ...textCandidate(text, 'STOP'), groundingMetadata: grounding }],
        usageMetadata,
      }),
    )
    const { data, response } = await gateway.client.chat.completions
      .create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Who won Euro 2024?' }],
        web_search_options: { search_context_size: 'medium' },
      })
      .withResponse()
    assert.deepEqual(last().body.tools, [{ googleSearch: {} }])
    assert.equal(response.headers.get('x-switchyard-dropped-params'), null)
    assert.equal(data.choices[0]?.message.content, text)
    assert.deepEqual(data.choices[0]?.message.annotations, expected)

    // Streamed: the citations come with the chunk that carries the metadata, placed in the whole text.
    upstream.handle((_request, response) =>
      sendEvents(response, [
        { data: { candidates: [textCandidate('Spain won Euro 2024 — ')] } },
        {
          data: {
            candidates: [
              {
                ...textCandidate('beating England 2–1 in Berlin.', 'STOP'),
                groundingMetadata: grounding,
              },
            ],
            usageMetadata,
          },
        },
      ]),
    )
    const chunks = await collect(
      await gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Who won Euro 2024?' }],
        web_search_options: {},
        stream: true,
      }),
    )
    const streamed = chunks.flatMap(
      (chunk) =>
        (chunk.choices[0]?.delta as { annotations?: unknown[] } | undefined)?.annotations ?? [],
    )
    assert.deepEqual(streamed, expected)
  })

  test("Claude's cache_control and thinking_blocks are left out and named", async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('ok')))
    const { response } = await gateway.client.chat.completions
      .create({
        model: 'gemini-flash',
        messages: [
          { role: 'system', content: 'Be brief.', cache_control: { type: 'ephemeral' } },
          {
            role: 'user',
            content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }],
          },
          {
            role: 'assistant',
            content: 'Hello',
            thinking_blocks: [{ type: 'thinking', thinking: 't', signature: 's' }],
          },
          { role: 'user', content: 'Again' },
        ],
      } as never)
      .withResponse()
    assert.equal(
      response.headers.get('x-switchyard-dropped-params'),
      'cache_control,thinking_blocks',
    )
    assert.doesNotMatch(JSON.stringify(last().body), /cache_control|thinking_blocks|signature/)
  })

  test('parameters Gemini lacks are dropped and named in a header', async () => {
    upstream.handle((_request, response) => sendJson(response, 200, answer('ok')))
    const { response } = await gateway.client.chat.completions
      .create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: 'Hi' }],
        user: 'user-1',
        logit_bias: { '50256': -100 },
        parallel_tool_calls: false,
        tools: [weatherTool],
      })
      .withResponse()
    assert.equal(
      response.headers.get('x-switchyard-dropped-params'),
      'user,logit_bias,parallel_tool_calls',
    )
    const body = last().body as unknown as Record<string, unknown>
    assert.equal(body.user, undefined)
    assert.equal(body.logit_bias, undefined)
  })

  test('invalid tool call arguments are a 400 naming the param, and nothing goes upstream', async () => {
    const before = upstream.requests.length
    const error = await rejection(
      gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{oops' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'x' },
        ],
      }),
    )
    assert.equal(error.status, 400)
    assert.equal(error.param, 'messages[1].tool_calls[0].function.arguments')
    assert.equal(upstream.requests.length, before)
  })

  const failWith =
    (status: number, body: unknown, headers: Record<string, string> = {}) =>
    (_request: RecordedRequest, response: ServerResponse) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers })
      response.end(JSON.stringify(body))
    }

  const upstreamErrors = [
    {
      name: '429 RESOURCE_EXHAUSTED',
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'Resource has been exhausted (e.g. check quota).',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
        },
      },
      expected: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
      retryAfter: '12',
    },
    {
      name: '500 INTERNAL',
      status: 500,
      body: {
        error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' },
      },
      expected: { status: 502, type: 'upstream_error', code: 'upstream_error' },
    },
    {
      name: '503 UNAVAILABLE',
      status: 503,
      body: {
        error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' },
      },
      expected: { status: 503, type: 'overloaded_error', code: 'upstream_overloaded' },
    },
    {
      name: '400 API_KEY_INVALID',
      status: 400,
      body: {
        error: {
          code: 400,
          message: `API key not valid: ${apiKey}`,
          status: 'INVALID_ARGUMENT',
          details: [
            { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' },
          ],
        },
      },
      expected: { status: 502, type: 'upstream_error', code: 'upstream_auth' },
    },
  ]
  for (const { name, status, body, expected, retryAfter } of upstreamErrors) {
    for (const stream of [false, true]) {
      test(`upstream ${name} (${stream ? 'streamed' : 'unstreamed'})`, async () => {
        upstream.handle(failWith(status, body))
        const error = await rejection(
          gateway.client.chat.completions.create({
            model: 'gemini-flash',
            messages: [{ role: 'user', content: 'Hi' }],
            stream,
          }),
        )
        assert.deepEqual({ status: error.status, type: error.type, code: error.code }, expected)
        assert.doesNotMatch(JSON.stringify(error.error), /AIza/)
        if (retryAfter !== undefined) assert.equal(error.headers?.get('retry-after'), retryAfter)
      })
    }
  }

  test('a stream cut before any finish reason ends in an error event', async () => {
    upstream.handle((_request, response) =>
      sendEvents(response, [{ data: { candidates: [textCandidate('Half a')] } }]),
    )
    const stream = await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })
    const received: ChatCompletionChunk[] = []
    const error = await rejection(
      (async () => {
        for await (const chunk of stream) received.push(chunk)
      })(),
    )
    assert.equal(contentOf(received), 'Half a')
    assert.match(error.message, /ended the stream early/)
  })
})

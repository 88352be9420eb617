/**
 * `kind: mock`: a deterministic model answered in process. It echoes the last user message,
 * streams it word by word and reports usage, so the gateway can be tried and load-tested with no
 * upstream at all. It speaks the OpenAI wire format through an in-process transport, so the
 * request path is the same one a real upstream takes.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import type { ChatRequest } from '../../core/chat.ts'
import type { Transport, UpstreamResponse } from '../../upstream/transport.ts'
import { createOpenAICompatibleAdapter } from '../openai/index.ts'
import type { ProviderDefinition, UpstreamRequest } from '../types.ts'
import { mockReply } from './reply.ts'

const configSchema = z.strictObject({
  kind: z.literal('mock'),
  /** Delay before the first byte, in milliseconds. */
  latency_ms: z.number().int().nonnegative().default(0),
  /** Delay between stream chunks, in milliseconds. */
  chunk_delay_ms: z.number().int().nonnegative().default(0),
})
export type MockProviderConfig = z.infer<typeof configSchema>

const encoder = new TextEncoder()

function createMockTransport(config: MockProviderConfig): Transport {
  return {
    async send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
      if (config.latency_ms > 0) await sleep(config.latency_ms, undefined, { signal })
      const body = JSON.parse(request.body) as ChatRequest
      const reply = mockReply(body, Date.now())
      if (body.stream !== true) {
        const text = JSON.stringify(reply.completion)
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: (async function* () {
            yield encoder.encode(text)
          })(),
          text: async () => text,
        }
      }
      const events = reply.chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
      events.push('data: [DONE]\n\n')
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: (async function* () {
          for (const event of events) {
            if (signal.aborted) return
            if (config.chunk_delay_ms > 0) await sleep(config.chunk_delay_ms, undefined, { signal })
            yield encoder.encode(event)
          }
        })(),
        text: async () => events.join(''),
      }
    },
    close: async () => {},
  }
}

export const mockProvider: ProviderDefinition<MockProviderConfig> = {
  kind: 'mock',
  configSchema,
  createAdapter: () =>
    createOpenAICompatibleAdapter({
      baseUrl: 'http://mock.invalid/v1',
      authHeaders: {},
      streamUsage: true,
      secrets: [],
      label: 'mock',
    }),
  createTransport: createMockTransport,
}

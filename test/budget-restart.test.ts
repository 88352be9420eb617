/**
 * A budget period's spend survives a restart: the limiter seeds it from the usage log in the
 * store, so restarting the gateway is not a way around a budget.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import OpenAI from 'openai'
import { pino } from 'pino'
import { parseConfig } from '../src/config/load.ts'
import { startGateway } from '../src/start.ts'

test('an exhausted budget is still exhausted after a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-budget-'))
  const key = 'sk-test-budget-0123456789abcdef'
  // One token costs 1 unit: the mock's first answer costs more than the whole budget.
  const text = `server: { port: 0, log_level: silent, data_dir: ${JSON.stringify(dataDir)} }
auth:
  keys:
    - { name: capped, key: ${key}, budget: { max_spend: 5, period: day } }
providers: { demo: { kind: mock } }
models:
  - { id: mock-echo, type: text-generation, costs: { prompt_tokens: 1000000, completion_tokens: 1000000 }, route: { provider: demo } }
`
  const start = () =>
    startGateway({
      config: parseConfig(text, 'budget.yaml', {}),
      logger: pino({ level: 'silent' }),
    })
  const ask = (client: OpenAI) =>
    client.chat.completions.create({
      model: 'mock-echo',
      messages: [{ role: 'user', content: 'one two three' }],
    })

  const first = await start()
  const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: key, maxRetries: 0 })
  await ask(client)
  await assert.rejects(
    ask(client),
    (error) => error instanceof OpenAI.RateLimitError && error.code === 'insufficient_quota',
  )
  await first.stop(1000)

  const second = await start()
  try {
    const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: key, maxRetries: 0 })
    await assert.rejects(
      ask(again),
      (error) => error instanceof OpenAI.RateLimitError && error.code === 'insufficient_quota',
    )
  } finally {
    await second.stop(1000)
  }
})

/** `GET /metrics` after real traffic: counters and histograms carry the right labels and values. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { apiError } from './helpers/api-error.ts'
import { type FakeUpstream, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { startTestGateway, type TestGateway, testKey } from './helpers/gateway.ts'

/** Prometheus text format: `name{a="1",b="2"} value` lines, labels sorted for lookup. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(match, `unparsable line: ${line}`)
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}=${value}`)
      .sort()
    samples.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]))
  }
  return samples
}

function sample(samples: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  const key = `${name}{${Object.entries(labels)
    .map(([label, value]) => `${label}=${value}`)
    .sort()
    .join(',')}}`
  return samples.get(key)
}

const carol = 'sk-test-carol-rpm-0123456789'

describe('Prometheus metrics', () => {
  let upstream: FakeUpstream
  let gateway: TestGateway

  const scrape = async (path = '/metrics', headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.url}${path}`, { headers })
    return { response, text: await response.text() }
  }

  before(async () => {
    upstream = await startFakeUpstream((_request, response) =>
      sendJson(response, 500, { error: { message: 'boom', type: 'server_error' } }),
    )
    gateway = await startTestGateway(
      `
providers:
  upstream: { kind: openai, base_url: "${upstream.url}/v1", api_key: sk-upstream-secret-123456 }
  demo: { kind: mock }
  slow: { kind: mock, chunk_delay_ms: 40 }
models:
  - { id: mock-echo, type: text-generation, costs: { prompt_tokens: 1000, completion_tokens: 2000 }, route: { provider: demo } }
  - { id: mock-slow, type: text-generation, route: { provider: slow } }
  - { id: broken, type: text-generation, route: { provider: upstream } }
`,
      {},
      { keys: [`{ name: carol, key: ${carol}, limits: { rpm: 1 } }`] },
    )
  })
  after(async () => {
    await gateway.stop(0)
    await upstream.close()
  })

  test('requests, latency, first token, tokens, cost, upstream errors and rejections', async () => {
    const messages = [{ role: 'user' as const, content: 'count these five words' }]
    let prompt = 0
    let completion = 0
    for (const client of [gateway.client, gateway.client, gateway.clientFor(carol)]) {
      const data = await client.chat.completions.create({ model: 'mock-echo', messages })
      prompt += data.usage?.prompt_tokens ?? 0
      completion += data.usage?.completion_tokens ?? 0
    }
    const stream = await gateway.client.chat.completions.create({
      model: 'mock-echo',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })
    for await (const chunk of stream) {
      prompt += chunk.usage?.prompt_tokens ?? 0
      completion += chunk.usage?.completion_tokens ?? 0
    }
    assert.ok(prompt > 0 && completion > 0)
    assert.equal(
      (
        await apiError(
          gateway.clientFor(carol).chat.completions.create({ model: 'mock-echo', messages }),
        )
      ).status,
      429,
    )
    assert.equal(
      (await apiError(gateway.client.chat.completions.create({ model: 'broken', messages })))
        .status,
      502,
    )
    const secretModel = 'client-chosen-model-name-7f3a'
    assert.equal(
      (await apiError(gateway.client.chat.completions.create({ model: secretModel, messages })))
        .status,
      404,
    )

    const { response, text } = await scrape()
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    assert.ok(!text.includes(secretModel), 'raw client input never becomes a label')
    assert.ok(!text.includes('carol') && !text.includes(testKey), 'no key names or secrets')
    const samples = parseMetrics(text)
    const echo = { model: 'mock-echo', provider: 'demo' }
    assert.equal(sample(samples, 'switchyard_requests_total', { ...echo, status: '200' }), 4)
    assert.equal(sample(samples, 'switchyard_requests_total', { ...echo, status: '429' }), 1)
    assert.equal(
      sample(samples, 'switchyard_requests_total', {
        model: 'broken',
        provider: 'upstream',
        status: '502',
      }),
      1,
    )
    assert.equal(
      sample(samples, 'switchyard_requests_total', {
        model: 'none',
        provider: 'none',
        status: '404',
      }),
      1,
    )
    assert.equal(
      sample(samples, 'switchyard_request_duration_seconds_count', { ...echo, stream: 'false' }),
      4,
    )
    assert.equal(
      sample(samples, 'switchyard_request_duration_seconds_count', { ...echo, stream: 'true' }),
      1,
    )
    assert.equal(
      sample(samples, 'switchyard_request_duration_seconds_bucket', {
        ...echo,
        stream: 'true',
        le: '+Inf',
      }),
      1,
    )
    assert.ok(
      (sample(samples, 'switchyard_request_duration_seconds_sum', { ...echo, stream: 'false' }) ??
        0) > 0,
    )
    assert.equal(sample(samples, 'switchyard_time_to_first_token_seconds_count', echo), 1)
    assert.equal(sample(samples, 'switchyard_prompt_tokens_total', echo), prompt)
    assert.equal(sample(samples, 'switchyard_completion_tokens_total', echo), completion)
    const cost = sample(samples, 'switchyard_cost_total', echo) ?? 0
    assert.ok(Math.abs(cost - (prompt * 1000 + completion * 2000) / 1e6) < 1e-9, `cost ${cost}`)
    assert.equal(
      sample(samples, 'switchyard_upstream_errors_total', {
        provider: 'upstream',
        code: 'upstream_error',
      }),
      1,
    )
    assert.ok(!text.includes('code="rate_limit_exceeded"'), 'our own 429 is not an upstream error')
    assert.equal(sample(samples, 'switchyard_limiter_rejections_total', { kind: 'rpm' }), 1)
    assert.equal(sample(samples, 'switchyard_in_flight_streams'), 0)
    assert.ok(sample(samples, 'process_cpu_user_seconds_total') !== undefined)
  })

  test('in-flight requests and streams are gauges read while a stream is open', async () => {
    const stream = await gateway.client.chat.completions.create({
      model: 'mock-slow',
      messages: [{ role: 'user', content: 'a slow answer of several words' }],
      stream: true,
    })
    const iterator = stream[Symbol.asyncIterator]()
    await iterator.next()
    const during = parseMetrics((await scrape()).text)
    assert.equal(sample(during, 'switchyard_in_flight_streams'), 1)
    // The open stream and the scrape itself.
    assert.equal(sample(during, 'switchyard_in_flight_requests'), 2)
    while (!(await iterator.next()).done) {}
    let streams: number | undefined
    for (let attempt = 0; attempt < 40; attempt++) {
      streams = sample(parseMetrics((await scrape()).text), 'switchyard_in_flight_streams')
      if (streams === 0) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    assert.equal(streams, 0)
  })
})

describe('metrics settings', () => {
  test('require_key and a custom path; the default path is then not served', async () => {
    const gateway = await startTestGateway(
      'providers: {}\n',
      {},
      {
        server: 'metrics: { path: /internal/metrics, require_key: true }',
      },
    )
    try {
      const url = `${gateway.url}/internal/metrics`
      assert.equal((await fetch(url)).status, 401)
      const authorized = await fetch(url, { headers: { authorization: `Bearer ${testKey}` } })
      assert.equal(authorized.status, 200)
      assert.match(await authorized.text(), /switchyard_requests_total/)
      assert.equal((await fetch(`${gateway.url}/metrics`)).status, 404)
    } finally {
      await gateway.stop(0)
    }
  })

  test('enabled: false serves no metrics', async () => {
    const gateway = await startTestGateway(
      'providers: {}\n',
      {},
      {
        server: 'metrics: { enabled: false }',
      },
    )
    try {
      assert.equal(gateway.gateway.metrics, undefined)
      assert.equal((await fetch(`${gateway.url}/metrics`)).status, 404)
    } finally {
      await gateway.stop(0)
    }
  })
})

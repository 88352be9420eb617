import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import OpenAI from 'openai'
import { runCli, serve } from './helpers/cli.ts'
import { sendEvents, sendJson, startFakeUpstream } from './helpers/fake-upstream.ts'
import { completion, streamEvents } from './helpers/openai-fixtures.ts'

const projectKey = 'test-key-0123456789abcdef'

/** A working directory whose ./switchyard.yaml routes model `m` to the upstream, with one key. */
function upstreamProject(upstreamUrl: string): string {
  const cwd = tempDir()
  writeFileSync(
    join(cwd, 'switchyard.yaml'),
    `auth: { keys: [ { name: t, key: ${projectKey} } ] }
providers: { up: { kind: openai, base_url: "${upstreamUrl}/v1" } }
models: [ { id: m, type: text-generation, route: { provider: up } } ]
`,
  )
  return cwd
}

/** Answers `pong`, or streams one, two, three, four 150 ms apart: time to act mid-stream. */
function startSlowStreamUpstream() {
  return startFakeUpstream((request, response) => {
    if ((request.body as { stream?: boolean }).stream !== true) {
      sendJson(response, 200, completion('m', 'pong'))
      return
    }
    return sendEvents(response, streamEvents('m', ['one', 'two', 'three', 'four'], true), {
      delayMs: 150,
    })
  })
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-cli-'))
}

describe('switchyard check', () => {
  test('a valid config passes with exit code 0, interpolating the environment', () => {
    const dir = tempDir()
    const file = join(dir, 'switchyard.yaml')
    writeFileSync(
      file,
      `server: { host: 127.0.0.1, port: "\${PORT:-8090}" }
auth:
  keys:
    - { name: alice, key: "\${ALICE_KEY}", models: ["*"] }
providers:
  vllm: { kind: openai, base_url: "http://127.0.0.1:8000/v1", api_key: "\${VLLM_KEY:-}" }
  demo: { kind: mock }
models:
  - id: albert-small
    type: text-generation
    aliases: [small]
    max_context_length: 32768
    costs: { prompt_tokens: 0.15, completion_tokens: 0.6 }
    route: { provider: vllm, model: meta-llama/Llama-3.1-8B-Instruct }
`,
    )
    const result = runCli(['check', '--config', file], {
      env: { ALICE_KEY: 'alice-secret-0123456789' },
    })
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /valid \(2 providers, 1 models, 1 keys\)/)
  })

  test('a broken config prints every problem with its path and line, exit code 2', () => {
    const dir = tempDir()
    const file = join(dir, 'broken.yaml')
    writeFileSync(
      file,
      `server:
  port: eighty
  colour: blue
auth:
  keys:
    - { name: alice, key: "\${MISSING_KEY_VAR}" }
providers:
  vllm: { kind: openia, base_url: "http://127.0.0.1:8000/v1" }
  ok: { kind: openai, base_url: "not a url" }
models:
  - { id: small, type: text-generation, route: { provider: nowhere } }
  - { id: small, type: chat, route: { provider: ok } }
`,
    )
    const result = runCli(['check', '--config', file], { env: { MISSING_KEY_VAR: '' } })
    assert.equal(result.status, 2)
    const expected = [
      /server\.port \(line 2:\d+\): .*number/i,
      /server\.colour|Unrecognized key.*colour/,
      /auth\.keys\[0\]\.key \(line 6:\d+\): environment variable MISSING_KEY_VAR is not set/,
      /providers\.vllm\.kind \(line 8:\d+\)/,
      /providers\.ok\.base_url \(line 9:\d+\)/,
      /models\[0\]\.route\.provider \(line 11:\d+\): unknown provider "nowhere"/,
      /models\[1\]\.type \(line 12:\d+\)/,
    ]
    for (const pattern of expected) assert.match(result.stderr, pattern)
  })

  test('a missing file and a YAML syntax error are reported, exit code 2', () => {
    assert.equal(runCli(['check', '--config', '/nonexistent/switchyard.yaml']).status, 2)
    const dir = tempDir()
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'providers: { demo: { kind: mock }\nmodels: [\n')
    const result = runCli(['check', '--config', file])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /line \d+:\d+/)
  })
})

describe('switchyard serve', () => {
  test('the embedded default generates a key once, stores it 0600, and serves the mock model with it', async () => {
    const cwd = tempDir()
    const first = await serve(['--port', '0'], {
      cwd,
      env: { OPENAI_API_KEY: '', SWITCHYARD_API_KEY: '' },
    })
    try {
      const key = readFileSync(join(cwd, 'data/default-key'), 'utf8').trim()
      assert.ok(first.stderr().includes(key), 'the generated key is printed on first start')
      assert.equal(statSync(join(cwd, 'data/default-key')).mode & 0o777, 0o600)
      assert.ok(!first.stdout().includes(key), 'the key is never in the logs')
      const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: key, maxRetries: 0 })
      const models = (await client.models.list()).data as unknown as { id: string; type: string }[]
      const model = models.find((entry) =>
        ['text-generation', 'image-text-to-text'].includes(entry.type),
      )!.id
      const reply = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hi!' }],
      })
      assert.equal(reply.choices[0]?.message.content, 'Hi!')
      const open = new OpenAI({
        baseURL: `${first.url}/v1`,
        apiKey: 'guess-0123456789abcdef',
        maxRetries: 0,
      })
      await assert.rejects(open.models.list(), OpenAI.AuthenticationError)
    } finally {
      first.child.kill('SIGTERM')
      assert.equal(await first.exited, 0)
    }
    const second = await serve(['--port', '0'], {
      cwd,
      env: { OPENAI_API_KEY: '', SWITCHYARD_API_KEY: '' },
    })
    second.child.kill('SIGTERM')
    await second.exited
    assert.ok(!second.stderr().includes('generated an API key'), 'shown once only')
  })

  test('serve starts itself again in place with 16 MB semi-spaces and two malloc arenas; what the user set is kept', async () => {
    const procList = (pid: number | undefined, file: 'cmdline' | 'environ') =>
      readFileSync(`/proc/${pid}/${file}`, 'utf8')
        .split('\0')
        .filter((part) => part !== '')
    const capped = await serve(['--port', '0'], { cwd: tempDir() })
    try {
      // The same process (the pid the test spawned) now runs with both, and still serves.
      assert.ok(procList(capped.child.pid, 'cmdline').includes('--max-semi-space-size=16'))
      assert.ok(procList(capped.child.pid, 'environ').includes('MALLOC_ARENA_MAX=2'))
      assert.equal((await fetch(`${capped.url}/health`)).status, 200)
    } finally {
      capped.child.kill('SIGTERM')
      assert.equal(await capped.exited, 0)
    }
    const chosen = await serve(['--port', '0'], {
      cwd: tempDir(),
      env: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '4' },
    })
    try {
      const args = procList(chosen.child.pid, 'cmdline')
      assert.ok(!args.some((part) => part.startsWith('--max-semi-space-size')), args.join(' '))
      const environment = procList(chosen.child.pid, 'environ')
      assert.ok(environment.includes('MALLOC_ARENA_MAX=4'))
      assert.ok(!environment.includes('MALLOC_ARENA_MAX=2'))
      assert.equal((await fetch(`${chosen.url}/health`)).status, 200)
    } finally {
      chosen.child.kill('SIGTERM')
      assert.equal(await chosen.exited, 0)
    }
  })

  test('SIGTERM stops accepting, lets a live stream finish, then exits 0', async () => {
    const upstream = await startFakeUpstream((_request, response) =>
      sendEvents(response, streamEvents('m', ['one', 'two', 'three', 'four', 'five'], true), {
        delayMs: 150,
      }),
    )
    const cwd = upstreamProject(upstream.url)
    // No --config: ./switchyard.yaml in the working directory is used.
    const server = await serve(['--port', '0'], { cwd })
    try {
      const client = new OpenAI({
        baseURL: `${server.url}/v1`,
        apiKey: projectKey,
        maxRetries: 0,
      })
      const stream = await client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      })
      const words: string[] = []
      let signalled = false
      for await (const part of stream) {
        words.push(part.choices[0]?.delta.content ?? '')
        if (!signalled) {
          signalled = true
          server.child.kill('SIGTERM')
          await new Promise((resolve) => setTimeout(resolve, 50))
          await assert.rejects(
            fetch(`${server.url}/health`),
            'new connections are refused while draining',
          )
        }
      }
      assert.equal(words.join(''), 'onetwothreefourfive')
      assert.equal(await server.exited, 0)
      assert.match(server.stdout(), /"signal":"SIGTERM"/)
    } finally {
      server.child.kill('SIGKILL')
      await upstream.close()
    }
  })
  test('--workers 2: both workers serve, SIGTERM drains their live streams, exit code 0', async () => {
    const upstream = await startSlowStreamUpstream()
    const cwd = upstreamProject(upstream.url)
    const server = await serve(['--port', '0', '--workers', '2'], { cwd })
    try {
      const deadline = Date.now() + 15_000
      while (server.stdout().match(/listening on/g)?.length !== 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const listening = [...server.stdout().matchAll(/listening on (http:\/\/[^"\s]+)/g)]
      assert.deepEqual(
        listening.map((match) => match[1]),
        [server.url, server.url],
        'two workers listen on the same port',
      )
      assert.match(server.stdout(), /rate limits, budgets and the response cache are per worker/)
      const client = () =>
        new OpenAI({
          baseURL: `${server.url}/v1`,
          apiKey: projectKey,
          maxRetries: 0,
        })
      const request = { model: 'm', messages: [{ role: 'user' as const, content: 'ping' }] }
      // Concurrent requests use separate connections, which the primary hands out round-robin.
      const replies = await Promise.all(
        [1, 2, 3, 4].map(() => client().chat.completions.create(request)),
      )
      for (const reply of replies) assert.equal(reply.choices[0]?.message.content, 'pong')
      // Each scrape lands on one worker (new connections go round-robin) and counts all four.
      for (let scrape = 0; scrape < 3; scrape++) {
        const metrics = await (await fetch(`${server.url}/metrics`)).text()
        const requests = /^switchyard_requests_total\{[^}]*status="200"[^}]*\} (\d+)$/m.exec(
          metrics,
        )
        assert.equal(requests?.[1], '4', metrics.slice(0, 2000))
        assert.match(metrics, /^switchyard_request_duration_seconds_count\{[^}]*\} 4$/m)
      }
      const streams = await Promise.all(
        [1, 2].map(() => client().chat.completions.create({ ...request, stream: true })),
      )
      const texts = streams.map(async (stream, index) => {
        let text = ''
        for await (const part of stream) {
          text += part.choices[0]?.delta.content ?? ''
          if (index === 0 && text === 'one') server.child.kill('SIGTERM')
        }
        return text
      })
      assert.deepEqual(await Promise.all(texts), ['onetwothreefour', 'onetwothreefour'])
      assert.equal(await server.exited, 0)
      assert.match(server.stdout(), /"msg":"all workers stopped"/)
      assert.equal(server.stdout().match(/Switchyard stopped/g)?.length, 2, 'each worker drained')
    } finally {
      server.child.kill('SIGKILL')
      await upstream.close()
    }
  })

  test('SIGHUP reloads the config: new workers start, old ones finish their streams, a bad config is refused', async () => {
    const upstream = await startSlowStreamUpstream()
    const cwd = upstreamProject(upstream.url)
    const file = join(cwd, 'switchyard.yaml')
    const server = await serve(['--port', '0', '--workers', '1'], { cwd })
    const waitFor = async (pattern: RegExp, count = 1) => {
      const deadline = Date.now() + 15_000
      while ((server.stdout().match(new RegExp(pattern, 'g'))?.length ?? 0) < count) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${server.stdout()}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    // A new client per call: a new connection, which goes to a worker still accepting.
    const client = () =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey: projectKey, maxRetries: 0 })
    const modelIds = async () => (await client().models.list()).data.map((model) => model.id)
    try {
      assert.deepEqual(await modelIds(), ['m'])
      const stream = await client().chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'ping' }],
        stream: true,
      })
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          'models: [ { id: m,',
          'models: [ { id: m2, type: text-generation, route: { provider: up } }, { id: m,',
        ),
      )
      writeFileSync(join(cwd, 'switchyard.yaml.ok'), readFileSync(file, 'utf8'))
      server.child.kill('SIGHUP')
      let text = ''
      for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
      assert.equal(text, 'onetwothreefour', 'the old worker finished its stream')
      await waitFor(/"msg":"config reloaded"/)
      await waitFor(/Switchyard stopped/)
      assert.deepEqual((await modelIds()).sort(), ['m', 'm2'])

      writeFileSync(file, 'models: [ { id: broken } ]\n')
      server.child.kill('SIGHUP')
      await waitFor(/config reload refused/)
      assert.deepEqual((await modelIds()).sort(), ['m', 'm2'], 'the workers keep their config')

      // A config that loads but whose workers cannot start (their store is unreachable).
      writeFileSync(
        file,
        `${readFileSync(join(cwd, 'switchyard.yaml.ok'), 'utf8')}store: { url: "postgres://127.0.0.1:1/none" }\n`,
      )
      server.child.kill('SIGHUP')
      await waitFor(/failed to start; the old workers keep serving/)
      assert.deepEqual((await modelIds()).sort(), ['m', 'm2'])

      server.child.kill('SIGTERM')
      assert.equal(await server.exited, 0)
    } finally {
      server.child.kill('SIGKILL')
      await upstream.close()
    }
  })
})

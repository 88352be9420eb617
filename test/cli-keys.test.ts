import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import OpenAI from 'openai'
import { pino } from 'pino'
import { parseConfig } from '../src/config/load.ts'
import { startGateway } from '../src/start.ts'
import { runCli } from './helpers/cli.ts'
import { storeEngines } from './helpers/store-engines.ts'

const modelsYaml = `providers:
  demo: { kind: mock }
models:
  - { id: mock-echo, type: text-generation, route: { provider: demo } }
`

for (const engine of storeEngines()) {
  describe(`switchyard keys on ${engine.name}`, { skip: engine.skip }, () => {
    after(() => engine.cleanup())

    test('create, list, show, update, revoke over the store that serve uses', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-keys-'))
      const file = join(dir, 'switchyard.yaml')
      const configText = `server: { host: 127.0.0.1, port: 0, log_level: silent, data_dir: ${JSON.stringify(dir)} }
store: { url: ${JSON.stringify(await engine.create())} }
${modelsYaml}`
      writeFileSync(file, configText)
      const cli = (...args: string[]) => runCli(['keys', ...args, '--config', file])

      const created = cli(
        'create',
        '--name',
        'batch-jobs',
        '--models',
        'mock*,albert-*',
        '--rpm',
        '30',
        '--max-spend',
        '12.5',
        '--period',
        'month',
        '--expires-at',
        '2099-01-01T00:00:00Z',
        '--label',
        'team=search',
        '--label',
        'env=prod',
        '--json',
      )
      assert.equal(created.status, 0, created.stderr)
      const key = JSON.parse(created.stdout) as Record<string, unknown>
      assert.match(String(key.key), /^sy-/)
      assert.deepEqual(key.models, ['mock*', 'albert-*'])
      assert.deepEqual(key.limits, { rpm: 30 })
      assert.deepEqual(key.budget, { max_spend: 12.5, period: 'month' })
      assert.equal(key.expires_at, '2099-01-01T00:00:00.000Z')
      assert.deepEqual(key.labels, { team: 'search', env: 'prod' })
      const secret = String(key.key)
      const id = String(key.id)

      // The key the CLI made works on a gateway started from the same config.
      const running = await startGateway({
        config: parseConfig(configText, file, {}),
        logger: pino({ level: 'silent' }),
      })
      try {
        const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: secret, maxRetries: 0 })
        const answer = await client.chat.completions.create({
          model: 'mock-echo',
          messages: [{ role: 'user', content: 'from the CLI' }],
        })
        assert.equal(answer.choices[0]?.message.content, 'from the CLI')
      } finally {
        await running.stop(0)
      }

      const human = cli('create', '--name', 'human')
      assert.equal(human.status, 0, human.stderr)
      assert.match(human.stdout, /shown only now/)
      assert.match(human.stdout, /\n {4}sy-[A-Za-z0-9_-]{43}\n/)

      const list = cli('list', '--json')
      assert.equal(list.status, 0, list.stderr)
      const names = (JSON.parse(list.stdout).data as { name: string }[]).map((item) => item.name)
      assert.deepEqual(names, ['batch-jobs', 'human'])
      assert.ok(!list.stdout.includes(secret), 'list never shows a secret')
      const listText = cli('list')
      assert.match(listText.stdout, new RegExp(`${id}\\s+batch-jobs\\s+${secret.slice(0, 10)}`))

      const shown = cli('show', id, '--json')
      assert.equal(JSON.parse(shown.stdout).name, 'batch-jobs')
      assert.ok(!shown.stdout.includes(secret))

      const updated = cli('update', id, '--name', 'nightly', '--no-limits', '--json')
      assert.equal(updated.status, 0, updated.stderr)
      const after = JSON.parse(updated.stdout) as Record<string, unknown>
      assert.equal(after.name, 'nightly')
      assert.equal(after.limits, null)
      assert.deepEqual(after.budget, { max_spend: 12.5, period: 'month' })

      const revoked = cli('revoke', id, '--json')
      assert.equal(revoked.status, 0, revoked.stderr)
      assert.equal(typeof JSON.parse(revoked.stdout).revoked_at, 'string')
      const remaining = JSON.parse(cli('list', '--json').stdout).data as { id: string }[]
      assert.ok(!remaining.some((item) => item.id === id))
      const everything = JSON.parse(cli('list', '--all', '--json').stdout).data as { id: string }[]
      assert.ok(everything.some((item) => item.id === id))

      const missing = cli('show', 'key_nope')
      assert.equal(missing.status, 1)
      assert.match(missing.stderr, /No key with id key_nope/)
    })
  })
}

describe('switchyard keys usage errors', () => {
  test('bad flags are reported by flag, exit code 2, and create no database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-keys-'))
    const file = join(dir, 'switchyard.yaml')
    const dbFile = join(dir, 'keys.db')
    writeFileSync(file, `store: { url: "sqlite:${dbFile}" }\n${modelsYaml}`)
    const badPeriod = runCli([
      'keys',
      'create',
      '--name',
      'x',
      '--max-spend',
      '5',
      '--period',
      'week',
      '--config',
      file,
    ])
    assert.equal(badPeriod.status, 2)
    assert.match(badPeriod.stderr, /--period/)
    const noName = runCli(['keys', 'create', '--config', file])
    assert.equal(noName.status, 2)
    assert.match(noName.stderr, /--name/)
    const badRpm = runCli(['keys', 'create', '--name', 'x', '--rpm', 'lots', '--config', file])
    assert.equal(badRpm.status, 2)
    assert.match(badRpm.stderr, /--rpm must be a number/)
    const noId = runCli(['keys', 'show', '--config', file])
    assert.equal(noId.status, 2)
    assert.match(noId.stderr, /switchyard keys create/)
    assert.equal(existsSync(dbFile), false, 'no database was created by failed commands')
    const empty = runCli(['keys', 'list', '--config', file])
    assert.equal(empty.status, 0, empty.stderr)
    assert.match(empty.stdout, /No stored keys/)
    assert.equal(existsSync(dbFile), true)
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parse } from 'yaml'
import { flattenStrings, joinFlat } from './flat-string.ts'

describe('flat strings', () => {
  test('joinFlat joins two strings', () => {
    assert.equal(
      joinFlat('chatcmpl-', 'msg_01XFDUDYJgAACzvnptvVoYEL'),
      'chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL',
    )
    assert.equal(joinFlat('', ''), '')
  })

  test('flattenStrings copies parsed YAML whole: nesting, arrays, scalars and non-ASCII text', () => {
    const parsed: unknown = parse(
      [
        'providers:',
        '  claude: { kind: anthropic, base_url: "https://api.anthropic.com", timeout_ms: 30000 }',
        'models:',
        '  - { id: claude-sonnet-4-5-long-name, route: { provider: claude }, enabled: true, note: null }',
        '  - id: "modèle-à-l’accent 🚀"',
        '    tags: [a, b, 3]',
      ].join('\n'),
    )
    const copy = flattenStrings(parsed)
    assert.deepEqual(copy, parsed)
    assert.notEqual(copy, parsed)
  })
})

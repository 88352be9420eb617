import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createAddressPolicy,
  isReservedAddress,
  parseAllowEntry,
} from '../src/upstream/address-policy.ts'
import { imageFetchConfigSchema } from '../src/upstream/image-fetch-config.ts'

// Checked only, never fetched.
const refused = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback range'],
  ['10.1.2.3', 'private 10/8'],
  ['172.16.0.1', 'private 172.16/12'],
  ['172.31.255.255', 'private 172.16/12, top'],
  ['192.168.1.1', 'private 192.168/16'],
  ['169.254.169.254', 'cloud metadata (link-local)'],
  ['169.254.1.1', 'link-local'],
  ['168.63.129.16', 'Azure wire server'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['100.100.100.200', 'Alibaba metadata (CGNAT range)'],
  ['192.0.0.192', 'Oracle metadata (IETF assignments)'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', '"this network"'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast (SSDP)'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['198.18.0.1', 'benchmarking'],
  ['::1', 'IPv6 loopback'],
  ['::', 'IPv6 unspecified'],
  ['fc00::1', 'unique local'],
  ['fd00:ec2::254', 'AWS IPv6 metadata (unique local)'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local with a zone'],
  ['ff02::1', 'IPv6 multicast'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback (dotted)'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback (hex)'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped private, uncompressed'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['64:ff9b::7f00:1', 'NAT64 of loopback'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
  ['2002:7f00:1::1', '6to4'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['not-an-ip', 'not an address'],
] as const

const allowed = [
  ['8.8.8.8', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['172.32.0.1', 'just outside 172.16/12'],
  ['100.128.0.1', 'just outside CGNAT'],
  ['169.255.0.1', 'just outside link-local'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2001:4860:4860::8888', 'public IPv6'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['64:ff9b::808:808', 'NAT64 of a public address'],
] as const

describe('address policy: which addresses an image URL may reach', () => {
  for (const [address, what] of refused) {
    test(`refuses ${address} (${what})`, () => {
      assert.equal(isReservedAddress(address), true)
      assert.equal(createAddressPolicy([]).allowsAddress(address), false)
    })
  }
  for (const [address, what] of allowed) {
    test(`allows ${address} (${what})`, () => {
      assert.equal(isReservedAddress(address), false)
      assert.equal(createAddressPolicy([]).allowsAddress(address), true)
    })
  }

  test('the operator allows hosts, addresses and subnets, and nothing more', () => {
    const policy = createAddressPolicy([
      '127.0.0.1',
      '10.20.0.0/16',
      'Images.Internal.',
      'fd00::/8',
    ])
    assert.equal(policy.allowsAddress('127.0.0.1'), true)
    assert.equal(policy.allowsAddress('::ffff:127.0.0.1'), true)
    assert.equal(policy.allowsAddress('127.0.0.2'), false)
    assert.equal(policy.allowsAddress('::1'), false)
    assert.equal(policy.allowsAddress('10.20.3.4'), true)
    assert.equal(policy.allowsAddress('10.21.0.1'), false)
    assert.equal(policy.allowsAddress('fd12::1'), true)
    assert.equal(policy.allowsAddress('fc00::1'), false)
    assert.equal(policy.allowsAddress('169.254.169.254'), false)
    assert.equal(policy.allowsHost('images.internal'), true)
    assert.equal(policy.allowsHost('IMAGES.INTERNAL.'), true)
    assert.equal(policy.allowsHost('other.internal'), false)
  })

  test('allow entries are validated where the config is read', () => {
    for (const entry of ['localhost', '192.168.0.10', '10.0.0.0/8', '::1', '[::1]', 'fd00::/8']) {
      assert.ok(parseAllowEntry(entry), entry)
    }
    for (const entry of ['10.0.0.0/33', 'not a host', 'http://x', '10.0.0.0/x', '']) {
      assert.equal(parseAllowEntry(entry), undefined, entry)
    }
    const result = imageFetchConfigSchema.safeParse({
      allow_private_hosts: ['ok.internal', '1.2.3.4/99'],
    })
    assert.equal(result.success, false)
    assert.deepEqual(result.error?.issues[0]?.path, ['allow_private_hosts', 1])
    assert.deepEqual(imageFetchConfigSchema.parse(undefined), {
      max_bytes: 20 * 1024 * 1024,
      timeout_ms: 10_000,
      max_redirects: 3,
      allow_private_hosts: [],
    })
  })
})

/**
 * Which network addresses the gateway may fetch from on a client's behalf. A client-supplied URL
 * must never reach the gateway's own host, its private network or a cloud metadata service, so
 * every loopback, private, link-local, unique-local, multicast, unspecified, reserved and metadata
 * address is refused, IPv4 and IPv6 alike, including IPv4 addresses embedded in IPv6 ones. The
 * operator can allow named hosts, addresses or subnets (an internal image store).
 */
import { BlockList, isIP } from '../core/builtins.ts'

const reservedIpv4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", with the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT; Alibaba's metadata service is 100.100.100.200
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local; AWS, GCP and Azure metadata at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments; Oracle's metadata is 192.0.0.192
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, with the broadcast address
]
// Azure's host-internal wire server sits at a public-looking address.
const metadataIpv4 = ['168.63.129.16']

const reservedIpv6: readonly [string, number][] = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 32], // Teredo tunnels hide the IPv4 address they reach
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4 tunnels, likewise
  ['fc00::', 7], // unique local; AWS's IPv6 metadata is fd00:ec2::254
  ['fe80::', 10], // link-local
  ['fec0::', 10], // the old site-local range
  ['ff00::', 8], // multicast
]

const reserved = new BlockList()
for (const [network, prefix] of reservedIpv4) reserved.addSubnet(network, prefix, 'ipv4')
for (const address of metadataIpv4) reserved.addAddress(address, 'ipv4')
for (const [network, prefix] of reservedIpv6) reserved.addSubnet(network, prefix, 'ipv6')

/** True for every address a client-supplied URL must not reach. `address` is an IP literal. */
export function isReservedAddress(address: string): boolean {
  const plain = withoutZone(address)
  const family = isIP(plain)
  if (family === 0) return true
  if (family === 4) return reserved.check(plain, 'ipv4')
  const embedded = embeddedIpv4(plain)
  if (embedded !== undefined) return reserved.check(embedded, 'ipv4')
  return reserved.check(plain, 'ipv6')
}

export interface AddressPolicy {
  /** The operator listed this host name: whatever it resolves to may be fetched. */
  allowsHost(hostname: string): boolean
  /** `address` (an IP literal) is public, or inside an address or subnet the operator listed. */
  allowsAddress(address: string): boolean
}

export function createAddressPolicy(allowPrivateHosts: readonly string[]): AddressPolicy {
  const hosts = new Set<string>()
  const allowed = new BlockList()
  for (const entry of allowPrivateHosts) {
    const rule = parseAllowEntry(entry)
    if (rule === undefined) throw new Error(`Not a host, address or subnet: ${entry}`)
    if (rule.type === 'host') hosts.add(rule.host)
    else if (rule.type === 'address') allowed.addAddress(rule.address, rule.family)
    else allowed.addSubnet(rule.network, rule.prefix, rule.family)
  }
  return {
    allowsHost: (hostname) => hosts.has(normalizeHost(hostname)),
    allowsAddress(address) {
      const plain = withoutZone(address)
      const family = isIP(plain)
      const embedded = family === 6 ? embeddedIpv4(plain) : undefined
      if (embedded !== undefined && allowed.check(embedded, 'ipv4')) return true
      if (family !== 0 && allowed.check(plain, family === 4 ? 'ipv4' : 'ipv6')) return true
      return !isReservedAddress(plain)
    },
  }
}

type AllowRule =
  | { type: 'host'; host: string }
  | { type: 'address'; address: string; family: 'ipv4' | 'ipv6' }
  | { type: 'subnet'; network: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** Reads one `allow_private_hosts` entry: a host name, an IP address or a CIDR subnet. */
export function parseAllowEntry(entry: string): AllowRule | undefined {
  const text = normalizeHost(entry)
  const slash = text.indexOf('/')
  if (slash !== -1) {
    const network = text.slice(0, slash)
    const family = isIP(network)
    const prefix = Number(text.slice(slash + 1))
    const limit = family === 4 ? 32 : 128
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > limit) return undefined
    return { type: 'subnet', network, prefix, family: family === 4 ? 'ipv4' : 'ipv6' }
  }
  const family = isIP(text)
  if (family !== 0)
    return { type: 'address', address: text, family: family === 4 ? 'ipv4' : 'ipv6' }
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(text)
    ? { type: 'host', host: text }
    : undefined
}

/** Lower case, without IPv6 brackets or a trailing dot, as URLs and DNS may write a host. */
export function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase()
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed
}

function withoutZone(address: string): string {
  const percent = address.indexOf('%')
  return percent === -1 ? address : address.slice(0, percent)
}

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6
 * address: both reach that IPv4 host, so they are judged as it is.
 */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address)
  const [a, b, c, d, e, f, g, h] = groups
  if (g === undefined || h === undefined) return undefined
  const mapped = a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff
  const nat64 = a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0
  if (!mapped && !nat64) return undefined
  return `${g >> 8}.${g & 0xff}.${h >> 8}.${h & 0xff}`
}

/** The eight 16-bit groups of a valid IPv6 literal (`::` expanded, a dotted tail converted). */
function ipv6Groups(address: string): number[] {
  let text = address
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number)
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', rest] = text.split('::')
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16))
  const front = parse(head)
  if (rest === undefined) return front
  const back = parse(rest)
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
}

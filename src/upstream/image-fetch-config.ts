/** `server.image_fetch`: how image URLs are downloaded for providers that only take inline images. */
import { z } from 'zod'
import { parseAllowEntry } from './address-policy.ts'

export const imageFetchConfigSchema = z
  .strictObject({
    /** Largest image downloaded, in bytes; enforced while the body streams in. */
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(20 * 1024 * 1024),
    /** Time for all the image downloads of one request, in milliseconds. */
    timeout_ms: z.number().int().positive().default(10_000),
    max_redirects: z.number().int().nonnegative().max(10).default(3),
    /** Hosts, addresses or CIDR subnets that may be fetched although private (an image store). */
    allow_private_hosts: z
      .array(
        z
          .string()
          .refine(
            (entry) => parseAllowEntry(entry) !== undefined,
            'expected a host name, an IP address or a CIDR subnet',
          ),
      )
      .default([]),
  })
  .prefault({})

export type ImageFetchConfig = z.infer<typeof imageFetchConfigSchema>

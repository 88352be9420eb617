/**
 * `kind: azure-openai`: Azure OpenAI (and Azure AI Foundry) deployments. The wire format is
 * OpenAI's; what differs is the URL (the deployment and `api-version` live in it), the `api-key`
 * header, content-filter annotations in streams and numeric error codes.
 */
import { z } from 'zod'
import { createTransportFor, httpProviderFields, splitBaseUrl } from '../http-config.ts'
import { createOpenAICompatibleAdapter } from '../openai/index.ts'
import type { ProviderAdapter, ProviderDefinition, TargetContext } from '../types.ts'
import { mapUpstreamError, readJsonError } from '../upstream-error.ts'
import { createEntraTokenSource, withEntraToken } from './entra-token.ts'
import { skipFilterAnnotations } from './skip-filter-annotations.ts'
import { imdsTokenEndpoint } from './token-request.ts'

/** The newest generally available dated `api-version` of the data-plane inference API. */
export const defaultAzureApiVersion = '2024-10-21'

const configSchema = z
  .strictObject({
    kind: z.literal('azure-openai'),
    ...httpProviderFields,
    /** Used with deployment URLs; the `/openai/v1` API takes none unless one is set. */
    api_version: z.string().min(1).optional(),
    /** Upstream model name -> deployment name; a model not listed is its own deployment name. */
    deployments: z.record(z.string(), z.string().min(1)).optional(),
    /** Ask for a usage chunk on every stream (stripped when the client did not ask). */
    stream_usage: z.boolean().default(true),
    /**
     * Microsoft Entra ID instead of an API key: a service principal's secret, a federated token
     * (workload identity) or the host's managed identity.
     */
    entra: z
      .strictObject({
        tenant_id: z.string().min(1).optional(),
        client_id: z.string().min(1).optional(),
        client_secret: z.string().min(1).optional(),
        /** AKS workload identity writes it to `$AZURE_FEDERATED_TOKEN_FILE`. */
        federated_token_file: z.string().min(1).optional(),
        managed_identity: z
          .strictObject({
            client_id: z.string().min(1).optional(),
            /** App Service / Container Apps: `${IDENTITY_ENDPOINT}`; else the VM's IMDS. */
            endpoint: z.url({ protocol: /^https?$/ }).default(imdsTokenEndpoint),
            identity_header: z.string().min(1).optional(),
          })
          .optional(),
        scope: z.string().min(1).default('https://cognitiveservices.azure.com/.default'),
        authority_host: z
          .url({ protocol: /^https?$/ })
          .default('https://login.microsoftonline.com'),
      })
      .superRefine((entra, context) => {
        const ways = [entra.client_secret, entra.federated_token_file, entra.managed_identity]
        if (ways.filter((way) => way !== undefined).length !== 1) {
          context.addIssue({
            code: 'custom',
            message: 'set one of client_secret, federated_token_file or managed_identity',
          })
          return
        }
        if (entra.managed_identity !== undefined) return
        for (const field of ['tenant_id', 'client_id'] as const) {
          if (entra[field] === undefined) {
            context.addIssue({
              code: 'custom',
              path: [field],
              message: `${field} is required with ${entra.client_secret === undefined ? 'federated_token_file' : 'client_secret'}`,
            })
          }
        }
      })
      .optional(),
  })
  .refine((config) => config.api_key === undefined || config.entra === undefined, {
    message: 'set api_key or entra, not both',
    path: ['entra'],
  })
export type AzureOpenAIProviderConfig = z.infer<typeof configSchema>

// `https://<resource>.openai.azure.com/openai/v1`: OpenAI's own paths, the deployment as `model`.
const v1Path = /\/openai\/v1$/

function createAzureAdapter(config: AzureOpenAIProviderConfig): ProviderAdapter {
  const { pathPrefix } = splitBaseUrl(config.base_url)
  const isV1 = v1Path.test(pathPrefix)
  const apiVersion = config.api_version ?? (isV1 ? undefined : defaultAzureApiVersion)
  const query = apiVersion === undefined ? '' : `?api-version=${encodeURIComponent(apiVersion)}`
  // Endpoints are written both with and without the trailing `/openai`; both mean the resource.
  const resourcePrefix = pathPrefix.replace(/\/openai$/, '')
  const secrets = [
    config.api_key,
    config.entra?.client_secret,
    config.entra?.managed_identity?.identity_header,
  ].filter((secret): secret is string => secret !== undefined && secret !== '')
  const label = new URL(config.base_url).host
  const deployments = new Map(Object.entries(config.deployments ?? {}))
  const paths = new Map<string, string>()

  const base = createOpenAICompatibleAdapter({
    baseUrl: config.base_url,
    chatPath: isV1
      ? () => `${pathPrefix}/chat/completions${query}`
      : (deployment) => {
          let path = paths.get(deployment)
          if (path === undefined) {
            path = `${resourcePrefix}/openai/deployments/${encodeURIComponent(deployment)}/chat/completions${query}`
            paths.set(deployment, path)
          }
          return path
        },
    authHeaders: config.api_key ? { 'api-key': config.api_key } : {},
    extraHeaders: config.headers,
    streamUsage: config.stream_usage,
    // Deployment URLs name the model in the path; the v1 API wants the deployment as `model`.
    sendModel: isV1,
    secrets,
    label,
  })

  const toDeployment = (target: TargetContext): TargetContext => {
    const deployment = deployments.get(target.upstreamModel)
    return deployment === undefined ? target : { ...target, upstreamModel: deployment }
  }

  return {
    buildRequest: (request, target) => base.buildRequest(request, toDeployment(target)),
    parseResponse: (body, target) => base.parseResponse(body, target),
    forwardResponse: (body, target) => base.forwardResponse?.(body, target),
    createStreamTranslator: (target) => skipFilterAnnotations(base.createStreamTranslator(target)),
    parseError(status, body, headers) {
      const facts = readJsonError(body)
      // Azure puts the HTTP status in `code` ("429", "401"); our own code says more.
      if (facts.code !== undefined && facts.code !== null && /^\d+$/.test(facts.code)) {
        delete facts.code
      }
      return mapUpstreamError({ status, ...facts, headers }, label, secrets)
    },
  }
}

export const azureOpenAIProvider: ProviderDefinition<AzureOpenAIProviderConfig> = {
  kind: 'azure-openai',
  configSchema,
  createAdapter: createAzureAdapter,
  createTransport(config) {
    const transport = createTransportFor(config)
    return config.entra === undefined
      ? transport
      : withEntraToken(transport, createEntraTokenSource(config.entra))
  },
}

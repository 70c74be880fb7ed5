/**
 * The part every token provider shares between it and one authorization server: the client
 * authentication (resolved once), where the token endpoint is (configured, RFC 8414 or RFC 9728
 * discovery, memoised), the one resilient fetch, the DPoP key, and token requests traced on the
 * diagnostics channel. A provider holds one per authorization server it talks to (the ID-JAG
 * provider holds two: the IdP and the MCP authorization server).
 */
import type { JWK } from 'jose'
import type { AuthorizationServer, ClientAuth } from 'oauth4webapi'
import { TokenRequestError } from '../errors.js'
import { clientSecretPost, inferAlgorithm, privateKeyJwt } from './client-auth.js'
import { type TokenRequestContext as TraceContext, traceTokenRequest } from './diagnostics.js'
import {
  type DiscoveredServer,
  discoverAuthorizationServer,
  discoverFromResourceServer,
} from './discovery.js'
import type { DpopSigner } from './dpop-signer.js'
import {
  createResilientFetch,
  type ResilientFetch,
  type RetryInput,
  resolveHttpPolicy,
  type UrlFetch,
} from './http.js'
import {
  BASIC_CREDENTIAL_ENCODINGS,
  type BasicCredentialEncodingName,
  describeList,
  isOneOf,
  PRIVATE_KEY_ALGORITHMS,
  type PrivateKeyAlgorithmName,
  TOKEN_ENDPOINT_AUTH_METHODS,
  TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE,
  type TokenEndpointAuthMethodWithNoneName,
} from './protocol.js'
import {
  type ClientAuthentication,
  type GrantRequest,
  type IssuedToken,
  requestToken,
  type TokenRequestContext,
} from './token-request.js'
import { assertSecureUrl, displayUrl } from './url.js'

/** The settings of one client at one authorization server (a subset of the providers' options). */
export interface GrantClientInput {
  clientId?: string | undefined
  clientSecret?: string | undefined
  privateKey?: string | JWK | CryptoKey | undefined
  privateKeyAlgorithm?: string | undefined
  privateKeyId?: string | undefined
  tokenEndpointAuthMethod?: string | undefined
  basicCredentialsEncoding?: string | undefined
  tokenUrl?: string | URL | undefined
  issuer?: string | URL | undefined
  resourceServerUrl?: string | URL | undefined
  timeoutMs?: number | undefined
  retry?: RetryInput | undefined
  allowInsecureHttp?: boolean | undefined
  defaultExpiresInSeconds?: number | undefined
  maxTokenLifetimeSeconds?: number | undefined
}

/** What a provider decides about its clients. */
export interface GrantClientRules {
  /** Prefix of option names in errors (`idp.` for a nested client). */
  prefix?: string | undefined
  /**
   * Whether no client authentication (`none`) is allowed, and the default when no credential is
   * given (a public client, a jwt-bearer assertion, an IdP that authenticates no client).
   */
  allowNone?: boolean | undefined
  /** The seams every client of a provider shares. */
  getFetch: () => UrlFetch
  now: () => number
  dpop: DpopSigner | undefined
  /** Token values held by the provider: scrubbed from server text. */
  secrets: () => Iterable<string>
}

/** One token request as the provider describes it (for the request and its trace). */
export interface GrantCall extends GrantRequest {
  /** Scopes asked for (diagnostics). */
  readonly scopes: readonly string[]
  /** Why (diagnostics). */
  readonly reason: TraceContext['reason']
}

type Endpoint = { kind: 'token' | 'issuer' | 'resource'; url: URL }

function positiveSeconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TypeError(`"${name}" option must be a positive finite number`)
  return value
}

/** A stable identity for a `CryptoKey` that cannot be exported: this process only. */
const keyIds = new WeakMap<CryptoKey, string>()

export class GrantClient {
  readonly #client: ClientAuthentication
  readonly #credential: string | Uint8Array | Readonly<Record<string, unknown>>
  readonly #endpoint: Endpoint
  readonly #request: ResilientFetch
  readonly #context: TokenRequestContext
  readonly #allowInsecureHttp: boolean
  readonly #assertionAudience: { value: string | undefined } = { value: undefined }
  readonly #explicitClientId: string | undefined
  #discovered: Promise<DiscoveredServer> | undefined

  constructor(input: GrantClientInput, rules: GrantClientRules) {
    const p = rules.prefix ?? ''
    const { clientId, clientSecret, privateKey } = input
    if (clientId !== undefined && (typeof clientId !== 'string' || clientId === ''))
      throw new TypeError(`"${p}clientId" must be a non-empty string`)
    if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === ''))
      throw new TypeError(`"${p}clientSecret" must be a non-empty string`)
    const methods = rules.allowNone ? TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE : TOKEN_ENDPOINT_AUTH_METHODS
    const method =
      input.tokenEndpointAuthMethod ??
      (privateKey !== undefined && clientSecret === undefined
        ? 'private_key_jwt'
        : clientSecret === undefined && rules.allowNone
          ? 'none'
          : 'client_secret_basic')
    if (!isOneOf<TokenEndpointAuthMethodWithNoneName>(methods, method))
      throw new TypeError(`"${p}tokenEndpointAuthMethod" must be ${describeList(methods)}`)
    if (method !== 'none' && clientId === undefined)
      throw new TypeError(`"${p}clientId" must be a non-empty string`)
    const encoding = input.basicCredentialsEncoding ?? 'form-urlencoded'
    if (!isOneOf(BASIC_CREDENTIAL_ENCODINGS, encoding))
      throw new TypeError(
        `"${p}basicCredentialsEncoding" must be ${describeList(BASIC_CREDENTIAL_ENCODINGS)}`,
      )
    this.#explicitClientId = clientId
    const id = clientId ?? ''
    switch (method) {
      case 'client_secret_basic':
        if (clientSecret === undefined) throw new TypeError(`"${p}clientSecret" is required for ${method}`)
        this.#client = {
          method,
          clientId: id,
          clientSecret,
          encoding: encoding as BasicCredentialEncodingName,
        }
        this.#credential = clientSecret
        break
      case 'client_secret_post':
        if (clientSecret === undefined) throw new TypeError(`"${p}clientSecret" is required for ${method}`)
        this.#client = { method, clientId: id, clientSecret, auth: clientSecretPost(id, clientSecret) }
        this.#credential = clientSecret
        break
      case 'private_key_jwt': {
        if (privateKey === undefined || privateKey === null)
          throw new TypeError(`"${p}privateKey" is required for private_key_jwt`)
        const algorithm = input.privateKeyAlgorithm ?? inferAlgorithm(privateKey)
        if (!isOneOf<PrivateKeyAlgorithmName>(PRIVATE_KEY_ALGORITHMS, algorithm))
          throw new TypeError(
            `"${p}privateKeyAlgorithm" must be one of ${describeList(PRIVATE_KEY_ALGORITHMS)}`,
          )
        const jwkKid =
          typeof privateKey === 'object' && 'kid' in privateKey ? (privateKey as JWK).kid : undefined
        this.#client = {
          method,
          clientId: id,
          clientSecret: undefined,
          auth: privateKeyJwt({
            clientId: id,
            key: privateKey,
            algorithm,
            keyId: input.privateKeyId ?? jwkKid,
            // With metadata the issuer identifies the server (RFC 7523bis); without it, the endpoint.
            audience: (tokenEndpoint) => this.#assertionAudience.value ?? tokenEndpoint,
            now: rules.now,
          }),
        }
        if (typeof privateKey === 'string') this.#credential = privateKey
        else if (privateKey instanceof CryptoKey) {
          let keyId = keyIds.get(privateKey)
          if (keyId === undefined) {
            keyId = `cryptokey:${crypto.randomUUID()}`
            keyIds.set(privateKey, keyId)
          }
          this.#credential = keyId
        } else this.#credential = privateKey as Readonly<Record<string, unknown>>
        break
      }
      case 'none':
        if (clientSecret !== undefined || privateKey !== undefined)
          throw new TypeError(`"${p}tokenEndpointAuthMethod" none takes no clientSecret or privateKey`)
        this.#client = {
          method,
          clientId: id,
          clientSecret: undefined,
          // A public client names itself; a client without an id sends nothing (RFC 7523 §3.1).
          auth: function noClientAuth(_as, _client, body) {
            if (id !== '') body.set('client_id', id)
          } satisfies ClientAuth,
        }
        this.#credential = 'none'
        break
    }

    const { tokenUrl, issuer, resourceServerUrl } = input
    const given = [tokenUrl, issuer, resourceServerUrl].filter((v) => v !== undefined && v !== null)
    if (given.length !== 1)
      throw new TypeError(
        `exactly one of "${p}tokenUrl", "${p}issuer" or "${p}resourceServerUrl" is required`,
      )
    const insecure = input.allowInsecureHttp === true
    this.#allowInsecureHttp = insecure
    if (tokenUrl !== undefined)
      this.#endpoint = { kind: 'token', url: assertSecureUrl(tokenUrl, `${p}tokenUrl`, insecure) }
    else if (issuer !== undefined)
      this.#endpoint = { kind: 'issuer', url: assertSecureUrl(issuer, `${p}issuer`, insecure) }
    else
      this.#endpoint = {
        kind: 'resource',
        url: assertSecureUrl(resourceServerUrl!, `${p}resourceServerUrl`, insecure),
      }

    const defaultExpiresIn = positiveSeconds(input.defaultExpiresInSeconds, 'defaultExpiresInSeconds', 300)
    const maxLifetime = positiveSeconds(input.maxTokenLifetimeSeconds, 'maxTokenLifetimeSeconds', 86_400)
    this.#request = createResilientFetch(
      resolveHttpPolicy(input.timeoutMs, input.retry),
      rules.getFetch,
      rules.now,
    )
    this.#context = {
      client: this.#client,
      fetch: this.#request,
      now: rules.now,
      defaultExpiresInMs: defaultExpiresIn * 1000,
      maxLifetimeMs: maxLifetime * 1000,
      secrets: rules.secrets,
      basicEncodings: new Map(),
      dpop: rules.dpop,
    }
  }

  /** The configured `client_id`, if any. */
  get clientId(): string | undefined {
    return this.#explicitClientId
  }

  /** The client authentication method. */
  get authMethod(): TokenEndpointAuthMethodWithNoneName {
    return this.#client.method
  }

  /** What identifies the credential in a cache key (only its digest is used). */
  get credential(): string | Uint8Array | Readonly<Record<string, unknown>> {
    return this.#credential
  }

  /** Whether the token endpoint is found through RFC 9728 (the resource comes with it). */
  get discoversResource(): boolean {
    return this.#endpoint.kind === 'resource'
  }

  /** The authorization server and its token endpoint (discovered once; a failure is retried by the next call). */
  discover(): Promise<DiscoveredServer> {
    const endpoint = this.#endpoint
    if (endpoint.kind === 'token') {
      return Promise.resolve({
        as: { issuer: endpoint.url.origin, token_endpoint: endpoint.url.href },
        tokenEndpoint: endpoint.url,
      })
    }
    if (this.#discovered === undefined) {
      const ctx = { fetch: this.#request, allowInsecureHttp: this.#allowInsecureHttp }
      const discovered =
        endpoint.kind === 'issuer'
          ? discoverAuthorizationServer(endpoint.url, ctx)
          : discoverFromResourceServer(endpoint.url, ctx)
      this.#discovered = discovered.then((server) => {
        this.#assertionAudience.value = server.as.issuer
        return server
      })
      this.#discovered.catch(() => {
        this.#discovered = undefined
      })
    }
    return this.#discovered
  }

  /** The resilient fetch of this client (for the authorization-code flow's own requests). */
  get fetch(): ResilientFetch {
    return this.#request
  }

  /**
   * One token request: discovery first, then the request, traced on `mcp-oauth2:token-request`
   * (grant, endpoint, scopes, reason; attempts, outcome, status, code and OAuth error when it
   * settles: never a token, secret or assertion).
   */
  async request(call: GrantCall): Promise<IssuedToken> {
    const server = await this.discover()
    return this.requestAt(server.as, server.tokenEndpoint, call)
  }

  /** {@link request} at an already discovered server. */
  async requestAt(as: AuthorizationServer, tokenEndpoint: URL, call: GrantCall): Promise<IssuedToken> {
    const trace: TraceContext = {
      grant: call.grantType,
      endpoint: displayUrl(tokenEndpoint),
      scopes: call.scopes,
      reason: call.reason,
    }
    let issued: IssuedToken | undefined
    // The traced promise resolves to nothing: the tracing channel puts the resolved value into the
    // context (`result`), where subscribers would see the token.
    await traceTokenRequest(trace, () =>
      requestToken(this.#context, as, tokenEndpoint, call).then(
        (token) => {
          issued = token
          trace.attempts = token.attempts
          trace.outcome = 'ok'
          trace.status = 200
        },
        (error: unknown) => {
          trace.outcome = 'error'
          if (error instanceof TokenRequestError) {
            trace.code = error.code
            if (error.attempts !== undefined) trace.attempts = error.attempts
            if (error.status !== undefined) trace.status = error.status
            if (error.error !== undefined) trace.oauthError = error.error
          } else {
            const code = (error as { code?: unknown } | null)?.code
            if (typeof code === 'string') trace.code = code
          }
          throw error
        },
      ),
    )
    return issued!
  }
}

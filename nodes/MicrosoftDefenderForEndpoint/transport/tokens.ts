/**
 * The token layer: OAuth 2.0 client credentials through @azure/msal-node, shared by every node, credential test,
 * execution and workflow in one n8n process.
 *
 * - Keyed by (authority host, tenant, client id, secret hash, scope): one token request per key per token
 *   lifetime. msal serves its cached token until 5 minutes before expiry and then fetches a new one.
 * - Keyed by tenant from the start, so one app registration can serve many customer tenants (MSSP use).
 * - Single flight: concurrent first requests for a key share one in-flight request (msal has none for this flow).
 * - A token the API rejected is replaced exactly once: callers pass the rejected token and the broker forces a
 *   fresh one only if its cache still holds that same token (so N concurrent 401s cause one refresh, not N).
 * - Bounded: one msal app per (authority, tenant, client, secret); at most MAX_APPS apps (least recently used are
 *   dropped), and each app's cache holds at most one token per scope (msal replaces older tokens for the same
 *   scope). Rotated secrets therefore cannot make the cache grow without bound.
 * - msal's HTTP goes through n8n's own HTTP helper (see `TokenHttp`), so n8n's proxy settings and the credential's
 *   allowed-domains restriction apply to token requests too. There is deliberately no fallback to msal's default
 *   fetch client: a token request outside an n8n helper context fails loudly instead of silently bypassing them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';

import {
	ConfidentialClientApplication,
	type INetworkModule,
	type NetworkRequestOptions,
	type NetworkResponse,
} from '@azure/msal-node';

import { consentLink } from '../core/clouds';
import type { TokenTarget } from '../core/credentials';
import { decodeTokenClaims } from '../core/jwt';
import { registerSecret, redact } from '../core/redact';

export interface TokenHttpRequest {
	method: 'GET' | 'POST';
	url: string;
	headers?: Record<string, string>;
	body?: string;
	timeout?: number;
}
export interface TokenHttpResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
}
/** Adapter over an n8n HTTP helper (see transport/n8nHttp.ts). */
export type TokenHttp = (request: TokenHttpRequest) => Promise<TokenHttpResponse>;

export type { TokenTarget };

export interface AcquiredToken {
	accessToken: string;
	expiresOn: Date | null;
	fromCache: boolean;
}

export type TokenErrorKind =
	| 'invalidSecret'
	| 'expiredSecret'
	| 'unknownTenant'
	| 'unknownApp'
	| 'notConsented'
	| 'invalidScope'
	| 'unreachable'
	| 'throttled'
	| 'unavailable'
	| 'configuration'
	| 'unknown';

export class TokenError extends Error {
	constructor(
		readonly kind: TokenErrorKind,
		message: string,
		readonly hint: string,
		readonly details: { aadsts?: number; correlationId?: string; traceId?: string; status?: number; cause?: string } = {},
	) {
		super(redact(message));
		this.name = 'TokenError';
	}
}

interface HttpScope {
	http: TokenHttp;
	lastTransportError?: string;
	/** AADSTS code of the last error response (msal hides it behind endpoints_resolution_error for metadata GETs) */
	lastAadsts?: number;
}

const httpScope = new AsyncLocalStorage<HttpScope>();

const TRANSPORT_WORDS: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ECONNRESET: 'connection reset',
	ENOTFOUND: 'host name not found',
	EAI_AGAIN: 'DNS lookup failed',
	ETIMEDOUT: 'timed out',
	ECONNABORTED: 'timed out',
	EHOSTUNREACH: 'host unreachable',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
	SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS certificate not trusted',
	CERT_HAS_EXPIRED: 'TLS certificate expired',
	ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host',
};

/**
 * Plain words for a transport error code. (n8n replaces any message that contains a raw code such as
 * ECONNREFUSED by a generic sentence, which would drop the host we name.)
 */
export function describeTransportCode(code: string): string {
	return TRANSPORT_WORDS[code] ?? code.toLowerCase().replace(/^e/, '').replace(/_/g, ' ');
}
const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/** The msal network module: every request msal makes is sent by the n8n helper bound to the current call. */
class N8nNetworkModule implements INetworkModule {
	constructor(private readonly onRequest: (method: string, url: string) => void) {}

	async sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
		return await this.send<T>('GET', url, options, timeout);
	}

	async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
		return await this.send<T>('POST', url, options);
	}

	private async send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
		const scope = httpScope.getStore();
		if (!scope) {
			throw new Error('Token request made outside an n8n HTTP context');
		}
		this.onRequest(method, url);
		let response: TokenHttpResponse;
		try {
			response = await scope.http({
				method,
				url,
				headers: options?.headers,
				body: method === 'POST' ? options?.body : undefined,
				timeout: timeout ?? TOKEN_REQUEST_TIMEOUT_MS,
			});
		} catch (error) {
			// msal replaces transport errors with a bare "network_error"; keep the cause for the user-facing message.
			const e = error as { message?: string; code?: string; cause?: { code?: string; message?: string } };
			const code = e.cause?.code ?? e.code;
			scope.lastTransportError = code ? describeTransportCode(code) : redact(e.cause?.message ?? e.message ?? 'unknown error');
			throw error;
		}
		let body: unknown = {};
		if (response.body) {
			try {
				body = JSON.parse(response.body);
			} catch {
				body = { error: 'invalid_response', error_description: `Non-JSON response (HTTP ${response.status}) from the identity provider` };
			}
		}
		if (response.status >= 400) {
			const codes = (body as { error_codes?: unknown }).error_codes;
			if (Array.isArray(codes) && typeof codes[0] === 'number') scope.lastAadsts = codes[0];
		}
		return { status: response.status, headers: response.headers, body: body as T };
	}
}

interface AppEntry {
	app: ConfidentialClientApplication;
	tenantId: string;
}

export interface TokenStats {
	/** token POSTs actually sent, per `${authorityHost}|${tenantId}|${clientId}|${scope}` */
	tokenRequests: Record<string, number>;
	/** OpenID configuration / discovery GETs */
	metadataRequests: number;
	apps: number;
}

const MAX_APPS = 500;

function sha256(value: string): string {
	return createHash('sha256').update(value).digest('hex');
}

export class TokenBroker {
	private readonly apps = new Map<string, AppEntry>();
	/**
	 * A tenant can be named by its GUID or by a verified domain; msal keys its cache by the string it was given.
	 * Once a token shows which GUID (`tid`) a domain belongs to, both names lead to the same msal app and cache, so
	 * "contoso.onmicrosoft.com" in one node and the alert's tenant GUID in the next share one token.
	 */
	private readonly aliases = new Map<string, string>();
	private readonly inflight = new Map<string, Promise<AcquiredToken>>();
	private stats: TokenStats = { tokenRequests: {}, metadataRequests: 0, apps: 0 };

	getStats(): TokenStats {
		return { ...this.stats, tokenRequests: { ...this.stats.tokenRequests }, apps: this.apps.size };
	}

	/** Forget every cached app and token (tests, and the "credential changed" path). */
	reset(): void {
		this.apps.clear();
		this.aliases.clear();
		this.inflight.clear();
		this.stats = { tokenRequests: {}, metadataRequests: 0, apps: 0 };
	}

	/**
	 * A valid access token for the target. `rejectedToken`: a token the API just answered 401 to; if the cache
	 * still holds it, a new one is fetched (skipCache), otherwise the cached (already refreshed) one is returned.
	 */
	async acquire(target: TokenTarget, http: TokenHttp, options: { rejectedToken?: string; forceRefresh?: boolean } = {}): Promise<AcquiredToken> {
		registerSecret(target.clientSecret);
		const keyFor = (tenant: string) => sha256([target.authorityHost, tenant.toLowerCase(), target.clientId.toLowerCase(), sha256(target.clientSecret)].join('|'));
		const ownKey = keyFor(target.tenantId);
		const appKey = this.aliases.get(ownKey) ?? ownKey;
		const flightKey = `${appKey}|${target.scope}`;
		const entry = this.appFor(appKey, target);
		const learnAlias = (token: AcquiredToken): AcquiredToken => {
			const tid = decodeTokenClaims(token.accessToken).tid;
			if (tid && tid.toLowerCase() !== target.tenantId.toLowerCase()) {
				const guidKey = keyFor(tid);
				if (!this.apps.has(guidKey) || this.aliases.get(guidKey) === appKey) {
					this.aliases.set(guidKey, appKey);
					this.aliases.set(ownKey, appKey);
					while (this.aliases.size > MAX_APPS * 2) {
						const oldest = this.aliases.keys().next().value;
						if (oldest === undefined) break;
						this.aliases.delete(oldest);
					}
				}
			}
			return token;
		};

		const run = (skipCache: boolean): Promise<AcquiredToken> => {
			const existing = this.inflight.get(flightKey);
			if (existing) return existing;
			const promise = httpScope
				.run({ http }, async () => await this.requestToken(entry, target, skipCache))
				.finally(() => this.inflight.delete(flightKey));
			this.inflight.set(flightKey, promise);
			return promise;
		};

		let token = await run(options.forceRefresh === true);
		if (options.rejectedToken && token.accessToken === options.rejectedToken) {
			token = await run(true);
			if (token.accessToken === options.rejectedToken) {
				// A concurrent non-forced flight returned the same stale token; force once more, on our own.
				token = await run(true);
			}
		}
		return learnAlias(token);
	}

	private appFor(appKey: string, target: TokenTarget): AppEntry {
		const found = this.apps.get(appKey);
		if (found) {
			this.apps.delete(appKey);
			this.apps.set(appKey, found); // most recently used last
			return found;
		}
		const statsKey = `${target.authorityHost}|${target.tenantId}|${target.clientId}|${target.scope}`;
		const network = new N8nNetworkModule((method, url) => {
			if (method === 'POST' && /\/oauth2\/(v2\.0\/)?token/.test(url)) {
				this.stats.tokenRequests[statsKey] = (this.stats.tokenRequests[statsKey] ?? 0) + 1;
			} else {
				this.stats.metadataRequests += 1;
			}
		});
		const authorityUrl = new URL(target.authorityHost);
		const app = new ConfidentialClientApplication({
			auth: {
				clientId: target.clientId,
				clientSecret: target.clientSecret,
				authority: `${target.authorityHost}/${encodeURIComponent(target.tenantId)}`,
				...(target.customAuthority ? { knownAuthorities: [authorityUrl.host] } : {}),
			},
			system: {
				networkClient: network,
				loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
			},
		});
		const entry: AppEntry = { app, tenantId: target.tenantId };
		this.apps.set(appKey, entry);
		while (this.apps.size > MAX_APPS) {
			const oldest = this.apps.keys().next().value;
			if (oldest === undefined) break;
			this.apps.delete(oldest);
		}
		return entry;
	}

	private async requestToken(entry: AppEntry, target: TokenTarget, skipCache: boolean): Promise<AcquiredToken> {
		try {
			const result = await entry.app.acquireTokenByClientCredential({ scopes: [target.scope], skipCache });
			if (!result?.accessToken) {
				throw new TokenError('unknown', 'The identity provider returned no access token', 'Try again; if it persists, check the app registration.');
			}
			return { accessToken: result.accessToken, expiresOn: result.expiresOn ?? null, fromCache: result.fromCache };
		} catch (error) {
			if (error instanceof TokenError) throw error;
			const scope = httpScope.getStore();
			throw mapMsalError(error, target, scope?.lastTransportError, scope?.lastAadsts);
		}
	}
}

/** Process-wide broker: every node and the credential share it. */
export const tokenBroker = new TokenBroker();

interface MsalErrorLike {
	name?: string;
	errorCode?: string;
	errorNo?: string | number;
	errorMessage?: string;
	message?: string;
	status?: number;
	correlationId?: string;
	subError?: string;
}

function aadstsOf(e: MsalErrorLike): number | undefined {
	if (e.errorNo !== undefined && `${e.errorNo}` !== '' && !Number.isNaN(Number(e.errorNo))) return Number(e.errorNo);
	const m = /AADSTS(\d+)/.exec(`${e.errorMessage ?? ''} ${e.message ?? ''}`);
	return m ? Number(m[1]) : undefined;
}

/** Turn an msal error into advice a no-code user can follow. Never includes the secret or a token. */
export function mapMsalError(error: unknown, target: TokenTarget, transportCause?: string, responseAadsts?: number): TokenError {
	const e = (error ?? {}) as MsalErrorLike;
	const code = aadstsOf(e) ?? responseAadsts;
	const trace = /Trace ID: ([0-9a-f-]{36})/i.exec(e.errorMessage ?? e.message ?? '')?.[1];
	const details = { aadsts: code, correlationId: e.correlationId, traceId: trace, status: e.status, cause: transportCause };
	const tenant = target.tenantId;
	const app = target.clientId;
	switch (code) {
		case 7000215:
			return new TokenError(
				'invalidSecret',
				`Microsoft Entra rejected the client secret for app ${app} (AADSTS7000215)`,
				'Paste the secret VALUE shown once when the secret was created (not the "Secret ID"), or create a new secret under Certificates & secrets in the app registration.',
				details,
			);
		case 7000222:
			return new TokenError(
				'expiredSecret',
				`The client secret of app ${app} has expired (AADSTS7000222)`,
				'Create a new client secret under Certificates & secrets in the app registration and paste its value into the credential.',
				details,
			);
		case 90002:
		case 900023:
			return new TokenError(
				'unknownTenant',
				`Tenant "${tenant}" was not found (AADSTS${code})`,
				'Check the Tenant ID (Entra ID → Overview → Tenant ID, or a verified domain such as contoso.onmicrosoft.com) and that the Cloud matches where the tenant lives.',
				details,
			);
		case 700016:
			return new TokenError(
				'unknownApp',
				`Application ${app} was not found in tenant "${tenant}" (AADSTS700016)`,
				'Check the Application (client) ID. If it is right, the app is not registered in this cloud, or (for a customer tenant) no administrator has consented to it yet: send them the consent link shown in the credential.',
				details,
			);
		case 7000229:
		case 650052:
		case 65001:
			return new TokenError(
				'notConsented',
				`App ${app} is not consented in tenant "${tenant}" (AADSTS${code})`,
				`An administrator of that tenant must open the admin-consent link ${consentLink({ consentHost: target.authorityHost }, target.clientId)} and accept the WindowsDefenderATP permissions.`,
				details,
			);
		case 500011:
			return new TokenError(
				'notConsented',
				`The Defender API (${target.scope.replace('/.default', '')}) is not available to tenant "${tenant}" (AADSTS500011)`,
				'Make sure the tenant has Microsoft Defender for Endpoint, that an administrator consented to the app, and that the Cloud (and custom token scope) is right.',
				details,
			);
		case 1002012:
		case 70011:
			return new TokenError(
				'invalidScope',
				`The token scope "${target.scope}" was refused (AADSTS${code})`,
				'App-only tokens need a scope that ends in /.default, e.g. https://api.securitycenter.microsoft.com/.default.',
				details,
			);
		default:
			break;
	}
	const errorCode = e.errorCode ?? '';
	if (transportCause && /domain not allowed|restricted from accessing/i.test(transportCause)) {
		return new TokenError(
			'configuration',
			`The credential's Allowed Domains do not include the sign-in host ${target.authorityHost}`,
			`Add ${new URL(target.authorityHost).hostname} to the credential's Allowed Domains (next to the API host), or allow all domains.`,
			details,
		);
	}
	if (errorCode === 'network_error' || errorCode === 'endpoints_resolution_error' || transportCause) {
		return new TokenError(
			'unreachable',
			`Could not reach the sign-in service ${target.authorityHost}${transportCause ? ` (${transportCause})` : ''}`,
			'Check the Cloud setting, the network path or proxy from n8n to the sign-in host, and (custom clouds) the Authority Host URL.',
			details,
		);
	}
	if (errorCode === 'missing_tenant_id_error') {
		return new TokenError('configuration', 'A specific Tenant ID is required', 'Use the tenant GUID or a verified domain, not "common" or "organizations".', details);
	}
	if (errorCode === 'authority_uri_insecure') {
		return new TokenError('configuration', 'The authority URL must use https', 'Use an https:// Authority Host URL.', details);
	}
	if (e.status === 429 || /^\d+( \d+)*$/.test(errorCode)) {
		return new TokenError('throttled', 'Microsoft Entra is throttling token requests for this app', 'Wait a minute and try again.', details);
	}
	if ((e.status ?? 0) >= 500) {
		return new TokenError('unavailable', `Microsoft Entra is unavailable (HTTP ${e.status})`, 'Try again in a few minutes.', details);
	}
	if (errorCode === 'invalid_client') {
		return new TokenError('invalidSecret', `Microsoft Entra rejected the app credentials for ${app}`, 'Check the Application (client) ID and the client secret value.', details);
	}
	return new TokenError(
		'unknown',
		`Could not get an access token for tenant "${tenant}"${errorCode ? ` (${errorCode})` : ''}`,
		'Check the credential fields; the details below carry the correlation id Microsoft support asks for.',
		details,
	);
}

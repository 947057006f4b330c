/**
 * The token layer: OAuth 2.0 client credentials through @azure/msal-node, shared by every node, credential test,
 * execution and workflow in one n8n process.
 *
 * - Keyed by (authority host, tenant, client id, hash of the secret or of the certificate's key material, scope):
 *   one token request per key per token lifetime. msal serves its cached token until 5 minutes before expiry and
 *   then fetches a new one.
 * - Across processes: n8n persists the token in the credential (its expirable `accessToken` field). A process whose
 *   msal cache is still empty for a key uses that stored token instead of signing in, while it is valid for the
 *   target (`exp` with msal's 5-minute margin, `tid`, `aud` = the scope's resource, `appid` = the client id; see
 *   core/storedToken.ts). Once msal has issued a token for the key in this process, msal's cache is authoritative.
 * - Client secret or certificate: msal's `clientCertificate` (SHA-256 thumbprint, key, and the chain as `x5c`, so
 *   subject-name/issuer authentication works) signs the client assertion.
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
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { registerSecret, redact } from '../core/redact';
import { judgeStoredToken, STORED_TOKEN_MARGIN_MS } from '../core/storedToken';

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
	/** the token n8n stored in the credential, used instead of a sign-in */
	fromStore?: boolean;
}

export type TokenErrorKind =
	| 'invalidSecret'
	| 'expiredSecret'
	| 'certificateNotRegistered'
	| 'invalidCertificate'
	| 'clockSkew'
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
	/** per scope: a stored token in use while msal has issued none in this process */
	seeded: Map<string, { accessToken: string; expiresOnMs: number }>;
	/** scopes msal has issued a token for in this process (its cache then wins over any stored token) */
	issued: Set<string>;
	/** hashes of tokens the API rejected: never taken from storage again */
	rejected: Set<string>;
}

export interface TokenStats {
	/** token POSTs actually sent, per `${authorityHost}|${tenantId}|${clientId}|${scope}` */
	tokenRequests: Record<string, number>;
	/** OpenID configuration / discovery GETs */
	metadataRequests: number;
	/** times a token stored in the credential was used instead of a sign-in */
	storedTokensUsed: number;
	apps: number;
}

const MAX_APPS = 500;

function sha256(value: string): string {
	return createHash('sha256').update(value).digest('hex');
}

/** What identifies the app's credential in the broker key: a hash of the secret, or of the certificate's key material. */
function credentialHash(target: TokenTarget): string {
	return target.auth.kind === 'secret' ? sha256(`secret|${target.auth.secret}`) : sha256(`certificate|${target.auth.certificate.keyHash}`);
}

const MAX_REJECTED = 20;

export class TokenBroker {
	private readonly apps = new Map<string, AppEntry>();
	/**
	 * A tenant can be named by its GUID or by a verified domain; msal keys its cache by the string it was given.
	 * Once a token shows which GUID (`tid`) a domain belongs to, both names lead to the same msal app and cache, so
	 * "contoso.onmicrosoft.com" in one node and the alert's tenant GUID in the next share one token.
	 */
	private readonly aliases = new Map<string, string>();
	/** tenant GUID (`tid`) learned for a key whose tenant was given as a domain */
	private readonly tenantGuids = new Map<string, string>();
	private readonly inflight = new Map<string, Promise<AcquiredToken>>();
	private stats: TokenStats = { tokenRequests: {}, metadataRequests: 0, storedTokensUsed: 0, apps: 0 };

	getStats(): TokenStats {
		return { ...this.stats, tokenRequests: { ...this.stats.tokenRequests }, apps: this.apps.size };
	}

	/** Forget every cached app and token (tests, and the "credential changed" path). */
	reset(): void {
		this.apps.clear();
		this.aliases.clear();
		this.tenantGuids.clear();
		this.inflight.clear();
		this.stats = { tokenRequests: {}, metadataRequests: 0, storedTokensUsed: 0, apps: 0 };
	}

	/**
	 * A valid access token for the target. `rejectedToken`: a token the API just answered 401 to; if the cache
	 * still holds it, a new one is fetched (skipCache), otherwise the cached (already refreshed) one is returned.
	 * `storedToken`: the token n8n stored in the credential, used while msal has issued none for this key in this
	 * process and it is valid for the target.
	 */
	async acquire(
		target: TokenTarget,
		http: TokenHttp,
		options: { rejectedToken?: string; forceRefresh?: boolean; storedToken?: string } = {},
	): Promise<AcquiredToken> {
		if (target.auth.kind === 'secret' && !isGuid(target.auth.secret)) registerSecret(target.auth.secret);
		if (target.auth.kind === 'certificate') registerSecret(target.auth.certificate.privateKeyPem);
		const credHash = credentialHash(target);
		const keyFor = (tenant: string) => sha256([target.authorityHost, tenant.toLowerCase(), target.clientId.toLowerCase(), credHash].join('|'));
		const ownKey = keyFor(target.tenantId);
		const appKey = this.aliases.get(ownKey) ?? ownKey;
		const flightKey = `${appKey}|${target.scope}`;
		const entry = this.appFor(appKey, target);
		const learnAlias = (token: AcquiredToken): AcquiredToken => {
			const tid = decodeTokenClaims(token.accessToken).tid;
			if (tid && tid.toLowerCase() !== target.tenantId.toLowerCase()) {
				this.tenantGuids.set(ownKey, tid.toLowerCase());
				while (this.tenantGuids.size > MAX_APPS * 2) {
					const oldest = this.tenantGuids.keys().next().value;
					if (oldest === undefined) break;
					this.tenantGuids.delete(oldest);
				}
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

		const rejected = options.rejectedToken;
		if (rejected) {
			entry.rejected.add(sha256(rejected));
			while (entry.rejected.size > MAX_REJECTED) {
				const oldest = entry.rejected.values().next().value;
				if (oldest === undefined) break;
				entry.rejected.delete(oldest);
			}
			if (entry.seeded.get(target.scope)?.accessToken === rejected) entry.seeded.delete(target.scope);
		}
		if (!options.forceRefresh) {
			const seeded = entry.seeded.get(target.scope);
			if (seeded && seeded.expiresOnMs - STORED_TOKEN_MARGIN_MS > Date.now()) {
				return learnAlias({ accessToken: seeded.accessToken, expiresOn: new Date(seeded.expiresOnMs), fromCache: true, fromStore: true });
			}
			if (seeded) entry.seeded.delete(target.scope);
			const stored = options.storedToken;
			if (stored && stored !== rejected && !entry.issued.has(target.scope) && !entry.rejected.has(sha256(stored))) {
				const verdict = judgeStoredToken(stored, {
					tenantId: target.tenantId,
					tenantGuid: this.tenantGuids.get(ownKey),
					clientId: target.clientId,
					scope: target.scope,
				});
				if (verdict.usable) {
					entry.seeded.set(target.scope, { accessToken: stored, expiresOnMs: verdict.expiresOnMs });
					this.stats.storedTokensUsed += 1;
					return learnAlias({ accessToken: stored, expiresOn: new Date(verdict.expiresOnMs), fromCache: true, fromStore: true });
				}
			}
		}

		const run = (skipCache: boolean): Promise<AcquiredToken> => {
			const existing = this.inflight.get(flightKey);
			if (existing) return existing;
			const promise = httpScope
				.run({ http }, async () => await this.requestToken(entry, target, skipCache))
				.then((token) => {
					entry.issued.add(target.scope);
					entry.seeded.delete(target.scope);
					return token;
				})
				.finally(() => this.inflight.delete(flightKey));
			this.inflight.set(flightKey, promise);
			return promise;
		};

		let token = await run(options.forceRefresh === true);
		if (rejected && token.accessToken === rejected) {
			token = await run(true);
			if (token.accessToken === rejected) {
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
		const credential =
			target.auth.kind === 'secret'
				? { clientSecret: target.auth.secret }
				: {
						clientCertificate: {
							thumbprintSha256: target.auth.certificate.thumbprintSha256,
							privateKey: target.auth.certificate.privateKeyPem,
							// the chain, leaf first: Entra's subject-name/issuer authentication reads it from the assertion's x5c header
							x5c: target.auth.certificate.certificatePem,
						},
					};
		const app = new ConfidentialClientApplication({
			auth: {
				clientId: target.clientId,
				...credential,
				authority: `${target.authorityHost}/${encodeURIComponent(target.tenantId)}`,
				...(target.customAuthority ? { knownAuthorities: [authorityUrl.host] } : {}),
			},
			system: {
				networkClient: network,
				loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
			},
		});
		const entry: AppEntry = { app, tenantId: target.tenantId, seeded: new Map(), issued: new Set(), rejected: new Set() };
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
	const cert = target.auth.kind === 'certificate' ? target.auth.certificate : undefined;
	const entraText = `${e.errorMessage ?? ''} ${e.message ?? ''}`;
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
				'Rotate it: in the app registration open Certificates & secrets → Client secrets → New client secret, paste the new secret\'s Value into this credential (and into every other n8n credential that uses this app), then delete the expired secret. To stop rotating secrets every year or two, switch Authentication to Certificate.',
				details,
			);
		case 700027:
			if (cert) {
				const expired = /expired/i.test(entraText);
				return new TokenError(
					'certificateNotRegistered',
					expired
						? `The certificate uploaded to app ${app} for this key has expired in Microsoft Entra (AADSTS700027)`
						: `Microsoft Entra does not know this certificate for app ${app} (SHA-256 thumbprint ${cert.thumbprintSha256}) (AADSTS700027)`,
					`Upload the certificate's public part (the .cer, .pem or .crt file, never the key) to the app registration under Certificates & secrets → Certificates (Entra shows its SHA-1 thumbprint ${cert.thumbprintSha1}), or paste the certificate that is uploaded there together with its key.`,
					details,
				);
			}
			break;
		case 700024:
			return new TokenError(
				'clockSkew',
				`Microsoft Entra rejected the client assertion's time window (AADSTS700024)`,
				'The clock of the n8n server is off: it must be within a few minutes of the real time (check NTP).',
				details,
			);
		case 700021:
		case 700023:
		case 50027:
			return new TokenError(
				'invalidCertificate',
				`Microsoft Entra rejected the certificate sign-in for app ${app} (AADSTS${code})`,
				'Check the Application (client) ID and that the certificate and key in the credential belong together and are the ones uploaded to the app registration.',
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
		if (cert) {
			return new TokenError(
				'invalidCertificate',
				`Microsoft Entra rejected the certificate credentials for app ${app}`,
				'Check the Application (client) ID and that the certificate in the credential is the one uploaded to the app registration.',
				details,
			);
		}
		return new TokenError('invalidSecret', `Microsoft Entra rejected the app credentials for ${app}`, 'Check the Application (client) ID and the client secret value.', details);
	}
	return new TokenError(
		'unknown',
		`Could not get an access token for tenant "${tenant}"${errorCode ? ` (${errorCode})` : ''}`,
		'Check the credential fields; the details below carry the correlation id Microsoft support asks for.',
		details,
	);
}

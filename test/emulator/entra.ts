/**
 * Entra ID endpoints: client-credentials token (v1 + v2), OpenID configuration, instance discovery, JWKS and the
 * admin-consent redirect. Error bodies follow https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (error, error_description "AADSTS…\r\nTrace ID…",
 * error_codes, timestamp, trace_id, correlation_id, error_uri).
 */
import type { EmulatorClock } from './clock';
import { constants as cryptoConstants, verify as cryptoVerify } from 'node:crypto';
import { type Directory, isGuid } from './directory';
import { guid, jsonReply, type Reply } from './http-util';
import { decodeJwt, type JwtSigner } from './jwt';
import type { Tenant } from './types';

export interface EntraRequest {
	method: string;
	host: string;
	/** Path segments after the leading slash, already split. */
	segments: string[];
	query: URLSearchParams;
	body: Buffer;
	contentType: string;
	/** msal's `client-request-id` header, echoed as correlation_id. */
	clientRequestId?: string;
	/** `Authorization` header (client_secret_basic). */
	authorization?: string;
}

/** Facts the server copies into the request log. */
export interface EntraOutcome {
	reply: Reply;
	tenantId?: string;
	clientId?: string;
	scope?: string;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const RESERVED_TENANTS = new Set(['common', 'organizations', 'consumers']);

function entraTimestamp(iso: string): string {
	return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

export class EntraService {
	constructor(
		private readonly directory: Directory,
		private readonly signer: JwtSigner,
		private readonly clock: EmulatorClock,
	) {}

	/** `{"error":…,"error_description":"AADSTS<code>: …\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …",…}` */
	error(req: Pick<EntraRequest, 'host' | 'clientRequestId'>, status: number, error: string, code: number, message: string): Reply {
		const traceId = guid();
		const correlationId = req.clientRequestId && isGuid(req.clientRequestId) ? req.clientRequestId : guid();
		const timestamp = entraTimestamp(this.clock.now());
		const reply = jsonReply(
			status,
			{
				error,
				error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
				error_codes: [code],
				timestamp,
				trace_id: traceId,
				correlation_id: correlationId,
				error_uri: `https://${req.host}/error?code=${code}`,
			},
			{
				'cache-control': 'no-store, no-cache',
				pragma: 'no-cache',
				'x-ms-request-id': traceId,
				...(req.clientRequestId ? { 'client-request-id': req.clientRequestId } : {}),
			},
		);
		reply.errorCode = error;
		reply.aadsts = code;
		return reply;
	}

	/** Resolve the tenant path segment, or the Entra error for it. */
	private resolveTenant(req: EntraRequest, segment: string): Tenant | Reply {
		if (RESERVED_TENANTS.has(segment.toLowerCase())) {
			return this.error(
				req,
				400,
				'invalid_request',
				50059,
				'No tenant-identifying information found in either the request or implied by any provided credentials.',
			);
		}
		const tenant = this.directory.findTenant(segment);
		if (tenant) return tenant;
		if (!isGuid(segment) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(segment)) {
			return this.error(
				req,
				400,
				'invalid_request',
				900023,
				`Specified tenant identifier '${segment}' is neither a valid DNS name, nor a valid external domain.`,
			);
		}
		return this.error(
			req,
			400,
			'invalid_tenant',
			90002,
			`Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
		);
	}

	/** `POST /{tenant}/oauth2/v2.0/token` (version 'v2') and `POST /{tenant}/oauth2/token` (version 'v1'). */
	token(req: EntraRequest, tenantSegment: string, version: 'v1' | 'v2'): EntraOutcome {
		if (req.method !== 'POST') {
			return {
				reply: this.error(req, 400, 'invalid_request', 900561, `The endpoint only accepts POST requests. Received a ${req.method} request.`),
			};
		}
		const isForm = req.contentType.split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
		const form = new URLSearchParams(isForm ? req.body.toString('utf8') : '');
		// client_secret_basic: Authorization: Basic base64(urlencode(client_id):urlencode(client_secret))
		const basic = req.authorization && /^Basic\s+(\S+)$/i.exec(req.authorization.trim())?.[1];
		if (basic) {
			const decoded = Buffer.from(basic, 'base64').toString('utf8');
			const colon = decoded.indexOf(':');
			if (colon > 0) {
				if (!form.has('client_id')) form.set('client_id', decodeURIComponent(decoded.slice(0, colon)));
				if (!form.has('client_secret')) form.set('client_secret', decodeURIComponent(decoded.slice(colon + 1)));
			}
		}
		const clientIdRaw = form.get('client_id') ?? undefined;
		const scopeRaw = (version === 'v2' ? form.get('scope') : form.get('resource')) ?? undefined;
		const base = { clientId: clientIdRaw, scope: scopeRaw };

		const tenant = this.resolveTenant(req, tenantSegment);
		if (!('id' in tenant)) return { ...base, reply: tenant };
		const out = (reply: Reply): EntraOutcome => ({ ...base, tenantId: tenant.id, reply });
		const missing = (name: string): EntraOutcome =>
			out(this.error(req, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`));

		const grantType = form.get('grant_type');
		if (!grantType) return missing('grant_type');
		if (grantType !== 'client_credentials') {
			return out(this.error(req, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`));
		}
		if (!clientIdRaw) return missing('client_id');
		const app = this.directory.findApp(clientIdRaw);
		if (!app || (!app.multiTenant && app.homeTenantId !== tenant.id)) {
			return out(
				this.error(
					req,
					400,
					'unauthorized_client',
					700016,
					`Application with identifier '${clientIdRaw}' was not found in the directory '${tenant.name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
				),
			);
		}

		let resource: string | undefined;
		if (version === 'v2') {
			if (!scopeRaw) return missing('scope');
			const scopes = scopeRaw.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
			if (scopes.length !== 1) {
				return out(
					this.error(
						req,
						400,
						'invalid_scope',
						70011,
						`The provided value for the input parameter 'scope' is not valid. The scope ${scopeRaw} is not valid.`,
					),
				);
			}
			const scope = scopes[0];
			if (!scope.endsWith('/.default')) {
				return out(
					this.error(
						req,
						400,
						'invalid_scope',
						1002012,
						`The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
					),
				);
			}
			const resourceRaw = scope.slice(0, -'/.default'.length);
			resource = this.directory.issuableResource(resourceRaw);
			if (!resource) return out(this.resourceNotFound(req, resourceRaw, tenant));
		} else {
			if (!scopeRaw) return missing('resource');
			resource = this.directory.issuableResource(scopeRaw);
			if (!resource) return out(this.resourceNotFound(req, scopeRaw, tenant));
		}

		const secret = form.get('client_secret');
		const assertion = form.get('client_assertion');
		if (!secret && assertion) {
			const failure = this.checkAssertion(req, tenant, app.clientId, form.get('client_assertion_type'), assertion);
			if (failure) return out(failure);
		} else if (!secret) {
			return out(
				this.error(req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
			);
		}
		if (secret) {
			const match = app.secrets.find((s) => s.value === secret);
			if (!match) {
				return out(
					this.error(
						req,
						401,
						'invalid_client',
						7000215,
						`Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
					),
				);
			}
			if (match.expired) {
				return out(
					this.error(
						req,
						401,
						'invalid_client',
						7000222,
						`The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
					),
				);
			}
		}
		if (!this.directory.findGrant(tenant.id, app.clientId)) {
			return out(
				this.error(
					req,
					401,
					'invalid_client',
					7000229,
					`The client application ${app.clientId} is missing service principal in the tenant ${tenant.id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
				),
			);
		}

		const issued = this.directory.issueToken({ tenantId: tenant.id, clientId: app.clientId, resource }, scopeRaw);
		const headers = {
			'cache-control': 'no-store, no-cache',
			pragma: 'no-cache',
			'x-ms-request-id': guid(),
			...(req.clientRequestId ? { 'client-request-id': req.clientRequestId } : {}),
		};
		if (version === 'v2') {
			return out(
				jsonReply(
					200,
					{ token_type: 'Bearer', expires_in: issued.expiresIn, ext_expires_in: issued.expiresIn, access_token: issued.accessToken },
					headers,
				),
			);
		}
		return out(
			jsonReply(
				200,
				{
					token_type: 'Bearer',
					expires_in: String(issued.expiresIn),
					ext_expires_in: String(issued.expiresIn),
					expires_on: String(issued.expiresOn),
					not_before: String(issued.notBefore),
					resource: scopeRaw,
					access_token: issued.accessToken,
				},
				headers,
			),
		);
	}

	/**
	 * Verify a certificate client assertion (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials):
	 * the certificate named by `x5t#S256` (or `x5t`, or a trusted `x5c` subject) must be registered on the app and
	 * not expired, the RS256/PS256 signature must verify with its key, `aud` must be this token endpoint, `iss` and
	 * `sub` the client id, and now within `nbf`..`exp` (5 minutes of skew). Returns the Entra error, or undefined.
	 */
	private checkAssertion(req: EntraRequest, tenant: Tenant, clientId: string, type: string | null, assertion: string): Reply | undefined {
		const fail = (code: number, message: string): Reply => this.error(req, 401, 'invalid_client', code, message);
		if (type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
			return this.error(req, 400, 'invalid_request', 700025, `Client assertion type '${type ?? ''}' is not supported: use urn:ietf:params:oauth:client-assertion-type:jwt-bearer.`);
		}
		const decoded = decodeJwt(assertion);
		const parts = assertion.split('.');
		if (!decoded || parts.length !== 3) return fail(50027, 'JWT token is invalid or is malformed.');
		const { header, payload } = decoded;
		const alg = header.alg;
		if (alg !== 'RS256' && alg !== 'PS256') return fail(700027, `Client assertion failed signature validation. [Reason - The algorithm '${String(alg)}' is not supported.]`);
		const x5c = Array.isArray(header.x5c) ? (header.x5c as unknown[]).filter((c): c is string => typeof c === 'string') : undefined;
		const cert = this.directory.assertionCertificate(clientId, {
			x5tS256: typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : undefined,
			x5t: typeof header.x5t === 'string' ? header.x5t : undefined,
			x5c,
		});
		const usedThumb = typeof header['x5t#S256'] === 'string' ? Buffer.from(header['x5t#S256'] as string, 'base64url').toString('hex').toUpperCase() : typeof header.x5t === 'string' ? Buffer.from(header.x5t, 'base64url').toString('hex').toUpperCase() : '';
		if (!cert) {
			return fail(
				700027,
				`The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${usedThumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
			);
		}
		const nowMs = this.clock.nowSeconds() * 1000;
		if (nowMs > cert.notAfterMs) {
			return fail(700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key used is expired., Thumbprint of key used by client: '${cert.thumbprintSha256}']`);
		}
		const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
		const signature = Buffer.from(parts[2], 'base64url');
		const valid =
			alg === 'PS256'
				? cryptoVerify('sha256', signed, { key: cert.publicKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO }, signature)
				: cryptoVerify('RSA-SHA256', signed, cert.publicKey, signature);
		if (!valid) return fail(700027, 'Client assertion failed signature validation.');
		if (payload.iss !== clientId && String(payload.iss).toLowerCase() !== clientId) {
			return fail(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://aka.ms/certCreds .");
		}
		if (String(payload.sub).toLowerCase() !== clientId) return fail(700021, "Client assertion subject doesn't match 'client_id' parameter.");
		if (!this.isTokenEndpointFor(req, tenant, payload.aud)) {
			return fail(700023, `Client assertion audience claim does not match Realm issuer. Review the documentation at https://aka.ms/certCreds .`);
		}
		const now = this.clock.nowSeconds();
		const skew = 300;
		if (typeof payload.exp !== 'number' || now > payload.exp + skew || (typeof payload.nbf === 'number' && now + skew < payload.nbf)) {
			return fail(
				700024,
				`Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ${typeof payload.nbf === 'number' ? new Date(payload.nbf * 1000).toISOString() : '?'}, expiry time of assertion ${typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : '?'}.`,
			);
		}
		return undefined;
	}

	/** `aud` of an assertion: this host's v2 or v1 token endpoint for this tenant (by GUID or verified domain). */
	private isTokenEndpointFor(req: EntraRequest, tenant: Tenant, aud: unknown): boolean {
		const audiences = Array.isArray(aud) ? aud : [aud];
		return audiences.some((a) => {
			if (typeof a !== 'string') return false;
			let url: URL;
			try {
				url = new URL(a);
			} catch {
				return false;
			}
			if (url.protocol !== 'https:' || url.host.toLowerCase() !== req.host.toLowerCase()) return false;
			const m = /^\/([^/]+)\/oauth2(?:\/v2\.0)?\/token\/?$/i.exec(url.pathname);
			return m !== null && this.directory.findTenant(decodeURIComponent(m[1]))?.id === tenant.id;
		});
	}

	private resourceNotFound(req: EntraRequest, resource: string, tenant: Tenant): Reply {
		return this.error(
			req,
			400,
			'invalid_resource',
			500011,
			`The resource principal named ${resource} was not found in the tenant named ${tenant.name}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
		);
	}

	/** `GET /{tenant}/v2.0/.well-known/openid-configuration` and the v1 form `GET /{tenant}/.well-known/openid-configuration`. */
	openIdConfiguration(req: EntraRequest, tenantSegment: string, v2: boolean): EntraOutcome {
		if (req.method !== 'GET') return { reply: jsonReply(405, { error: 'invalid_request' }, { allow: 'GET' }) };
		let tid: string;
		let tenantId: string | undefined;
		if (RESERVED_TENANTS.has(tenantSegment.toLowerCase())) {
			tid = '{tenantid}';
		} else {
			const tenant = this.resolveTenant(req, tenantSegment);
			if (!('id' in tenant)) return { reply: tenant };
			tid = tenant.id;
			tenantId = tenant.id;
		}
		const seg = tid === '{tenantid}' ? tenantSegment.toLowerCase() : tid;
		const origin = `https://${req.host}`;
		const v = v2 ? '/v2.0' : '';
		const config = {
			token_endpoint: `${origin}/${seg}/oauth2${v}/token`,
			token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
			jwks_uri: `${origin}/${seg}/discovery${v}/keys`,
			response_modes_supported: ['query', 'fragment', 'form_post'],
			subject_types_supported: ['pairwise'],
			id_token_signing_alg_values_supported: ['RS256'],
			response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
			scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
			issuer: v2 ? `${origin}/${tid}/v2.0` : `https://sts.windows.net/${tid}/`,
			request_uri_parameter_supported: false,
			userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
			authorization_endpoint: `${origin}/${seg}/oauth2${v}/authorize`,
			device_authorization_endpoint: `${origin}/${seg}/oauth2${v}/devicecode`,
			http_logout_supported: true,
			frontchannel_logout_supported: true,
			end_session_endpoint: `${origin}/${seg}/oauth2${v}/logout`,
			claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
			kerberos_endpoint: `${origin}/${seg}/kerberos`,
			tenant_region_scope: 'NA',
			cloud_instance_name: 'microsoftonline.com',
			cloud_graph_host_name: 'graph.windows.net',
			msgraph_host: 'graph.microsoft.com',
			rbac_url: 'https://pas.windows.net',
		};
		return { tenantId, reply: jsonReply(200, config, { 'cache-control': 'max-age=86400, private' }) };
	}

	/** `GET /{any}/discovery/instance?api-version=1.1&authorization_endpoint=…` (msal cloud discovery). */
	instanceDiscovery(req: EntraRequest): EntraOutcome {
		if (req.method !== 'GET') return { reply: jsonReply(405, { error: 'invalid_request' }, { allow: 'GET' }) };
		const endpoint = req.query.get('authorization_endpoint');
		let url: URL | undefined;
		try {
			url = endpoint ? new URL(endpoint) : undefined;
		} catch {
			url = undefined;
		}
		if (!url || url.protocol !== 'https:') {
			return { reply: this.error(req, 400, 'invalid_instance', 50049, "Unknown or invalid instance.") };
		}
		const host = url.host;
		const tenant = url.pathname.split('/').filter(Boolean)[0] ?? 'common';
		return {
			reply: jsonReply(200, {
				tenant_discovery_endpoint: `https://${host}/${tenant}/v2.0/.well-known/openid-configuration`,
				'api-version': '1.1',
				metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
			}),
		};
	}

	/** `GET /{tenant}/discovery/v2.0/keys` and `/{tenant}/discovery/keys`. */
	keys(req: EntraRequest, tenantSegment: string, v2: boolean): EntraOutcome {
		if (req.method !== 'GET') return { reply: jsonReply(405, { error: 'invalid_request' }, { allow: 'GET' }) };
		let tenantId: string | undefined;
		if (!RESERVED_TENANTS.has(tenantSegment.toLowerCase())) {
			const tenant = this.resolveTenant(req, tenantSegment);
			if (!('id' in tenant)) return { reply: tenant };
			tenantId = tenant.id;
		}
		const issuer = tenantId && v2 ? `https://${req.host}/${tenantId}/v2.0` : undefined;
		return { tenantId, reply: jsonReply(200, this.signer.jwks(issuer)) };
	}

	/**
	 * Admin consent: `GET /{tenant}/adminconsent?client_id&redirect_uri&state` (v1) or
	 * `GET /{tenant}/v2.0/adminconsent?client_id&scope&redirect_uri&state` (v2). Creates the service principal with the
	 * app's requested roles and redirects to redirect_uri with `admin_consent=True&tenant=…&state=…` (or error=…).
	 */
	adminConsent(req: EntraRequest, tenantSegment: string, requestedRoles: (clientId: string) => string[]): EntraOutcome {
		const clientId = req.query.get('client_id') ?? '';
		const redirect = req.query.get('redirect_uri');
		const state = req.query.get('state');
		let redirectUrl: URL | undefined;
		try {
			redirectUrl = redirect ? new URL(redirect) : undefined;
		} catch {
			redirectUrl = undefined;
		}
		if (!redirectUrl || !(redirectUrl.protocol === 'https:' || ['localhost', '127.0.0.1'].includes(redirectUrl.hostname))) {
			return { clientId, reply: this.error(req, 400, 'invalid_request', 50011, `The redirect URI '${redirect ?? ''}' specified in the request is not valid.`) };
		}
		const back = (params: Record<string, string>): Reply => {
			const target = new URL(redirectUrl.toString());
			for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
			if (state !== null) target.searchParams.set('state', state);
			return { status: 302, headers: { location: target.toString(), 'content-length': '0' } };
		};
		const tenant = this.directory.findTenant(tenantSegment);
		if (!tenant) {
			const reply = back({ error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenantSegment}' not found.` });
			reply.errorCode = 'invalid_tenant';
			reply.aadsts = 90002;
			return { clientId, reply };
		}
		const app = this.directory.findApp(clientId);
		if (!app || (!app.multiTenant && app.homeTenantId !== tenant.id)) {
			const reply = back({
				error: 'unauthorized_client',
				error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.name}'.`,
			});
			reply.errorCode = 'unauthorized_client';
			reply.aadsts = 700016;
			return { tenantId: tenant.id, clientId, reply };
		}
		this.directory.grantConsent(tenant.id, app.clientId, requestedRoles(app.clientId));
		return { tenantId: tenant.id, clientId: app.clientId, reply: back({ admin_consent: 'True', tenant: tenant.id }) };
	}
}

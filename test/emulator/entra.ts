/**
 * Entra ID endpoints: client-credentials token (v1 + v2), OpenID configuration, instance discovery, JWKS and the
 * admin-consent redirect. Error bodies follow https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes (error, error_description "AADSTS…\r\nTrace ID…",
 * error_codes, timestamp, trace_id, correlation_id, error_uri).
 */
import type { EmulatorClock } from './clock';
import { canonicalResource, type Directory, isGuid } from './directory';
import { guid, jsonReply, type Reply } from './http-util';
import type { JwtSigner } from './jwt';
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
			resource = canonicalResource(resourceRaw);
			if (!resource) return out(this.resourceNotFound(req, resourceRaw, tenant));
		} else {
			if (!scopeRaw) return missing('resource');
			resource = canonicalResource(scopeRaw);
			if (!resource) return out(this.resourceNotFound(req, scopeRaw, tenant));
		}

		const secret = form.get('client_secret');
		if (!secret) {
			if (form.get('client_assertion')) {
				return out(this.error(req, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.'));
			}
			return out(
				this.error(req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
			);
		}
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

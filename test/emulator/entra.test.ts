import { createPublicKey, verify } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { startEmulator, type Emulator } from './index';
import { ensureFetchTrustsEmulator, getToken, requestToken } from './test-helpers';

ensureFetchTrustsEmulator();

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROLES = ['Alert.ReadWrite.All', 'Machine.Read.All'];

let emu: Emulator;
let home: string;
let contoso: string;
let unconsented: string;
let clientId: string;
let secret: string;

const decode = (jwt: string) => ({
	header: JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as Record<string, unknown>,
	payload: JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>,
});

beforeAll(async () => {
	emu = await startEmulator();
	home = emu.addTenant({ name: 'Northwind', domains: ['northwind.onmicrosoft.com'] }).id;
	contoso = emu.addTenant({ id: '11111111-2222-3333-4444-555555555555', name: 'Contoso', domains: ['contoso.onmicrosoft.com', 'contoso.com'] }).id;
	unconsented = emu.addTenant({ name: 'Fabrikam' }).id;
	const app = emu.addApp({ name: 'MSSP app', homeTenantId: home });
	clientId = app.clientId;
	secret = app.secrets[0];
	emu.grantConsent(contoso, clientId, ROLES);
});
afterAll(() => emu.close());

const req = (over: Partial<Parameters<typeof requestToken>[1]> = {}) =>
	requestToken(emu.url, { tenant: contoso, clientId, clientSecret: secret, ...over });

describe('token endpoint (v2, client credentials)', () => {
	it('issues a Bearer token with numeric expires_in and nothing else', async () => {
		const { status, body } = await req({ extra: { 'x-client-SKU': 'msal.js.node', 'client-request-id': 'abc' } });
		expect(status).toBe(200);
		expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
		expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
	});

	it('signs an RS256 JWT verifiable with the JWKS, with Entra v1 app-only claims', async () => {
		const token = await getToken(emu.url, { tenant: 'contoso.onmicrosoft.com', clientId, clientSecret: secret });
		const { header, payload } = decode(token);
		expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
		const jwks = (await (await fetch(`${emu.url}/${contoso}/discovery/v2.0/keys`)).json()) as { keys: Array<Record<string, string>> };
		const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
		expect(jwk).toBeDefined();
		const [h, p, s] = token.split('.');
		const ok = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }), Buffer.from(s, 'base64url'));
		expect(ok).toBe(true);
		expect(payload).toMatchObject({
			aud: 'https://api.securitycenter.microsoft.com',
			iss: `https://sts.windows.net/${contoso}/`,
			tid: contoso,
			appid: clientId,
			roles: ROLES,
			ver: '1.0',
			idtyp: 'app',
		});
		expect(payload.oid).toMatch(GUID);
		expect((payload.exp as number) - (payload.iat as number)).toBe(3599);
		expect(payload.nbf).toBe(payload.iat);
		const again = decode(await getToken(emu.url, { tenant: contoso, clientId, clientSecret: secret })).payload;
		expect(again.uti).not.toBe(payload.uti);
		expect(again.oid).toBe(payload.oid); // same service principal
	});

	it('maps every accepted scope to its audience', async () => {
		for (const resource of ['https://securitycenter.onmicrosoft.com/windowsatpservice', 'https://api.security.microsoft.com', 'https://api-gov.securitycenter.microsoft.us']) {
			const token = await getToken(emu.url, { tenant: contoso, clientId, clientSecret: secret, scope: `${resource}/.default` });
			expect(decode(token).payload.aud).toBe(resource);
		}
	});

	it('omits the roles claim when the service principal has no application roles', async () => {
		emu.grantConsent(home, clientId, []);
		const token = await getToken(emu.url, { tenant: home, clientId, clientSecret: secret });
		expect('roles' in decode(token).payload).toBe(false);
	});

	it('serves the v1 endpoint with resource= and string-typed numbers', async () => {
		const { status, body } = await req({ resource: 'https://api.securitycenter.windows.com/' });
		expect(status).toBe(200);
		expect(body).toMatchObject({ token_type: 'Bearer', expires_in: '3599', ext_expires_in: '3599', resource: 'https://api.securitycenter.windows.com/' });
		expect(body.expires_on).toMatch(/^\d{10}$/);
		expect(decode(body.access_token as string).payload.aud).toBe('https://api.securitycenter.windows.com');
	});

	it('accepts client_secret_basic', async () => {
		const res = await fetch(`${emu.url}/${contoso}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
			},
			body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'https://api.securitycenter.microsoft.com/.default' }),
		});
		expect(res.status).toBe(200);
	});

	it('applies a runtime token lifetime change', async () => {
		emu.setTokenLifetime(600);
		try {
			const { body } = await req();
			expect(body.expires_in).toBe(600);
		} finally {
			emu.setTokenLifetime(3599);
		}
	});

	it('counts tokens per (tenant, client, scope) and never logs secrets or tokens', async () => {
		const before = emu.tokensIssued({ tenantId: contoso, clientId, scope: 'https://api.security.microsoft.com/.default' });
		const token = await getToken(emu.url, { tenant: contoso, clientId, clientSecret: secret, scope: 'https://api.security.microsoft.com/.default' });
		expect(emu.tokensIssued({ tenantId: contoso, clientId, scope: 'https://api.security.microsoft.com/.default' })).toBe(before + 1);
		const log = JSON.stringify(emu.requests({ kind: 'token' }));
		expect(log).not.toContain(secret);
		expect(log).not.toContain(token);
		const last = emu.tokenRequests({ tenantId: contoso }).pop()!;
		expect(last).toMatchObject({ kind: 'token', method: 'POST', status: 200, tenantId: contoso, clientId, viaProxy: false, scope: 'https://api.security.microsoft.com/.default' });
	});
});

describe('token endpoint errors (realistic AADSTS bodies)', () => {
	const cases: Array<[string, () => ReturnType<typeof req>, number, string, number, RegExp]> = [
		['unknown tenant', () => req({ tenant: '99999999-9999-4999-8999-999999999999' }), 400, 'invalid_tenant', 90002, /Tenant '99999999-9999-4999-8999-999999999999' not found/],
		['unknown domain', () => req({ tenant: 'nope.onmicrosoft.com' }), 400, 'invalid_tenant', 90002, /Tenant 'nope.onmicrosoft.com' not found/],
		['tenant common', () => req({ tenant: 'common' }), 400, 'invalid_request', 50059, /No tenant-identifying information/],
		['unknown client', () => req({ clientId: '00000000-1111-4222-8333-444444444444' }), 400, 'unauthorized_client', 700016, /Application with identifier '00000000-1111-4222-8333-444444444444' was not found in the directory 'Contoso'/],
		['wrong secret', () => req({ clientSecret: 'not-the-secret' }), 401, 'invalid_client', 7000215, /Invalid client secret provided\. Ensure the secret being sent in the request is the client secret value, not the client secret ID/],
		['no service principal', () => req({ tenant: unconsented }), 401, 'invalid_client', 7000229, new RegExp(`The client application ${'[0-9a-f-]{36}'} is missing service principal in the tenant ${'[0-9a-f-]{36}'}`)],
		['scope without /.default', () => req({ scope: 'https://api.securitycenter.microsoft.com/Alert.Read.All' }), 400, 'invalid_scope', 1002012, /Client credential flows must have a scope value with \/.default suffixed/],
		['scope of another resource', () => req({ scope: 'https://graph.microsoft.com/.default' }), 400, 'invalid_resource', 500011, /The resource principal named https:\/\/graph.microsoft.com was not found in the tenant named Contoso/],
		['two resources', () => req({ scope: 'https://api.securitycenter.microsoft.com/.default https://graph.microsoft.com/.default' }), 400, 'invalid_scope', 70011, /scope/],
		['wrong grant type', () => req({ extra: { grant_type: 'password' } }), 400, 'unsupported_grant_type', 70003, /unsupported grant type 'password'/],
		['http resource', () => req({ scope: 'http://api.securitycenter.microsoft.com/.default' }), 400, 'invalid_resource', 500011, /http:\/\/api.securitycenter.microsoft.com/],
	];

	it.each(cases)('%s', async (_name, call, status, error, code, message) => {
		const res = await call();
		expect(res.status).toBe(status);
		const b = res.body;
		expect(b.error).toBe(error);
		expect(b.error_codes).toEqual([code]);
		const description = b.error_description as string;
		expect(description.startsWith(`AADSTS${code}: `)).toBe(true);
		expect(description).toMatch(message);
		expect(description).toMatch(new RegExp(`\\r\\nTrace ID: ${b.trace_id}\\r\\nCorrelation ID: ${b.correlation_id}\\r\\nTimestamp: \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z$`));
		expect(b.trace_id).toMatch(GUID);
		expect(b.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
		expect(b.error_uri).toBe(`https://127.0.0.1:${emu.port}/error?code=${code}`);
	});

	it('echoes client-request-id as correlation_id', async () => {
		const id = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
		const res = await req({ clientSecret: 'x', headers: { 'client-request-id': id } });
		expect(res.body.correlation_id).toBe(id);
	});

	it('needs a form body (JSON bodies are not parsed)', async () => {
		const res = await fetch(`${emu.url}/${contoso}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
		});
		const body = (await res.json()) as Record<string, unknown>;
		expect(res.status).toBe(400);
		expect(body.error_codes).toEqual([900144]);
		expect(body.error_description).toContain("'grant_type'");
	});

	it('answers AADSTS7000222 for an expired secret and 7000229 after consent is revoked', async () => {
		const extra = emu.addSecret(clientId);
		emu.expireSecret(clientId, extra);
		const expired = await req({ clientSecret: extra });
		expect(expired.status).toBe(401);
		expect(expired.body.error_codes).toEqual([7000222]);

		const tenant = emu.addTenant({ name: 'Tailspin' }).id;
		emu.grantConsent(tenant, clientId, ROLES);
		expect((await req({ tenant })).status).toBe(200);
		emu.revokeConsent({ tenantId: tenant, clientId });
		const revoked = await req({ tenant });
		expect(revoked.status).toBe(401);
		expect(revoked.body).toMatchObject({ error: 'invalid_client', error_codes: [7000229] });
	});

	it('rejects a single-tenant app outside its home tenant with AADSTS700016', async () => {
		const single = emu.addApp({ name: 'Single', homeTenantId: home, multiTenant: false });
		emu.grantConsent(contoso, single.clientId, ROLES);
		const res = await req({ clientId: single.clientId, clientSecret: single.secrets[0] });
		expect(res.body.error_codes).toEqual([700016]);
	});
});

describe('discovery endpoints for msal-node custom authorities', () => {
	it('serves the OpenID configuration with the requested host and the tenant GUID', async () => {
		const res = await fetch(`${emu.url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
		const body = (await res.json()) as Record<string, string>;
		expect(res.status).toBe(200);
		expect(body.token_endpoint).toBe(`https://127.0.0.1:${emu.port}/${contoso}/oauth2/v2.0/token`);
		expect(body.issuer).toBe(`https://127.0.0.1:${emu.port}/${contoso}/v2.0`);
		expect(body.jwks_uri).toBe(`https://127.0.0.1:${emu.port}/${contoso}/discovery/v2.0/keys`);
		expect(body.authorization_endpoint).toContain('/oauth2/v2.0/authorize');
		const unknown = await fetch(`${emu.url}/does-not-exist.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
		expect(unknown.status).toBe(400);
		expect(((await unknown.json()) as Record<string, unknown>).error_codes).toEqual([90002]);
	});

	it('answers instance discovery for the requested authority host', async () => {
		const authorize = encodeURIComponent(`https://127.0.0.1:${emu.port}/${contoso}/oauth2/v2.0/authorize`);
		const res = await fetch(`${emu.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`);
		expect(await res.json()).toEqual({
			tenant_discovery_endpoint: `https://127.0.0.1:${emu.port}/${contoso}/v2.0/.well-known/openid-configuration`,
			'api-version': '1.1',
			metadata: [{ preferred_network: `127.0.0.1:${emu.port}`, preferred_cache: `127.0.0.1:${emu.port}`, aliases: [`127.0.0.1:${emu.port}`] }],
		});
		expect(emu.requests({ kind: 'discovery' }).length).toBeGreaterThan(0);
	});

	it('works with @azure/msal-node 7 (custom authority + knownAuthorities), including its error mapping', async () => {
		const authority = `${emu.url}/${contoso}`;
		const app = new ConfidentialClientApplication({ auth: { clientId, clientSecret: secret, authority, knownAuthorities: [`127.0.0.1:${emu.port}`] } });
		const since = emu.lastSeq();
		const first = await app.acquireTokenByClientCredential({ scopes: ['https://api.securitycenter.microsoft.com/.default'] });
		const second = await app.acquireTokenByClientCredential({ scopes: ['https://api.securitycenter.microsoft.com/.default'] });
		expect(first?.accessToken).toBeTruthy();
		expect(second?.fromCache).toBe(true);
		expect(emu.count({ kind: 'token', sinceSeq: since })).toBe(1);
		expect(emu.count({ kind: 'discovery', sinceSeq: since, path: '/v2.0/.well-known/openid-configuration' })).toBe(1);

		const bad = new ConfidentialClientApplication({ auth: { clientId, clientSecret: 'wrong', authority, knownAuthorities: [`127.0.0.1:${emu.port}`] } });
		const error = (await bad.acquireTokenByClientCredential({ scopes: ['https://api.securitycenter.microsoft.com/.default'] }).catch((e: unknown) => e)) as Record<string, unknown>;
		expect(error).toMatchObject({ errorCode: 'invalid_client', status: 401 });
		expect(Number(error.errorNo)).toBe(7000215);
	});

	it('grants consent through the admin-consent redirect', async () => {
		const tenant = emu.addTenant({ name: 'Woodgrove' }).id;
		const res = await fetch(
			`${emu.url}/${tenant}/v2.0/adminconsent?client_id=${clientId}&scope=https://api.securitycenter.microsoft.com/.default&redirect_uri=${encodeURIComponent('https://n8n.example.com/cb')}&state=s1`,
			{ redirect: 'manual' },
		);
		expect(res.status).toBe(302);
		const location = new URL(res.headers.get('location')!);
		expect(Object.fromEntries(location.searchParams)).toEqual({ admin_consent: 'True', tenant, state: 's1' });
		expect(emu.consents().find((c) => c.tenantId === tenant)?.roles).toContain('Alert.ReadWrite.All');
	});
});

/**
 * The emulator's token endpoint verifies certificate client assertions the way Microsoft Entra documents them
 * (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials): the certificate named by
 * x5t#S256 (or x5t) must be registered on the app, the signature must verify, aud must be the token endpoint, iss
 * and sub the client id, and now within nbf..exp. Driven over HTTPS with hand-made assertions.
 */
import { constants, createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';

import { createScenario, type Emulator, type Scenario, startEmulator } from '../emulator';
import { certs } from './certs';

let emu: Emulator;
let scenario: Scenario;

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function thumb(pem: string, alg: 'sha256' | 'sha1'): string {
	return createHash(alg).update(new X509Certificate(pem).raw).digest('base64url');
}

function assertion(options: { key?: string; cert?: string; alg?: 'PS256' | 'RS256'; claims?: Record<string, unknown>; header?: Record<string, unknown> } = {}): string {
	const cert = options.cert ?? certs.app.certificate;
	const alg = options.alg ?? 'PS256';
	const now = Math.floor(Date.now() / 1000);
	const header = { alg, typ: 'JWT', ...(alg === 'PS256' ? { 'x5t#S256': thumb(cert, 'sha256') } : { x5t: thumb(cert, 'sha1') }), ...options.header };
	const payload = {
		aud: `${emu.url}/${scenario.tenants[0].id}/oauth2/v2.0/token`,
		iss: scenario.clientId,
		sub: scenario.clientId,
		jti: randomUUID(),
		nbf: now,
		exp: now + 600,
		...options.claims,
	};
	const input = `${b64(header)}.${b64(payload)}`;
	const key = createPrivateKey(options.key ?? certs.app.privateKey);
	const signature =
		alg === 'PS256'
			? sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
			: sign('RSA-SHA256', Buffer.from(input), key);
	return `${input}.${signature.toString('base64url')}`;
}

async function token(clientAssertion: string, extra: Record<string, string> = {}): Promise<{ status: number; codes?: number[]; body: Record<string, unknown> }> {
	const response = await fetch(`${emu.url}/${scenario.tenants[0].id}/oauth2/v2.0/token`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({
			grant_type: 'client_credentials',
			client_id: scenario.clientId,
			scope: 'https://api.securitycenter.microsoft.com/.default',
			client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
			client_assertion: clientAssertion,
			...extra,
		}),
	});
	const body = (await response.json()) as Record<string, unknown>;
	return { status: response.status, codes: body.error_codes as number[] | undefined, body };
}

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	scenario = createScenario(emu, { tenants: 2, alertsPerTenant: 0, certificates: [certs.app.certificate] });
});
afterAll(async () => {
	await emu.close();
});

describe('client assertion verification', () => {
	it('issues a token for a valid PS256 assertion (x5t#S256) and for RS256 (x5t, SHA-1)', async () => {
		expect((await token(assertion())).status).toBe(200);
		expect((await token(assertion({ alg: 'RS256' }))).status).toBe(200);
		// aud may name the tenant by a verified domain; the v1 endpoint is accepted too
		expect((await token(assertion({ claims: { aud: `${emu.url}/${scenario.tenants[0].domain}/oauth2/token` } }))).status).toBe(200);
	});

	it.each([
		['a certificate not registered on the app', () => assertion({ key: certs.other.privateKey, cert: certs.other.certificate }), 401, 700027, /not registered on application.*The key was not found/],
		['a signature by another key', () => assertion({ key: certs.other.privateKey }), 401, 700027, /failed signature validation/],
		['aud of another tenant', () => assertion({ claims: { aud: `${emu.url}/${scenario.tenants[1].id}/oauth2/v2.0/token` } }), 401, 700023, /audience claim/],
		['aud of another host', () => assertion({ claims: { aud: `https://login.microsoftonline.com/${scenario.tenants[0].id}/oauth2/v2.0/token` } }), 401, 700023, /audience claim/],
		['an expired assertion', () => assertion({ claims: { nbf: 1_600_000_000, exp: 1_600_000_600 } }), 401, 700024, /not within its valid time range/],
		['iss of another app', () => assertion({ claims: { iss: '00000000-0000-0000-0000-000000000001' } }), 401, 700021, /application identifier/],
		['an unsupported algorithm', () => assertion({ header: { alg: 'HS256' } }), 401, 700027, /algorithm/],
		['a malformed assertion', () => 'not.a.jwt', 401, 50027, /malformed/],
	])('refuses %s', async (_name, make, status, code, message) => {
		const r = await token(make());
		expect(r.status).toBe(status);
		expect(r.codes).toEqual([code]);
		expect(String(r.body.error_description)).toMatch(message);
		expect(r.body.error).toBe('invalid_client');
	});

	it('refuses an unknown client_assertion_type', async () => {
		const r = await token(assertion(), { client_assertion_type: 'urn:example:other' });
		expect(r.status).toBe(400);
		expect(r.codes).toEqual([700025]);
	});

	it('the control API registers and removes certificates', async () => {
		const other = await fetch(`${emu.url}/_emulator/apps/${scenario.clientId}/certificates`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ pem: certs.other.certificate }),
		});
		const info = (await other.json()) as { thumbprintSha256: string; expired: boolean };
		expect(info.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
		expect(info.expired).toBe(false);
		expect((await token(assertion({ key: certs.other.privateKey, cert: certs.other.certificate }))).status).toBe(200);
		expect((await fetch(`${emu.url}/_emulator/apps/${scenario.clientId}/certificates/${info.thumbprintSha256}`, { method: 'DELETE' })).status).toBe(200);
		expect((await token(assertion({ key: certs.other.privateKey, cert: certs.other.certificate }))).codes).toEqual([700027]);
		expect(emu.apps().find((a) => a.clientId === scenario.clientId)?.certificates).toHaveLength(1);
	});
});

/**
 * Credential field validation never repeats a field's value (n8n stores error messages unencrypted with the
 * execution); it names the field, what a valid value looks like, and what the value seems to be.
 */
import { CredentialInputError, describeValue, looksLikeClientSecret, readCredential, validateTenantId } from '../../nodes/MicrosoftDefenderForEndpoint/core/credentials';
import { judgeStoredToken, STORED_TOKEN_MARGIN_MS } from '../../nodes/MicrosoftDefenderForEndpoint/core/storedToken';
import { audienceMatchesScope, knownWrongAudience, wrongAudienceAdvice } from '../../nodes/MicrosoftDefenderForEndpoint/core/audience';

const SECRET = 'Qx58Q~Sentinel.Secret_value-0123456789abc';
const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f';
const good = { cloud: 'commercial', tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET };

function failure(data: Record<string, unknown>): CredentialInputError {
	try {
		readCredential(data);
	} catch (error) {
		if (error instanceof CredentialInputError) return error;
		throw error;
	}
	throw new Error('expected a credential input error');
}

describe('no credential field value in any message', () => {
	const cases: Array<[string, Record<string, unknown>, RegExp]> = [
		['secret in Application ID (fields swapped)', { ...good, clientId: SECRET, clientSecret: CLIENT }, /Application \(client\) ID is not a GUID \(the value entered looks like a client secret value: did you paste the client secret into this field\?\)/],
		['secret in Tenant ID', { ...good, tenantId: SECRET }, /Tenant ID \(the value entered looks like a client secret value\) is neither a GUID nor a domain/],
		['tenant domain in Application ID', { ...good, clientId: 'contoso.onmicrosoft.com' }, /looks like a domain name: did you swap Tenant ID and Application \(client\) ID\?/],
		['tenant GUID as Application ID', { ...good, clientId: TENANT }, /same GUID as the Tenant ID/],
		['secret as the custom Token Scope', { ...good, cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl: 'https://api.example.com', scope: SECRET }, /Token scope is not an application scope/],
		['secret as the Authority Host URL', { ...good, cloud: 'custom', authorityHost: SECRET, apiBaseUrl: 'https://api.example.com' }, /Authority Host URL is not a URL/],
		['short app name as Application ID', { ...good, clientId: 'my-app' }, /Application \(client\) ID is not a GUID \(the value entered has 6 characters\)/],
	];
	it.each(cases)('%s', (_name, data, message) => {
		const e = failure(data);
		expect(e.message).toMatch(message);
		const text = `${e.message} ${e.hint}`;
		for (const key of ['tenantId', 'clientId', 'scope', 'authorityHost']) {
			const v = String(data[key] ?? '');
			if (v && v !== good[key as keyof typeof good]) expect(text).not.toContain(v);
		}
		expect(text).not.toContain(SECRET);
	});

	it('describes values by their shape', () => {
		expect(looksLikeClientSecret(SECRET)).toBe(true);
		expect(looksLikeClientSecret('contoso.onmicrosoft.com')).toBe(false);
		expect(looksLikeClientSecret(TENANT)).toBe(false);
		expect(describeValue('https://x.example')).toMatch(/URL/);
		expect(describeValue('a@b.com')).toMatch(/e-mail/);
	});

	it('a node parameter (Customer Tenant, trigger Tenants) may be named, unless it looks secret', () => {
		expect(() => validateTenantId('not a tenant!', 'Customer Tenant')).toThrow(/Customer Tenant "not a tenant!" is neither a GUID nor a domain/);
		expect(() => validateTenantId(SECRET, 'Customer Tenant')).toThrow(/Customer Tenant \(the value entered looks like a client secret value\)/);
		expect(() => validateTenantId(SECRET, 'Customer Tenant')).not.toThrow(new RegExp(SECRET.replace(/[.~]/g, '\\$&')));
	});
});

describe('a stored token may be used instead of a sign-in only while it is valid for the target', () => {
	const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const now = Date.UTC(2026, 0, 1, 12);
	const token = (claims: Record<string, unknown>) =>
		`${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ aud: 'https://api.securitycenter.microsoft.com', tid: TENANT, appid: CLIENT, exp: now / 1000 + 3600, nbf: now / 1000 - 60, ...claims })}.sig`;
	const target = { tenantId: TENANT, clientId: CLIENT, scope: 'https://api.securitycenter.microsoft.com/.default' };

	it.each([
		['valid', {}, target, true],
		['expiring within the 5-minute margin', { exp: (now + STORED_TOKEN_MARGIN_MS - 1000) / 1000 }, target, 'expired'],
		['for another tenant', { tid: '22222222-3333-4444-5555-666666666666' }, target, 'otherTenant'],
		['for another API', { aud: 'https://graph.microsoft.com' }, target, 'otherAudience'],
		['for another app', { appid: '00000000-0000-0000-0000-000000000001' }, target, 'otherApp'],
		['v2 token with azp and the WindowsDefenderATP app id as aud', { appid: undefined, azp: CLIENT, aud: 'fc780465-2017-40d4-a0c5-307022471b92' }, target, true],
		['domain tenant with its known GUID', {}, { ...target, tenantId: 'contoso.onmicrosoft.com', tenantGuid: TENANT }, true],
		['domain tenant whose GUID is not known yet', {}, { ...target, tenantId: 'contoso.onmicrosoft.com' }, 'unknownTenant'],
	])('%s', (_name, claims, t, want) => {
		const verdict = judgeStoredToken(token(claims), t, now);
		if (want === true) expect(verdict.usable).toBe(true);
		else expect(verdict).toEqual({ usable: false, reason: want });
	});

	it('rejects what is not a JWT', () => {
		expect(judgeStoredToken('not-a-token', target, now)).toEqual({ usable: false, reason: 'malformed' });
	});
});

describe('token audience', () => {
	it('knows Defender resources and names other Microsoft APIs', () => {
		expect(knownWrongAudience('https://api.securitycenter.microsoft.com/')).toBeUndefined();
		expect(knownWrongAudience('https://graph.microsoft.com')).toEqual({ audience: 'https://graph.microsoft.com', api: 'Microsoft Graph' });
		expect(knownWrongAudience('https://management.azure.com/')).toMatchObject({ api: 'Azure Resource Manager' });
		expect(knownWrongAudience('https://custom.example.com')).toBeUndefined();
		expect(audienceMatchesScope('https://securitycenter.onmicrosoft.com/windowsatpservice', 'https://securitycenter.onmicrosoft.com/windowsatpservice/.default')).toBe(true);
		expect(wrongAudienceAdvice({ audience: 'https://graph.microsoft.com', api: 'Microsoft Graph' }, 'https://graph.microsoft.com/.default', true)).toMatch(
			/for Microsoft Graph \(https:\/\/graph\.microsoft\.com\), not for the Defender for Endpoint API\. Set the credential's Token Scope/,
		);
	});
});

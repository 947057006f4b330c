import { alertPortalUrl, apiBaseForRegion, consentLink, resolveCloud, REGIONS } from '../../nodes/MicrosoftDefenderForEndpoint/core/clouds';

describe('clouds and regions', () => {
	it('ties login host, scope, API host and portal together per cloud', () => {
		expect(resolveCloud({ cloud: 'commercial' })).toMatchObject({
			authorityHost: 'https://login.microsoftonline.com',
			scope: 'https://api.securitycenter.microsoft.com/.default',
			apiBaseUrl: 'https://api.security.microsoft.com',
			portalUrl: 'https://security.microsoft.com',
			customAuthority: false,
		});
		expect(resolveCloud({ cloud: 'gcc' })).toMatchObject({ authorityHost: 'https://login.microsoftonline.com', apiBaseUrl: 'https://api-gcc.securitycenter.microsoft.us' });
		expect(resolveCloud({ cloud: 'gccHigh' })).toMatchObject({ authorityHost: 'https://login.microsoftonline.us', apiBaseUrl: 'https://api-gov.securitycenter.microsoft.us', portalUrl: 'https://security.microsoft.us' });
		expect(resolveCloud({ cloud: 'dod' })).toMatchObject({ authorityHost: 'https://login.microsoftonline.us', portalUrl: 'https://security.apps.mil' });
	});

	it('maps every commercial region to its host', () => {
		const c = resolveCloud({ cloud: 'commercial' });
		expect(REGIONS.map((r) => apiBaseForRegion(c, r))).toEqual([
			'https://api.security.microsoft.com',
			'https://us.api.security.microsoft.com',
			'https://eu.api.security.microsoft.com',
			'https://uk.api.security.microsoft.com',
			'https://au.api.security.microsoft.com',
			'https://swa.api.security.microsoft.com',
			'https://ina.api.security.microsoft.com',
			'https://aea.api.security.microsoft.com',
		]);
	});

	it('refuses a region with a government or custom cloud instead of falling back', () => {
		expect(() => apiBaseForRegion(resolveCloud({ cloud: 'gccHigh' }), 'eu')).toThrow(/only available in the Commercial cloud/);
		expect(() => apiBaseForRegion(resolveCloud({ cloud: 'custom', authorityHost: 'https://login.test', apiBaseUrl: 'https://api.test' }), 'us')).toThrow(/Commercial/);
		expect(() => apiBaseForRegion(resolveCloud({ cloud: 'commercial' }), 'mars')).toThrow(/Unknown region/);
	});

	it('validates custom clouds: https only, no query, /.default scope', () => {
		expect(() => resolveCloud({ cloud: 'custom', authorityHost: 'http://login.test', apiBaseUrl: 'https://api.test' })).toThrow(/must use https/);
		expect(() => resolveCloud({ cloud: 'custom', authorityHost: 'https://login.test', apiBaseUrl: 'https://api.test?x=1' })).toThrow(/query/);
		expect(() => resolveCloud({ cloud: 'custom', authorityHost: 'https://login.test', apiBaseUrl: 'https://api.test', scope: 'https://api.test' })).toThrow(/\.default/);
		expect(resolveCloud({ cloud: 'custom', authorityHost: 'https://login.test/', apiBaseUrl: 'https://api.test/api/' })).toMatchObject({
			authorityHost: 'https://login.test',
			apiBaseUrl: 'https://api.test',
			customAuthority: true,
		});
	});

	it('builds the partner-guide consent link for the cloud and portal links', () => {
		expect(consentLink(resolveCloud({ cloud: 'commercial' }), '5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f')).toBe(
			'https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f&response_type=code&sso_reload=true',
		);
		expect(consentLink(resolveCloud({ cloud: 'dod' }), 'x')).toMatch(/^https:\/\/login\.microsoftonline\.us\/common\/oauth2\/authorize\?/);
		expect(alertPortalUrl(resolveCloud({ cloud: 'gccHigh' }), 'da1_2', '11111111-1111-1111-1111-111111111111')).toBe(
			'https://security.microsoft.us/alerts/da1_2?tid=11111111-1111-1111-1111-111111111111',
		);
	});
});

import { redact, redactDeep, registerSecret } from '../../nodes/MicrosoftDefenderForEndpoint/core/redact';
import { PACKAGE_VERSION, USER_AGENT } from '../../nodes/MicrosoftDefenderForEndpoint/core/version';

describe('redaction and identification', () => {
	it('masks registered secrets, JWTs, bearer headers and client_secret form fields', () => {
		registerSecret('S3ntinel~Secret.Value_123');
		const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl';
		const text = `secret S3ntinel~Secret.Value_123 token ${jwt} Authorization: Bearer abcdefghijk client_secret=zzz&x=1`;
		const out = redact(text);
		expect(out).not.toContain('S3ntinel~Secret.Value_123');
		expect(out).not.toContain(jwt);
		expect(out).not.toContain('abcdefghijk');
		expect(out).not.toContain('zzz');
		expect(redactDeep({ a: [{ clientSecret: 'x', b: jwt }] })).toEqual({ a: [{ clientSecret: '[redacted]', b: '[redacted token]' }] });
	});

	it('sends the partner User-Agent with the package version', () => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const pkg = require('../../package.json') as { version: string };
		expect(PACKAGE_VERSION).toBe(pkg.version);
		expect(USER_AGENT).toMatch(/^MdePartner-[A-Za-z0-9]+-[A-Za-z0-9]+\/\d+\.\d+\.\d+$/);
	});
});

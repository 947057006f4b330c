/**
 * One owner per fact: where a fact has to appear in two forms (a table in core/ and an n8n description or
 * expression derived from it), these tests check that the two agree.
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { MicrosoftDefenderForEndpointApi, ONBOARDING_GUIDE_URL } from '../../credentials/MicrosoftDefenderForEndpointApi.credentials';
import { apiBaseForRegion, apiBaseUrlExpression, CLOUDS, consentLink, fixedClouds, REGIONS, resolveCloud } from '../../nodes/MicrosoftDefenderForEndpoint/core/clouds';
import { isGuid } from '../../nodes/MicrosoftDefenderForEndpoint/core/ids';
import { DEFAULT_THROTTLE_WAIT_SECONDS, LimitInputError, parseMaxThrottleWaitMs, THROTTLE_WAIT } from '../../nodes/MicrosoftDefenderForEndpoint/core/limits';
import { regionProperty } from '../../nodes/MicrosoftDefenderForEndpoint/descriptions/common';
import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';

/** Evaluate a `={{ … }}` credential expression the way n8n does for `$credentials` (plain JavaScript). */
function evaluate(expression: string, credentials: Record<string, unknown>): unknown {
	const match = /^=\{\{([\s\S]*)\}\}$/.exec(expression);
	if (!match) throw new Error(`not an n8n expression: ${expression}`);
	return new Function('$credentials', `return (${match[1]});`)(credentials);
}

const credential = new MicrosoftDefenderForEndpointApi();
const byName = (props: INodeProperties[], name: string) => props.find((p) => p.name === name)!;

describe('clouds: the credential form and its test request derive from core/clouds', () => {
	it('the test request base URL (an n8n expression) equals resolveCloud for every fixed cloud', () => {
		const expression = credential.test.request.baseURL as string;
		expect(expression).toBe(apiBaseUrlExpression());
		for (const { cloud } of fixedClouds()) {
			expect([cloud, evaluate(expression, { cloud })]).toEqual([cloud, resolveCloud({ cloud }).apiBaseUrl]);
		}
	});

	it('… and for custom clouds, with the same trimming of a trailing slash and /api', () => {
		for (const apiBaseUrl of ['https://api.example.com', 'https://api.example.com/', ' https://api.example.com/api ', 'https://h.example/x/api/']) {
			const settings = { cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl };
			expect(evaluate(credential.test.request.baseURL as string, settings)).toBe(resolveCloud(settings).apiBaseUrl);
		}
	});

	it('the Cloud options are exactly the clouds core/clouds knows, in its order (Commercial, GCC, GCC High, DoD, Custom)', () => {
		const options = byName(credential.properties, 'cloud').options as INodePropertyOptions[];
		expect(options.map((o) => o.value)).toEqual([...CLOUDS]);
		expect(CLOUDS).toEqual(['commercial', 'gcc', 'gccHigh', 'dod', 'custom']);
	});

	it('each consent notice shows the link consentLink builds, for the clouds that use its host', () => {
		const notices = credential.properties.filter((p) => p.type === 'notice');
		const covered = notices.flatMap((n) => (n.displayOptions?.show?.cloud ?? []) as string[]);
		expect(covered.sort()).toEqual(fixedClouds().map((c) => c.cloud).sort());
		for (const notice of notices) {
			const cloud = (notice.displayOptions!.show!.cloud as string[])[0];
			// the host consentLink sends this cloud's administrators to, and a link n8n renders as a clickable anchor
			expect(notice.displayName).toContain(` at ${new URL(consentLink(resolveCloud({ cloud }), 'X')).host}, `);
			expect(notice.displayName).toContain(`<a href="${ONBOARDING_GUIDE_URL}" target="_blank">`);
			expect(notice.displayName).toContain('Tenant → Get Consent Link');
			// short, and only markup n8n's notice renders (no <code>, which showed as text)
			expect(notice.displayName.replace(/<[^>]+>/g, '').length).toBeLessThan(260);
			expect(notice.displayName.match(/<\/?([a-z]+)/g)?.map((t) => t.replace(/[</]/g, '')).every((t) => ['a', 'b'].includes(t))).toBe(true);
		}
		// the two consent hosts are different, so each cloud group names its own
		expect(new Set(notices.map((n) => n.displayName)).size).toBe(notices.length);
	});
});

describe('regions: the node options derive from core/clouds', () => {
	it('lists every region once, Global first, and names the host the transport sends to', () => {
		const options = regionProperty.options as INodePropertyOptions[];
		expect(options.map((o) => o.value)).toEqual(REGIONS);
		const commercial = resolveCloud({ cloud: 'commercial' });
		for (const option of options) {
			const host = new URL(apiBaseForRegion(commercial, option.value as string)).host;
			expect(option.description).toContain(host);
		}
	});
});

describe('Max Throttle Wait: one owner for defaults, bounds and parsing', () => {
	it('the action node option uses the action limits', () => {
		const node = new MicrosoftDefenderForEndpoint();
		const collections = node.description.properties.filter((p) => p.name === 'options' && p.type === 'collection');
		expect(collections.length).toBeGreaterThan(0);
		for (const collection of collections) {
			const wait = (collection.options as INodeProperties[]).find((o) => o.name === 'maxThrottleWait');
			if (!wait) continue;
			expect({ default: wait.default, max: wait.typeOptions?.maxValue }).toEqual({ default: THROTTLE_WAIT.action.defaultSeconds, max: THROTTLE_WAIT.action.maxSeconds });
		}
	});

	it('one default for both nodes (the trigger\'s poll budget bounds its wait anyway); only the maxima differ', () => {
		expect(THROTTLE_WAIT.action.defaultSeconds).toBe(DEFAULT_THROTTLE_WAIT_SECONDS);
		expect(THROTTLE_WAIT.trigger.defaultSeconds).toBe(DEFAULT_THROTTLE_WAIT_SECONDS);
		expect(DEFAULT_THROTTLE_WAIT_SECONDS).toBe(300);
	});

	it('parses seconds (number or numeric string), defaults when unset, rejects out-of-range values', () => {
		expect(parseMaxThrottleWaitMs(undefined, THROTTLE_WAIT.action)).toBe(300_000);
		expect(parseMaxThrottleWaitMs(undefined, THROTTLE_WAIT.trigger)).toBe(300_000);
		expect(parseMaxThrottleWaitMs('1.5', THROTTLE_WAIT.trigger)).toBe(1500);
		expect(parseMaxThrottleWaitMs(0, THROTTLE_WAIT.trigger)).toBe(0);
		for (const bad of [-1, 3601, 'soon', Number.NaN, {}]) {
			expect(() => parseMaxThrottleWaitMs(bad, THROTTLE_WAIT.trigger)).toThrow(LimitInputError);
		}
		expect(() => parseMaxThrottleWaitMs(86_401, THROTTLE_WAIT.action)).toThrow('from 0 to 86400');
	});
});

describe('ids', () => {
	it('isGuid accepts the 8-4-4-4-12 form only', () => {
		expect(isGuid('11111111-2222-3333-4444-555555555555')).toBe(true);
		expect(isGuid('ABCDEF00-2222-3333-4444-555555555555')).toBe(true);
		for (const bad of ['', '11111111-2222-3333-4444-55555555555', '1111111122223333444455555555555x', 'contoso.onmicrosoft.com', undefined, 42]) {
			expect(isGuid(bad)).toBe(false);
		}
	});
});

/** Pure parts of the Indicator resource: value checks per type, actions per type, import grouping, errors, filters. */
import fc from 'fast-check';

import { alignImportResults } from '../../nodes/MicrosoftDefenderForEndpoint/backend/indicators';
import { isAgentFilled, isAgentToolRun } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/agentGuard';
import {
	ACTIONS_BY_TYPE,
	actionProblem,
	buildIndicatorFilter,
	capMessage,
	expandIpv6,
	expirationProblem,
	indicatorIdProblem,
	indicatorKey,
	INDICATOR_TYPES,
	isBlockingAction,
	isIndicatorCapError,
	normalizeIndicatorValue,
	parseGroupNames,
	planImportCalls,
	valueSpellings,
} from '../../nodes/MicrosoftDefenderForEndpoint/helpers/indicators';
import { DOCUMENTED_BUDGETS } from '../../nodes/MicrosoftDefenderForEndpoint/transport/pacer';
import { DEFAULT_RATE_LIMITS } from '../emulator';
import { ACTIONS_BY_TYPE as EMULATOR_ACTIONS_BY_TYPE, INDICATOR_ROLES as EMULATOR_ROLES } from '../emulator/indicators';
import { INDICATOR_ROLES, rolesFor } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/permissions';

const SHA256 = '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';
const SHA1 = '0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33';
const MD5 = 'acbd18db4cc2f85cedef654fccc4a4d8';

const value = (type: Parameters<typeof normalizeIndicatorValue>[0], raw: unknown) => normalizeIndicatorValue(type, raw);

describe('values per type', () => {
	test.each([
		['FileSha256', ` ${SHA256} `, SHA256],
		['FileSha256', SHA256.toUpperCase(), SHA256.toUpperCase()],
		['FileSha1', SHA1, SHA1],
		['FileMd5', MD5, MD5],
		['CertificateThumbprint', '0b ee c7 b5 ea 3f 0f db c9 5d 0d d4 7f 3c 5b c2 75 da 8a 33', SHA1],
		['CertificateThumbprint', '0B:EE:C7:B5:EA:3F:0F:DB:C9:5D:0D:D4:7F:3C:5B:C2:75:DA:8A:33', SHA1.toUpperCase()],
		['IpAddress', '203.0.113.7', '203.0.113.7'],
		['IpAddress', '2001:4860:4860::8888', '2001:4860:4860:0:0:0:0:8888'],
		['IpAddress', '2001:DB8:0:0:0:0:0:0001', '2001:db8:0:0:0:0:0:1'],
		['DomainName', 'Evil.Example.COM.', 'evil.example.com'],
		['DomainName', 'bücher.example', 'bücher.example'],
		['Url', 'https://evil.example.com/path?q=1', 'https://evil.example.com/path?q=1'],
		['Url', 'evil.example.com/download', 'evil.example.com/download'],
		['Url', 'http://[2001:db8::7]/x', 'http://[2001:db8::7]/x'],
	] as const)('%s %p → %p', (type, raw, expected) => {
		expect(value(type, raw)).toEqual({ ok: true, value: expected });
	});

	test.each([
		['FileSha256', '', /Value is empty/, /Enter the File SHA-256/],
		['FileSha256', SHA1, /has 40 hexadecimal characters, not 64/, /SHA-1 hash \(File SHA-1/],
		['FileSha1', SHA256, /has 64 hexadecimal characters, not 40/, /SHA-256 hash \(File SHA-256\)/],
		['FileMd5', `${MD5.slice(0, 31)}g`, /contains "g"/, /32 hexadecimal/],
		['IpAddress', '203.0.113.0/24', /network range \(CIDR\)/, /CIDR notation/],
		['IpAddress', '203.0.113.1-203.0.113.9', /range or wildcard/, /one indicator per address/],
		['IpAddress', '10.1.2.3', /internal address/, /external IP addresses only/],
		['IpAddress', '192.168.0.10', /internal address/, /external/],
		['IpAddress', '::1', /internal address/, /external/],
		['IpAddress', 'fe80::1%eth0', /zone index/, /internal/],
		['IpAddress', 'evil.example.com', /not an IP address/, /Domain Name/],
		['IpAddress', '999.1.1.1', /not an IP address/, /IPv4/],
		['DomainName', 'https://evil.example.com/x', /is a URL/, /Indicator Type URL/],
		['DomainName', '*.example.com', /wildcard/, /subdomains/],
		['DomainName', '203.0.113.7', /is an IP address/, /IP Address/],
		['DomainName', 'localhost', /no top-level domain/, /example\.com/],
		['DomainName', 'bad_label.example.com', /label "bad_label"/, /example\.com/],
		['DomainName', '-x.example.com', /label "-x"/, /example\.com/],
		['Url', 'ftp://files.example.com/a', /ftp: URL/, /http:\/\//],
		['Url', 'https://exa mple.com', /whitespace/, /%20/],
		['Url', 'https://nohost/', /not a valid URL: its host has no top-level domain/, /https:\/\/example\.com/],
	] as const)('%s %p is refused', (type, raw, message, hint) => {
		const r = value(type, raw);
		expect(r.ok).toBe(false);
		if (r.ok) return;
		expect(r.message).toMatch(message);
		expect(r.hint).toMatch(hint);
	});

	test('IPv6 expansion keeps the address (property)', () => {
		const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
		fc.assert(
			fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }), (groups, start, len) => {
				const full = groups.join(':');
				// compress a run of groups to '::' as writers do (only zeros may be compressed)
				const end = Math.min(8, start + len);
				const zeroed = groups.map((g, k) => (k >= start && k < end ? '0' : g));
				const compressed = end > start ? `${zeroed.slice(0, start).join(':')}::${zeroed.slice(end).join(':')}` : full;
				expect(expandIpv6(compressed)).toBe(zeroed.map((g) => g.replace(/^0+(?=.)/, '')).join(':'));
			}),
		);
		expect(expandIpv6('::ffff:203.0.113.7')).toBe('0:0:0:0:0:ffff:cb00:7107');
	});
});

describe('actions per type', () => {
	test('the documented table', () => {
		expect(ACTIONS_BY_TYPE.CertificateThumbprint).toEqual(['Allowed', 'BlockAndRemediate']);
		expect(actionProblem('IpAddress', 'BlockAndRemediate')?.message).toBe('Action "Block and Remediate" is not available for IP Address indicators');
		expect(actionProblem('IpAddress', 'BlockAndRemediate')?.hint).toMatch(/Allow, Audit, Warn, Block Execution/);
		expect(actionProblem('CertificateThumbprint', 'Block')).toBeDefined();
		expect(actionProblem('FileSha1', 'BlockAndRemediate')).toBeUndefined();
		for (const type of INDICATOR_TYPES) {
			// legacy names are left to the API (accepted until January 2022; current behaviour not documented)
			expect(actionProblem(type, 'Alert')).toBeUndefined();
			expect(actionProblem(type, 'AlertAndBlock')).toBeUndefined();
		}
	});
	test('blocking actions', () => {
		expect(['Block', 'BlockAndRemediate', 'AlertAndBlock'].every(isBlockingAction)).toBe(true);
		expect(['Allowed', 'Audit', 'Warn', 'Alert'].some(isBlockingAction)).toBe(false);
	});
});

test('expiration must be in the future', () => {
	const now = Date.parse('2030-01-01T00:00:00Z');
	expect(expirationProblem('2030-01-02T00:00:00.0000000Z', now)).toBeUndefined();
	expect(expirationProblem('2029-12-31T23:59:59.0000000Z', now)?.message).toBe('Expiration Time 2029-12-31T23:59:59.0000000Z is in the past');
	expect(expirationProblem('2030-01-01T00:00:00.0000000Z', now)).toBeDefined();
});

test('device groups, IDs, filters, spellings', () => {
	expect(parseGroupNames(' Servers, Finance ,Servers\nLaptops ')).toEqual(['Servers', 'Finance', 'Laptops']);
	expect(parseGroupNames(['A,B', 'C'])).toEqual(['A', 'B', 'C']);
	expect(indicatorIdProblem('5123')).toBeUndefined();
	expect(indicatorIdProblem(SHA1)?.hint).toMatch(/Delete By to Value/);
	expect(indicatorIdProblem('evil.example.com')?.hint).toMatch(/Delete By to Value/);
	expect(buildIndicatorFilter({ types: ['FileSha1'], actions: ['Block', 'Warn'], values: ["o'brien.example"], raw: "severity eq 'High'" })).toBe(
		"indicatorValue eq 'o''brien.example' and indicatorType eq 'FileSha1' and (action eq 'Block' or action eq 'Warn') and (severity eq 'High')",
	);
	expect(buildIndicatorFilter({})).toBeUndefined();
	expect(valueSpellings('FileSha1', 'AbC')).toEqual(['AbC', 'abc', 'ABC']);
	expect(valueSpellings('Url', 'https://A.example/P')).toEqual(['https://A.example/P']);
});

describe('import calls', () => {
	test('2,000 distinct indicators: 4 calls of 500', () => {
		const calls = planImportCalls(Array.from({ length: 2000 }, (_, k) => `k${k}`));
		expect(calls.map((c) => c.length)).toEqual([500, 500, 500, 500]);
		expect(calls.flat()).toEqual(Array.from({ length: 2000 }, (_, k) => k));
	});

	test('a repeated indicator goes into a later call than its previous occurrence', () => {
		expect(planImportCalls(['a', 'b', 'a', 'c', 'a'], 3)).toEqual([[0, 1, 3], [2], [4]]);
	});

	test('property: every item once, calls ≤ max, no duplicate key per call, repeats in input order, minimal calls without repeats', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (raw, max) => {
				const keys = raw.map((n) => `k${n}`);
				const calls = planImportCalls(keys, max);
				expect(calls.flat().sort((a, b) => a - b)).toEqual(keys.map((_, k) => k));
				const callOf = new Map<number, number>();
				calls.forEach((c, n) => {
					expect(c.length).toBeGreaterThan(0);
					expect(c.length).toBeLessThanOrEqual(max);
					expect(new Set(c.map((k) => keys[k])).size).toBe(c.length);
					for (const k of c) callOf.set(k, n);
				});
				const last = new Map<string, number>();
				keys.forEach((key, k) => {
					if (last.has(key)) expect(callOf.get(k)!).toBeGreaterThan(callOf.get(last.get(key)!)!);
					last.set(key, k);
				});
				const maxRepeats = Math.max(0, ...[...new Set(keys)].map((key) => keys.filter((k) => k === key).length));
				expect(calls.length).toBeGreaterThanOrEqual(Math.max(Math.ceil(keys.length / max), maxRepeats));
				if (maxRepeats <= 1) expect(calls.length).toBe(Math.ceil(keys.length / max));
			}),
		);
	});

	test('the upsert key ignores case', () => {
		expect(indicatorKey('FileSha1', SHA1.toUpperCase())).toBe(indicatorKey('FileSha1', SHA1));
	});
});

describe('import results', () => {
	const inputs = [{ indicatorValue: 'a' }, { indicatorValue: 'b' }, { indicatorValue: 'c' }];
	test('by position when the response lists every indicator in order', () => {
		const body = { value: inputs.map((x, k) => ({ id: String(k), indicator: x.indicatorValue, isFailed: k === 1, failureReason: k === 1 ? 'bad' : null })) };
		expect(alignImportResults(inputs, body).map((r) => [r.id, r.isFailed, r.failureReason])).toEqual([
			['0', false, null],
			['1', true, 'bad'],
			['2', false, null],
		]);
	});
	test('by value when the order or count differs, PascalCase tolerated, a missing result is a failure', () => {
		const body = { Value: [{ Id: '9', Indicator: 'C', IsFailed: false }, { id: '7', indicator: 'a', isFailed: 'false' }] };
		const r = alignImportResults(inputs, body);
		expect(r.map((x) => [x.id, x.isFailed])).toEqual([
			['7', false],
			[null, true],
			['9', false],
		]);
		expect(r[1].failureReason).toBe('Defender returned no import result for this indicator');
		expect(alignImportResults(inputs, undefined).every((x) => x.isFailed)).toBe(true);
	});
});

test('the tenant cap error is recognised in any wording we could expect, not the batch-size error', () => {
	expect(isIndicatorCapError('BadRequest', 'The maximum number of active indicators (15000) for this tenant has been reached.')).toBe(true);
	expect(isIndicatorCapError(undefined, 'Indicators limit exceeded')).toBe(true);
	expect(isIndicatorCapError('MaxIndicatorsExceeded', '')).toBe(true);
	expect(isIndicatorCapError(undefined, 'Tenant reached the limit of 15,000 active IoCs')).toBe(true);
	expect(isIndicatorCapError('MaximumBatchSizeExceeded', 'Maximum batch size exceeded. Received: 501, allowed: 500.')).toBe(false);
	expect(isIndicatorCapError('InvalidHashValue', 'Invalid hash value')).toBe(false);
	expect(capMessage('t1').message).toBe("Tenant t1 has reached Defender's limit of 15,000 active indicators");
});

test('pacing: documented budgets for indicators and import', () => {
	expect(DOCUMENTED_BUDGETS.indicators).toEqual([
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	]);
	expect(DOCUMENTED_BUDGETS.indicatorImport).toEqual([{ limit: 30, windowMs: 60_000 }]);
});

test('facts in two places agree: budgets, actions per type and roles (node vs emulator)', () => {
	expect(DEFAULT_RATE_LIMITS.indicators).toEqual(DOCUMENTED_BUDGETS.indicators);
	expect(DEFAULT_RATE_LIMITS.indicatorImport).toEqual(DOCUMENTED_BUDGETS.indicatorImport);
	expect(EMULATOR_ACTIONS_BY_TYPE).toEqual(ACTIONS_BY_TYPE);
	expect([...EMULATOR_ROLES].sort()).toEqual([...INDICATOR_ROLES].sort());
	for (const op of ['submit', 'submitMany', 'getAll', 'delete']) expect(rolesFor(`indicator.${op}`)).toEqual(INDICATOR_ROLES);
});

test('agent guard: tool runs and $fromAI values', () => {
	expect(isAgentToolRun({ type: 'n8n-nodes-defender-endpoint.microsoftDefenderForEndpoint' }, false)).toBe(false);
	expect(isAgentToolRun({ type: 'n8n-nodes-defender-endpoint.microsoftDefenderForEndpointTool' }, false)).toBe(true);
	expect(isAgentToolRun({ type: 'x.microsoftDefenderForEndpoint', rewireOutputLogTo: 'ai_tool' }, false)).toBe(true);
	expect(isAgentToolRun({ type: 'x.microsoftDefenderForEndpoint' }, true)).toBe(true);
	expect(isAgentFilled("={{ $fromAI('allow', 'may I block?', 'boolean') }}")).toBe(true);
	expect(isAgentFilled('={{ true }}')).toBe(false);
	expect(isAgentFilled(true)).toBe(false);
});

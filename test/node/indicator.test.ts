/** Indicator: Submit, Submit Many, Get Many, Delete through n8n's engine against the emulator. */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { DEFAULT_RATE_LIMITS, MSSP_ROLES } from '../emulator';
import { pseudoSha256 } from '../emulator/indicators';
import { errorOf, outputOf, PACKAGE, resetBetweenTests, runWorkflow, singleNodeWorkflow, TestNodeTypes } from '../harness';
import { createEnv, type TestEnv } from './env';

const ROLES = [...MSSP_ROLES, 'Ti.ReadWrite.All'];
const sha = (k: number | string) => pseudoSha256(`node|${k}`);

let env: TestEnv;
let tenant: string;

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 0, roles: ROLES } });
	tenant = env.tenantId;
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	env.emu.indicators.clear();
	env.emu.indicators.resetSettings();
	env.emu.clearFaults();
});

const submitParams = (extra: Record<string, unknown> = {}) => ({
	resource: 'indicator',
	operation: 'submit',
	indicatorType: 'FileSha256',
	indicatorValue: sha(1),
	indicatorAction: 'Block',
	title: 'Emotet loader',
	description: 'Seen in INC-1234',
	indicatorSeverity: 'High',
	...extra,
});

const manyParams = (extra: Record<string, unknown> = {}) => ({
	resource: 'indicator',
	operation: 'submitMany',
	indicatorType: '={{ $json.type }}',
	indicatorValue: '={{ $json.value }}',
	indicatorAction: '={{ $json.action }}',
	title: '={{ "IoC " + $json.value }}',
	description: 'threat feed',
	...extra,
});

describe('Submit', () => {
	test('creates the indicator with every field; the same type + value updates it (upsert)', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(
			submitParams({
				additionalFields: {
					expirationTime: '2099-01-31T00:00:00Z',
					recommendedActions: 'Reimage the device',
					rbacGroupNames: 'Servers, Finance',
					generateAlert: true,
					application: 'Emotet',
				},
				options: { customerLabel: 'Contoso' },
			}),
		);
		expect(r.error).toBeUndefined();
		const j = r.items[0].json;
		expect(j).toMatchObject({
			id: expect.stringMatching(/^\d+$/),
			indicatorValue: sha(1),
			indicatorType: 'FileSha256',
			action: 'Block',
			severity: 'High',
			title: 'Emotet loader',
			expirationTime: '2099-01-31T00:00:00.0000000Z',
			recommendedActions: 'Reimage the device',
			rbacGroupNames: ['Servers', 'Finance'],
			generateAlert: true,
			application: 'Emotet',
			tenantId: tenant,
			customerLabel: 'Contoso',
		});
		expect(j['@odata.context']).toBeUndefined();
		expect(r.items[0].pairedItem).toEqual({ item: 0 });
		expect(env.api({ sinceSeq: since }).map((q) => `${q.method} ${q.path} ${q.status} ${q.endpointClass}`)).toEqual(['POST /api/indicators 200 indicators']);

		const again = await env.run(submitParams({ indicatorAction: 'Allowed', title: 'false positive' }));
		expect(again.items[0].json).toMatchObject({ id: j.id, action: 'Allowed', title: 'false positive' });
		expect(env.emu.indicators.list(tenant)).toHaveLength(1);
	});

	test('Audit sends Generate Alert true; an IPv6 address is sent with all 8 groups', async () => {
		const r = await env.run(submitParams({ indicatorType: 'IpAddress', indicatorValue: '2001:4860:4860::8888', indicatorAction: 'Audit' }));
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ indicatorValue: '2001:4860:4860:0:0:0:0:8888', action: 'Audit', generateAlert: true });
	});

	test.each([
		[{ indicatorValue: sha(1).slice(0, 40) }, /has 40 hexadecimal characters, not 64/],
		[{ indicatorType: 'IpAddress', indicatorValue: '203.0.113.0/24' }, /network range \(CIDR\)/],
		[{ indicatorType: 'IpAddress', indicatorValue: '10.0.0.5' }, /internal address/],
		[{ indicatorType: 'DomainName', indicatorValue: 'https://evil.example.com/a' }, /is a URL, not a domain name/],
		[{ indicatorType: 'Url', indicatorValue: 'javascript://alert(1)' }, /javascript: URL/],
		[{ indicatorType: 'IpAddress', indicatorValue: '203.0.113.7', indicatorAction: 'BlockAndRemediate' }, /not available for IP Address indicators/],
		[{ indicatorType: 'CertificateThumbprint', indicatorValue: sha(1).slice(0, 40), indicatorAction: 'Warn' }, /not available for Certificate Thumbprint/],
		[{ additionalFields: { expirationTime: '2001-01-01T00:00:00Z' } }, /Expiration Time 2001-01-01T00:00:00.0000000Z is in the past/],
		[{ indicatorAction: 'Audit', additionalFields: { generateAlert: false } }, /Generate Alert is off for an Audit indicator/],
		[{ title: '  ' }, /Title is empty/],
		[{ indicatorAction: '={{ "Quarantine" }}' }, /Action "Quarantine" is not a valid value/],
	])('%p fails before any request', async (patch, message) => {
		const since = env.emu.lastSeq();
		const r = await env.run(submitParams(patch));
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('the tenant cap is one clear error', async () => {
		env.emu.indicators.configure({ cap: 2 });
		env.emu.indicators.fill(tenant, 2);
		const r = await env.run(submitParams({ indicatorValue: sha('cap') }));
		expect(r.error?.message).toBe(`Tenant ${tenant} has reached Defender's limit of 15,000 active indicators`);
		expect(r.error?.description).toMatch(/Delete indicators that are no longer needed[^]*Defender said: .*maximum number of active indicators \(2\)/);
		expect(r.error?.httpCode).toBe('400');
	});

	test('a 403 names Ti.ReadWrite.All or Ti.ReadWrite', async () => {
		env.emu.setRoles(tenant, env.scenario.clientId, MSSP_ROLES);
		resetBetweenTests(env.emu); // a fresh token (new credential, empty token cache), issued with the new roles
		try {
			const r = await env.run(submitParams(), { cred: env.addCredential('no-ti', {}) });
			expect(r.error?.message).toBe(`The app lacks the permission for this operation in tenant ${tenant}: it needs Ti.ReadWrite.All or Ti.ReadWrite`);
		} finally {
			env.emu.setRoles(tenant, env.scenario.clientId, ROLES);
			resetBetweenTests(env.emu);
		}
	});

	test('Dry Run validates and returns the body, sends nothing (not even a token request)', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(submitParams({ dryRun: true, customerTenant: env.scenario.tenants[1].id }));
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toEqual({
			dryRun: true,
			blocking: true,
			request: { method: 'POST', path: '/api/indicators', body: { indicatorValue: sha(1), indicatorType: 'FileSha256', action: 'Block', title: 'Emotet loader', description: 'Seen in INC-1234', severity: 'High' } },
			customerTenant: env.scenario.tenants[1].id,
			region: 'global',
		});
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('a lost response (503) is retried: Submit is an upsert', async () => {
		env.emu.injectFault({ match: { path: '/api/indicators', method: 'POST' }, status: 503 });
		const since = env.emu.lastSeq();
		const r = await env.run(submitParams());
		expect(r.error).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => q.status)).toEqual([503, 200]);
		expect(env.emu.indicators.list(tenant)).toHaveLength(1);
	});
});

describe('AI agent guard', () => {
	const TOOL_TYPE = `${PACKAGE}.microsoftDefenderForEndpointTool`;
	// The tool variant as n8n generates it for usableAsTool nodes: same node, description name ending in "Tool"
	// (which is what the opt-in's `@tool` display condition and the guard look at).
	const tool = new MicrosoftDefenderForEndpoint();
	tool.description = { ...tool.description, name: 'microsoftDefenderForEndpointTool' };
	const toolTypes = new TestNodeTypes({ [TOOL_TYPE]: tool });
	const runAsTool = async (parameters: Record<string, unknown>, input: IDataObject[] = [{}]) => {
		const wf = singleNodeWorkflow({ name: 'Tool', type: TOOL_TYPE, parameters: parameters as INodeParameters, credentials: { microsoftDefenderForEndpointApi: env.cred } });
		const run = await runWorkflow({ ...wf, nodeTypes: toolTypes, credentialsHelper: env.creds, input: input.map((json) => ({ json })) });
		const error = errorOf(run, 'Tool') as (Error & { description?: string }) | undefined;
		return { error, items: error ? [] : outputOf(run, 'Tool') };
	};

	test('a blocking submission as an agent tool is refused before any request', async () => {
		for (const params of [submitParams(), manyParams()]) {
			const since = env.emu.lastSeq();
			const r = await runAsTool(params, [{ type: 'FileSha256', value: sha('agent'), action: 'Block' }]);
			expect(r.error?.message).toBe('Submitting a blocking indicator (Block Execution) is not allowed when an AI agent calls this node');
			expect(r.error?.description).toMatch(/Allow When Used by an AI Agent/);
			expect(env.emu.count({ sinceSeq: since })).toBe(0);
		}
	});

	test('the agent cannot opt itself in with $fromAI', async () => {
		const r = await runAsTool(submitParams({ allowAgentUse: "={{ $fromAI('allow', 'allowed?', 'boolean', true) }}" }));
		expect(r.error?.message).toMatch(/not allowed when an AI agent calls this node/);
	});

	test('with the opt-in, non-blocking actions and Dry Run, the tool works', async () => {
		expect((await runAsTool(submitParams({ allowAgentUse: true }))).error).toBeUndefined();
		expect((await runAsTool(submitParams({ indicatorAction: 'Audit', indicatorValue: sha('audit') }))).error).toBeUndefined();
		const dry = await runAsTool(submitParams({ dryRun: true, indicatorValue: sha('dry') }));
		expect(dry.items[0].json.dryRun).toBe(true);
		expect(env.emu.indicators.find(tenant, 'FileSha256', sha('dry'))).toBeUndefined();
		// the same node in a workflow (not a tool) needs no opt-in
		expect((await env.run(submitParams({ indicatorValue: sha('wf') }))).error).toBeUndefined();
	});
});

describe('Submit Many', () => {
	const feed = (n: number, offset = 0) => Array.from({ length: n }, (_, k) => ({ type: 'FileSha256', value: sha(`feed${k + offset}`), action: k % 2 ? 'Block' : 'Audit' }));

	test('1,234 items: 3 import calls, one output item per input item in order', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input: feed(1234) });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(1234);
		const calls = env.api({ sinceSeq: since });
		expect(calls.map((q) => `${q.method} ${q.path} ${q.status} ${q.endpointClass}`)).toEqual(Array(3).fill('POST /api/indicators/import 200 indicatorImport'));
		r.items.forEach((item, k) => {
			expect(item.pairedItem).toEqual({ item: k });
			expect(item.json).toMatchObject({ id: expect.any(String), indicatorValue: sha(`feed${k}`), imported: true, importCalls: 3, tenantId: tenant });
		});
		expect(r.items.map((i) => i.json.indicatorsInCall)).toEqual([...Array(500).fill(500), ...Array(500).fill(500), ...Array(234).fill(234)]);
		expect(env.emu.indicators.activeCount(tenant)).toBe(1234);
		const stored = env.emu.indicators.find(tenant, 'FileSha256', sha('feed1'));
		expect(stored).toMatchObject({ action: 'Block', title: `IoC ${sha('feed1')}`, description: 'threat feed' });
	});

	test('items for two tenants go to separate calls; a repeated value is sent in a later call, last one wins', async () => {
		const other = env.scenario.tenants[1].id;
		const input = [
			{ type: 'FileSha256', value: sha('dup'), action: 'Audit', tenant: '' },
			{ type: 'DomainName', value: 'evil.example.com', action: 'Block', tenant: other },
			{ type: 'FileSha256', value: sha('dup').toUpperCase(), action: 'Block', tenant: '' },
		];
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams({ customerTenant: '={{ $json.tenant }}' }), { input });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => [i.json.importCall, i.json.tenantId])).toEqual([
			[1, tenant],
			[1, other],
			[2, tenant],
		]);
		expect(env.api({ sinceSeq: since })).toHaveLength(3);
		expect(env.emu.indicators.find(tenant, 'FileSha256', sha('dup'))?.action).toBe('Block');
		expect(env.emu.indicators.find(other, 'DomainName', 'evil.example.com')).toBeDefined();
	});

	test('a validation failure stops everything before any request (item index named)', async () => {
		const input = feed(5);
		input[3] = { type: 'IpAddress', value: '198.51.100.0/24', action: 'Block' };
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input });
		expect(r.error?.message).toMatch(/network range \(CIDR\)/);
		expect(r.error?.context?.itemIndex).toBe(3);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('continue on fail: invalid items get error items, Defender\'s per-item failure reasons are kept, the rest is imported', async () => {
		env.emu.indicators.configure({ legacyActions: 'reject' });
		const input = [...feed(3), { type: 'FileSha256', value: 'zz', action: 'Block' }, { type: 'FileSha256', value: sha('legacy'), action: 'AlertAndBlock' }];
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input, continueOnFail: true });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(5);
		expect(r.items.slice(0, 3).every((i) => i.json.imported === true)).toBe(true);
		expect(r.items[3].json.error).toMatch(/not a valid File SHA-256/);
		expect(r.items[4].json).toMatchObject({ imported: false, indicatorValue: sha('legacy'), failureReason: expect.stringMatching(/no longer supported/) });
		expect(r.items[4].json.error).toMatch(/Defender did not import the FileSha256 indicator/);
		expect(r.items.map((i) => i.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(env.api({ sinceSeq: since })).toHaveLength(1);
	});

	test('without continue on fail a rejected indicator fails the node and says what was imported', async () => {
		env.emu.indicators.configure({ legacyActions: 'reject' });
		const input = [...feed(2), { type: 'FileSha256', value: sha('legacy2'), action: 'Alert' }];
		const r = await env.run(manyParams(), { input });
		expect(r.error?.message).toMatch(/^Defender did not import the FileSha256 indicator ".+": Action 'Alert' is no longer supported/);
		expect(r.error?.description).toMatch(/2 of the 3 indicators sent so far were imported\. Turn on the node setting On Error/);
		expect(r.error?.context?.itemIndex).toBe(2);
	});

	test('a rejection in the first call stops the run: the later call is not sent', async () => {
		env.emu.indicators.configure({ legacyActions: 'reject' });
		const input = feed(600, 900);
		input[10] = { type: 'FileSha256', value: sha('legacy3'), action: 'AlertAndBlock' };
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input });
		expect(r.error?.description).toMatch(/499 of the 500 indicators sent so far were imported; the remaining 100 were not sent/);
		expect(r.error?.context?.itemIndex).toBe(10);
		expect(env.api({ sinceSeq: since })).toHaveLength(1);
	});

	test('the tenant cap: per-indicator failures and a failed call both read as the cap', async () => {
		env.emu.indicators.configure({ cap: 4 });
		env.emu.indicators.fill(tenant, 2);
		const perItem = await env.run(manyParams(), { input: feed(4, 100), continueOnFail: true });
		expect(perItem.items.map((i) => i.json.imported ?? false)).toEqual([true, true, false, false]);
		expect(perItem.items[2].json.error).toBe(`Tenant ${tenant} has reached Defender's limit of 15,000 active indicators`);
		expect(perItem.items[2].json.failureReason).toMatch(/maximum number of active indicators \(4\)/);

		env.emu.indicators.configure({ capOnImport: 'request' });
		const whole = await env.run(manyParams(), { input: feed(3, 200) });
		expect(whole.error?.message).toBe(`Tenant ${tenant} has reached Defender's limit of 15,000 active indicators`);
		expect(whole.error?.context?.itemIndex).toBe(0);
	});

	test('an API that allows fewer than 500 per call: re-split with its limit', async () => {
		env.emu.indicators.configure({ maxImport: 200 });
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input: feed(450, 300) });
		expect(r.error).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => q.status)).toEqual([400, 200, 200, 200]);
		expect(r.items.every((i) => i.json.imported === true && i.json.importCalls === 3)).toBe(true);
	});

	test('a 503 on import is retried (idempotent upsert): nothing is imported twice', async () => {
		env.emu.injectFault({ match: { path: '/api/indicators/import' }, status: 503 });
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams(), { input: feed(10, 500) });
		expect(r.error).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => q.status)).toEqual([503, 200]);
		expect(env.emu.indicators.activeCount(tenant)).toBe(10);
	});

	test('Dry Run: the planned calls, no request', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(manyParams({ dryRun: true }), { input: feed(600, 700) });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ dryRun: true, importCall: 1, importCalls: 2, indicatorsInCall: 500, blocking: false, request: { method: 'POST', path: '/api/indicators/import' } });
		expect(r.items[599].json).toMatchObject({ importCall: 2, indicatorsInCall: 100, blocking: true });
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('Get Many', () => {
	beforeEach(async () => {
		await env.run(manyParams(), {
			input: [
				{ type: 'FileSha256', value: sha('g1'), action: 'Block' },
				{ type: 'FileSha1', value: sha('g2').slice(0, 40), action: 'Audit' },
				{ type: 'DomainName', value: 'evil.example.com', action: 'Warn' },
				{ type: 'Url', value: 'https://evil.example.com/x', action: 'Block' },
			],
		});
	});

	test('filters by type, action and value; simplified by default', async () => {
		const r = await env.run({ resource: 'indicator', operation: 'getAll', returnAll: true, filters: { types: ['FileSha256', 'Url'], actions: ['Block'] } });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.indicatorValue)).toEqual([sha('g1'), 'https://evil.example.com/x']);
		expect(Object.keys(r.items[0].json)).toEqual(['id', 'indicatorValue', 'indicatorType', 'action', 'severity', 'title', 'generateAlert', 'expirationTime', 'rbacGroupNames', 'createdBy', 'creationTimeDateTimeUtc', 'lastUpdateTime', 'tenantId']);
		const q = env.api().at(-1)!;
		expect(q.query).toEqual({ $top: '10000', $filter: "indicatorType eq 'FileSha256' and indicatorType eq 'Url' and action eq 'Block'".replace("indicatorType eq 'FileSha256' and indicatorType eq 'Url'", "(indicatorType eq 'FileSha256' or indicatorType eq 'Url')") });

		const byValue = await env.run({ resource: 'indicator', operation: 'getAll', limit: 5, filters: { values: 'evil.example.com' }, simplify: false });
		expect(byValue.items).toHaveLength(1);
		expect(byValue.items[0].json).toMatchObject({ indicatorType: 'DomainName', action: 'Warn', createdByDisplayName: expect.any(String), tenantId: tenant });
	});

	test('Limit, and Return All across pages of 10,000', async () => {
		const limited = await env.run({ resource: 'indicator', operation: 'getAll', limit: 3 });
		expect(limited.items).toHaveLength(3);
		expect(env.api().at(-1)!.query.$top).toBe('3');
		env.emu.indicators.fill(tenant, 10_050);
		const since = env.emu.lastSeq();
		const all = await env.run({ resource: 'indicator', operation: 'getAll', returnAll: true });
		expect(all.items).toHaveLength(10_054);
		expect(new Set(all.items.map((i) => i.json.id)).size).toBe(10_054);
		expect(env.api({ sinceSeq: since }).map((q) => [q.query.$top, q.query.$skip])).toEqual([
			['10000', undefined],
			['10000', '10000'],
		]);
	});

	test('a malformed raw filter stops before any request', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'indicator', operation: 'getAll', filters: { rawFilter: "title eq 'x" } });
		expect(r.error?.message).toMatch(/Raw OData Filter is malformed/);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('Delete', () => {
	test('by ID: 204 and a confirmation; a missing indicator is reported clearly', async () => {
		const [x] = env.emu.indicators.add(tenant, [{ indicatorValue: sha('d1'), indicatorType: 'FileSha256' }]);
		const r = await env.run({ resource: 'indicator', operation: 'delete', indicatorId: x.id });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toEqual({ id: x.id, deleted: true, tenantId: tenant, region: 'global' });
		expect(env.emu.indicators.list(tenant)).toHaveLength(0);
		const again = await env.run({ resource: 'indicator', operation: 'delete', indicatorId: x.id });
		expect(again.error?.message).toBe(
			`Indicator ${x.id} was not found in tenant ${tenant}: it does not exist, was already deleted or has expired, or was created by another app while this app has only Ti.ReadWrite`,
		);
		expect(again.error?.httpCode).toBe('404');
	});

	test('by value: one list call then the delete; any case of a hash matches', async () => {
		env.emu.indicators.add(tenant, [{ indicatorValue: sha('d2'), indicatorType: 'FileSha256' }]);
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'indicator', operation: 'delete', deleteBy: 'value', indicatorType: 'FileSha256', indicatorValue: sha('d2').toUpperCase() });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ deleted: true, indicatorValue: sha('d2'), indicatorType: 'FileSha256' });
		expect(env.api({ sinceSeq: since }).map((q) => q.method)).toEqual(['GET', 'DELETE']);
		const missing = await env.run({ resource: 'indicator', operation: 'delete', deleteBy: 'value', indicatorType: 'DomainName', indicatorValue: 'gone.example.com' });
		expect(missing.error?.message).toBe(`No DomainName indicator with value "gone.example.com" exists in tenant ${tenant}`);
	});

	test('an indicator value given as ID, or a bad value, fails before any request', async () => {
		const since = env.emu.lastSeq();
		const asId = await env.run({ resource: 'indicator', operation: 'delete', indicatorId: 'evil.example.com' });
		expect(asId.error?.description).toMatch(/Delete By to Value/);
		const badValue = await env.run({ resource: 'indicator', operation: 'delete', deleteBy: 'value', indicatorType: 'IpAddress', indicatorValue: '10.0.0.0/8' });
		expect(badValue.error?.message).toMatch(/CIDR/);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('documented limits, time-scaled ×0.001 on both sides', () => {
	let limited: TestEnv;
	const scale = 0.001;
	beforeAll(async () => {
		const rateLimits = Object.fromEntries(Object.entries(DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * scale }))]));
		limited = await createEnv({ emulator: { rateLimits }, scenario: { tenants: 1, alertsPerTenant: 0, roles: ROLES }, pacerScale: scale });
	});
	afterAll(async () => {
		await limited.close();
	});

	test('250 Submits and 40 import calls are paced: no 429, every item succeeds', async () => {
		const items = Array.from({ length: 250 }, (_, k) => ({ value: sha(`p${k}`) }));
		const single = await limited.run(submitParams({ indicatorValue: '={{ $json.value }}', indicatorAction: 'Audit' }), { input: items });
		expect(single.error).toBeUndefined();
		expect(single.items).toHaveLength(250);
		const many = Array.from({ length: 20_000 }, (_, k) => ({ value: sha(`q${k}`) }));
		limited.emu.indicators.configure({ cap: 30_000 });
		const r = await limited.run(manyParams({ indicatorType: 'FileSha256', indicatorAction: 'Audit', title: 'feed' }), { input: many });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(20_000);
		const statuses = limited.api().map((q) => q.status);
		expect(statuses.filter((s) => s === 429)).toHaveLength(0);
		expect(limited.api({ endpointClass: 'indicatorImport' })).toHaveLength(40);
	}, 120_000);
});

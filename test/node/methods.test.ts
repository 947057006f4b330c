/** listSearch (alert picker) and loadOptions (determinations) through n8n-core's LoadOptionsContext; description checks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { LoadOptionsContext } from 'n8n-core';
import { type INode, type INodeParameters, type INodeProperties, type IWorkflowBase, Workflow } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { additionalData } from '../harness';
import { createEnv, NODE_TYPE, type TestEnv } from './env';

let env: TestEnv;
const nodeClass = new MicrosoftDefenderForEndpoint();

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 150 } });
});
afterAll(async () => {
	await env.close();
});

function loadOptionsContext(parameters: INodeParameters, pathName: string): LoadOptionsContext {
	const node: INode = {
		id: 'n',
		name: 'Defender',
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { microsoftDefenderForEndpointApi: env.cred },
	};
	const workflow = new Workflow({ id: 'wf-lo', nodes: [node], connections: {}, active: false, nodeTypes: env.nodeTypes });
	const data = additionalData(env.creds, 'internal', { id: 'wf-lo', name: 'lo', nodes: [node], connections: {} } as unknown as IWorkflowBase);
	(data as unknown as { currentNodeParameters: INodeParameters }).currentNodeParameters = parameters;
	return new LoadOptionsContext(workflow, workflow.getNode('Defender')!, data, pathName);
}

describe('listSearch: searchAlerts', () => {
	test('newest 100 first, with portal links, paginated by $skip', async () => {
		const ctx = loadOptionsContext({ resource: 'alert', operation: 'get' }, 'alertId');
		const since = env.emu.lastSeq();
		const page1 = await nodeClass.methods.listSearch.searchAlerts.call(ctx);
		expect(page1.results).toHaveLength(100);
		expect(page1.paginationToken).toBe('100');
		expect(page1.results[0].url).toMatch(/^https:\/\/security\.microsoft\.com\/alerts\/da/);
		const page2 = await nodeClass.methods.listSearch.searchAlerts.call(ctx, undefined, page1.paginationToken as string);
		expect(page2.results).toHaveLength(50);
		expect(page2.paginationToken).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => [q.query.$top, q.query.$skip ?? '0', q.query.$orderby])).toEqual([
			['100', '0', 'alertCreationTime desc'],
			['100', '100', 'alertCreationTime desc'],
		]);
		const all = new Set([...page1.results, ...page2.results].map((r) => r.value));
		expect(all).toEqual(new Set(env.scenario.tenants[0].alertIds));
	});

	test('search text is matched client-side against title, id and device', async () => {
		const target = env.emu.listAlerts(env.tenantId)[0];
		const ctx = loadOptionsContext({ resource: 'alert', operation: 'get' }, 'alertId');
		const found = await nodeClass.methods.listSearch.searchAlerts.call(ctx, target.title.toUpperCase().slice(0, 12));
		expect(found.results.length).toBeGreaterThan(0);
		const newest = env.emu.listAlerts(env.tenantId).sort((a, b) => (a.alertCreationTime < b.alertCreationTime ? 1 : -1)).slice(0, 100);
		const expected = newest.filter((a) => a.title.toLowerCase().includes(target.title.toLowerCase().slice(0, 12))).length;
		expect(found.results).toHaveLength(expected);
	});

	test('follows a literal Customer Tenant; an expression falls back to the credential tenant', async () => {
		const t2 = env.scenario.tenants[1];
		let ctx = loadOptionsContext({ resource: 'alert', operation: 'get', customerTenant: t2.domain }, 'alertId');
		let res = await nodeClass.methods.listSearch.searchAlerts.call(ctx);
		expect(t2.alertIds).toContain(res.results[0].value);
		ctx = loadOptionsContext({ resource: 'alert', operation: 'get', customerTenant: '={{ $json.t }}' }, 'alertId');
		res = await nodeClass.methods.listSearch.searchAlerts.call(ctx);
		expect(env.scenario.tenants[0].alertIds).toContain(res.results[0].value);
	});
});

describe('loadOptions: getDeterminations', () => {
	test.each([
		['TruePositive', ['MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'Malware', 'Phishing', 'UnwantedSoftware', 'Other']],
		['InformationalExpectedActivity', ['SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'ConfirmedActivity', 'Other']],
		['FalsePositive', ['Clean', 'NotMalicious', 'InsufficientData', 'Other']],
	])('%s', async (classification, values) => {
		const ctx = loadOptionsContext({ resource: 'alert', operation: 'update', updateFields: { classification } }, 'updateFields.determination');
		const options = await nodeClass.methods.loadOptions.getDeterminations.call(ctx);
		expect(options.map((o) => o.value)).toEqual(values);
	});

	test('no classification: every determination', async () => {
		const ctx = loadOptionsContext({ resource: 'alert', operation: 'update', updateFields: {} }, 'updateFields.determination');
		const options = await nodeClass.methods.loadOptions.getDeterminations.call(ctx);
		expect(options).toHaveLength(14);
	});
});

describe('description', () => {
	const d = nodeClass.description;
	test('identity, tool use, credentials', () => {
		expect(d).toMatchObject({
			name: 'microsoftDefenderForEndpoint',
			displayName: 'Microsoft Defender for Endpoint',
			group: ['transform'],
			version: [1, 1.1],
			defaultVersion: 1.1,
			usableAsTool: true,
			subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
			credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
			icon: { light: 'file:../../icons/defender.svg', dark: 'file:../../icons/defender.dark.svg' },
		});
		expect(d.inputs).toEqual(['main']);
		expect(d.outputs).toEqual(['main']);
	});

	test('every operation has an action, a description for agents, an Options collection with the common options', () => {
		// One Operation parameter per resource; operation values repeat across resources (getAll), so match both.
		const ops = d.properties.filter((p) => p.name === 'operation');
		const resourceOf = (p: INodeProperties) => ((p.displayOptions?.show?.resource as string[]) ?? [])[0];
		const byResource = Object.fromEntries(ops.map((p) => [resourceOf(p), ((p.options ?? []) as Array<{ value: string }>).map((o) => o.value).sort()]));
		expect(byResource.alert).toEqual(['addComment', 'createByReference', 'get', 'getAll', 'getRelated', 'update', 'updateMany']);
		expect(byResource.tenant).toEqual(['checkAccess', 'getConsentLink']);
		expect(byResource.indicator).toEqual(['delete', 'getAll', 'submit', 'submitMany']);
		for (const op of ops) {
			const resource = resourceOf(op);
			for (const o of (op.options ?? []) as Array<{ value: string; action?: string; description?: string }>) {
				expect(o.action).toEqual(expect.any(String));
				expect((o.description ?? '').length).toBeGreaterThan(40);
				const options = d.properties.filter(
					(p) =>
						p.name === 'options' &&
						((p.displayOptions?.show?.operation as string[]) ?? []).includes(o.value) &&
						((p.displayOptions?.show?.resource as string[]) ?? []).includes(resource),
				) as INodeProperties[];
				expect(options).toHaveLength(1);
				expect((options[0].options as INodeProperties[]).map((x) => x.name)).toEqual(expect.arrayContaining(['maxThrottleWait', 'customerLabel']));
			}
		}
	});

	test('region options and defaults', () => {
		const region = d.properties.find((p) => p.name === 'region')!;
		expect((region.options as Array<{ value: string }>).map((o) => o.value)).toEqual(['global', 'us', 'eu', 'uk', 'au', 'swa', 'ina', 'aea']);
		expect(region.default).toBe('global');
		const limit = d.properties.find((p) => p.name === 'limit')!;
		expect(limit.default).toBe(50);
	});

	test('codex file', () => {
		const codex = JSON.parse(readFileSync(path.resolve(__dirname, '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.json'), 'utf8'));
		expect(codex.node).toBe(NODE_TYPE);
		expect(codex.categories.every((c: string) => ['Data & Storage', 'Finance & Accounting', 'Marketing & Content', 'Productivity', 'Miscellaneous', 'Sales', 'Development', 'Analytics', 'Communication', 'Utility'].includes(c))).toBe(true);
		expect(codex.alias).toEqual(expect.arrayContaining(['Defender', 'MDE', 'EDR', 'SOC']));
		expect(codex.resources.primaryDocumentation[0].url).toMatch(/^https:\/\//);
		expect(codex.resources.credentialDocumentation[0].url).toMatch(/^https:\/\//);
	});
});

/**
 * Indicator operations in a real n8n 2.41.1 (`n8n execute`) against the emulator (documented rate limits on),
 * checked on the output items and on what the emulator saw (request log, stored indicators):
 *  - "indicators": Submit; Set → Split Out (300 feed items) → Submit Many; Get Many; Delete by ID; Delete by value;
 *  - "no requests": Submit with Dry Run, then Submit Many whose third item is a CIDR range: the node fails before
 *    any request (the emulator logs no API and no token request for that run).
 */
import {
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	installPackage,
	packTarball,
	startEmulatorProcess,
	type EmulatorProcess,
	type ExecuteResult,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorRequests, fanOutWorkflow, jsonOf, logMark, outputOf, type LogEntry } from './lib/scenario';
import type { INode } from 'n8n-workflow';

interface StoredIndicator {
	id: string;
	indicatorValue: string;
	indicatorType: string;
	action: string;
	title: string;
	expirationTime: string | null;
	rbacGroupNames: string[];
	[key: string]: unknown;
}

const FEED_SIZE = 300;
const hex = (seed: number, length: number): string => {
	let out = '';
	let h = (seed * 2654435761) >>> 0;
	while (out.length < length) {
		h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
		out += h.toString(16).padStart(8, '0');
	}
	return out.slice(0, length);
};

/** 300 feed entries: hashes of three kinds, domains, URLs, public IPv4 and compressed IPv6 addresses. */
function feed(): Array<{ type: string; value: string; action: string }> {
	return Array.from({ length: FEED_SIZE }, (_, k) => {
		switch (k % 6) {
			case 0:
				return { type: 'FileSha256', value: hex(k, 64), action: 'Block' };
			case 1:
				return { type: 'FileSha1', value: hex(k, 40), action: 'Audit' };
			case 2:
				return { type: 'FileMd5', value: hex(k, 32), action: 'Allowed' };
			case 3:
				return { type: 'DomainName', value: `bad${k}.example.com`, action: 'Block' };
			case 4:
				return { type: 'Url', value: `https://phish${k}.example.net/login`, action: 'Warn' };
			default:
				return k % 12 === 5 ? { type: 'IpAddress', value: `203.0.113.${k % 250}`, action: 'Block' } : { type: 'IpAddress', value: `2001:db8::${k.toString(16)}`, action: 'Audit' };
		}
	});
}

function setNode(name: string, json: unknown): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [0, 0], parameters: { mode: 'raw', jsonOutput: JSON.stringify(json), options: {} } };
}

function splitOutNode(name: string, field: string): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [0, 0], parameters: { fieldToSplitOut: field, options: {} } };
}

const manyParameters = {
	resource: 'indicator',
	operation: 'submitMany',
	indicatorType: '={{ $json.type }}',
	indicatorValue: '={{ $json.value }}',
	indicatorAction: '={{ $json.action }}',
	title: '={{ "Threat feed: " + $json.value }}',
	description: 'Imported from the e2e threat feed',
	indicatorSeverity: 'Medium',
	additionalFields: { rbacGroupNames: 'Servers' },
};

describe('indicator operations in a real n8n (n8n execute) against the emulator', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: { id: string; domain: string };
	let seeded: StoredIndicator;
	let run: ExecuteResult;
	let runApi: LogEntry[];
	let quiet: ExecuteResult;
	let quietRequests: LogEntry[];
	const entries = feed();
	const SUBMIT_VALUE = hex(999_999, 64);

	const stored = async (): Promise<StoredIndicator[]> => (await emulator.control<{ value: StoredIndicator[] }>('GET', `/indicators/${contoso.id}`)).value;

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({});
		const { state } = emulator;
		contoso = state.tenants[0] as unknown as { id: string; domain: string };
		// The default scenario's app has no indicator permission: grant Ti.ReadWrite.All in Contoso (new tokens carry it).
		await emulator.control('POST', '/roles', { tenantId: contoso.id, clientId: state.clientId, roles: ['Alert.ReadWrite.All', 'Ti.ReadWrite.All'] });
		[seeded] = (await emulator.control<{ value: StoredIndicator[] }>('POST', `/indicators/${contoso.id}`, [{ indicatorValue: hex(424_242, 64), indicatorType: 'FileSha256', action: 'Block', title: 'to delete' }])).value;

		n8n = await createInstance({ name: 'indicators' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(state)]);

		const indicators = fanOutWorkflow('e2e: indicators', [
			[
				defenderNode('Submit', {
					resource: 'indicator',
					operation: 'submit',
					indicatorType: 'FileSha256',
					indicatorValue: SUBMIT_VALUE.toUpperCase(),
					indicatorAction: 'BlockAndRemediate',
					title: 'e2e: ransomware loader',
					description: 'Submitted by the n8n e2e suite',
					indicatorSeverity: 'High',
					additionalFields: { expirationTime: '2099-12-31T00:00:00Z', recommendedActions: 'Reimage', rbacGroupNames: 'Servers, Finance', generateAlert: true },
					options: { customerLabel: 'Contoso' },
				}),
			],
			[setNode('Feed', { feed: entries }), splitOutNode('Feed Items', 'feed'), defenderNode('Submit Many', manyParameters)],
			[defenderNode('Get Many', { resource: 'indicator', operation: 'getAll', returnAll: true, filters: { types: ['FileSha256'], actions: ['Block', 'BlockAndRemediate'] } })],
			[defenderNode('Delete by ID', { resource: 'indicator', operation: 'delete', deleteBy: 'id', indicatorId: seeded.id })],
			[defenderNode('Delete by Value', { resource: 'indicator', operation: 'delete', deleteBy: 'value', indicatorType: 'DomainName', indicatorValue: 'BAD3.example.com' })],
		]);
		const noRequests = fanOutWorkflow('e2e: indicators without requests', [
			[defenderNode('Dry Run', { resource: 'indicator', operation: 'submit', indicatorType: 'Url', indicatorValue: 'https://dry.example.org/x', indicatorAction: 'Block', title: 'dry', description: 'dry run', dryRun: true })],
			[
				setNode('Bad Feed', {
					feed: [
						{ type: 'FileSha256', value: hex(1, 64), action: 'Block' },
						{ type: 'DomainName', value: 'fine.example.com', action: 'Block' },
						{ type: 'IpAddress', value: '198.51.100.0/24', action: 'Block' },
					],
				}),
				splitOutNode('Bad Feed Items', 'feed'),
				defenderNode('Submit Many (invalid)', manyParameters),
			],
		]);
		const indicatorsId = await importWorkflow(n8n, indicators);
		const noRequestsId = await importWorkflow(n8n, noRequests);

		let mark = await logMark(emulator);
		run = await execute(n8n, indicatorsId);
		runApi = (await emulatorRequests(emulator, { sinceSeq: mark })).filter((e) => e.kind === 'api');
		console.log(`[e2e] indicators run: ${run.status} in ${run.durationMs} ms; ${runApi.length} API requests`);

		mark = await logMark(emulator);
		quiet = await execute(n8n, noRequestsId);
		quietRequests = await emulatorRequests(emulator, { sinceSeq: mark });
		console.log(`[e2e] no-request run: ${quiet.status} in ${quiet.durationMs} ms; ${quietRequests.length} requests`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs the whole workflow without a workflow error, and no request was throttled or failed', () => {
		expect(run.errorMessage).toBeUndefined();
		expect(run.ok).toBe(true);
		expect(runApi.filter((e) => e.status >= 400 && !(e.method === 'DELETE' && e.status === 404)).map(describeEntry)).toEqual([]);
	});

	it('Submit: one POST /api/indicators; the stored indicator has every field', async () => {
		const [item] = jsonOf(run.run, 'Submit');
		expect(item).toMatchObject({ indicatorValue: SUBMIT_VALUE.toUpperCase(), indicatorType: 'FileSha256', action: 'BlockAndRemediate', severity: 'High', tenantId: contoso.id, customerLabel: 'Contoso' });
		expect(runApi.filter((e) => e.method === 'POST' && e.path === '/api/indicators').map(describeEntry)).toHaveLength(1);
		const mine = (await stored()).find((x) => x.indicatorValue.toLowerCase() === SUBMIT_VALUE);
		expect(mine).toMatchObject({ id: item.id, title: 'e2e: ransomware loader', expirationTime: '2099-12-31T00:00:00.0000000Z', rbacGroupNames: ['Servers', 'Finance'], generateAlert: true });
	});

	it(`Submit Many: ${FEED_SIZE} items → ONE import call, one output item per input item with its ID`, async () => {
		const out = outputOf(run.run, 'Submit Many');
		expect(out).toHaveLength(FEED_SIZE);
		out.forEach((item, k) => {
			expect(item.pairedItem).toEqual({ item: k });
			expect(item.json).toMatchObject({ imported: true, importCall: 1, importCalls: 1, indicatorsInCall: FEED_SIZE, indicatorType: entries[k].type, action: entries[k].action, tenantId: contoso.id });
			expect(typeof item.json.id).toBe('string');
		});
		// compressed IPv6 addresses went out with all eight groups
		const v6 = out.find((i) => String(i.json.indicatorValue).startsWith('2001:db8:'));
		expect(String(v6?.json.indicatorValue).split(':')).toHaveLength(8);
		const imports = runApi.filter((e) => e.path === '/api/indicators/import');
		expect(imports.map((e) => `${e.method} ${e.status} ${e.endpointClass}`)).toEqual(['POST 200 indicatorImport']);
		const all = await stored();
		for (const entry of entries.filter((e) => e.type === 'FileSha1').slice(0, 5)) {
			expect(all.find((x) => x.indicatorValue === entry.value)).toMatchObject({ indicatorType: 'FileSha1', action: 'Audit', generateAlert: true, rbacGroupNames: ['Servers'] });
		}
	});

	it('Get Many: the filters reached the API as $filter, and every matching indicator came back', () => {
		const items = jsonOf(run.run, 'Get Many');
		const expected = 1 + entries.filter((e) => e.type === 'FileSha256' && e.action === 'Block').length + 1; // Submit + feed + the seeded one
		expect(items).toHaveLength(expected);
		expect(items.every((i) => i.indicatorType === 'FileSha256' && ['Block', 'BlockAndRemediate'].includes(String(i.action)))).toBe(true);
		const lists = runApi.filter((e) => e.method === 'GET' && e.path === '/api/indicators' && String(e.query.$filter ?? '').startsWith('indicatorType'));
		expect(lists.map((e) => e.query)).toEqual([{ $top: '10000', $filter: "indicatorType eq 'FileSha256' and (action eq 'Block' or action eq 'BlockAndRemediate')" }]);
	});

	it('Delete: by ID (one DELETE → 204) and by value (one list call, then the DELETE)', async () => {
		expect(jsonOf(run.run, 'Delete by ID')).toEqual([{ id: seeded.id, deleted: true, tenantId: contoso.id, region: 'global' }]);
		expect(runApi.filter((e) => e.method === 'DELETE' && e.path === `/api/indicators/${seeded.id}`).map((e) => e.status)).toEqual([204]);
		const [byValue] = jsonOf(run.run, 'Delete by Value');
		expect(byValue).toMatchObject({ deleted: true, indicatorType: 'DomainName', indicatorValue: 'bad3.example.com' });
		const lookups = runApi.filter((e) => e.method === 'GET' && String(e.query.$filter ?? '').includes('bad3.example.com'));
		expect(lookups).toHaveLength(1);
		const all = await stored();
		expect(all.some((x) => x.id === seeded.id || x.indicatorValue === 'bad3.example.com')).toBe(false);
	});

	it('Dry Run and a validation failure: the run made no API and no token request', () => {
		const [dry] = jsonOf(quiet.run, 'Dry Run');
		expect(dry).toMatchObject({ dryRun: true, blocking: true, request: { method: 'POST', path: '/api/indicators', body: { indicatorValue: 'https://dry.example.org/x', indicatorType: 'Url', action: 'Block' } } });
		expect(quiet.ok).toBe(false);
		const task = quiet.run.data.resultData.runData['Submit Many (invalid)']?.[0];
		const error = task?.error as unknown as { message?: string; context?: { itemIndex?: number } } | undefined;
		expect(error?.message).toMatch(/198\.51\.100\.0\/24" is a network range \(CIDR\)/);
		expect(error?.context?.itemIndex).toBe(2);
		expect(quietRequests.filter((e) => e.kind === 'api' || e.kind === 'token').map(describeEntry)).toEqual([]);
	});
});

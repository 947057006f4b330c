/**
 * Hunting → Run Query (Microsoft Graph advanced hunting) in a real n8n 2.41.1 against the emulator (Graph enabled;
 * Contoso and Fabrikam consented to ThreatHunting.Read.All; documented rate limits on). One workflow (`n8n execute`):
 * an MSSP's tenant list (Set → Split Out) → one hunt per customer tenant (per-item Customer Tenant and Customer Label),
 * one item per row; and a branch whose KQL names an unknown table, with continueOnFail, giving Graph's message.
 * The credential's Alerts API stays the Defender for Endpoint API: hunting goes to Graph anyway.
 */
import type { INode } from 'n8n-workflow';

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

const CREDENTIAL = { id: 'mdeHuntingCred1', name: 'Defender (emulator, Graph for hunting)' };
const QUERY = 'AlertInfo\n| where Severity == "High"\n| project AlertId, Severity, Timestamp\n| order by Timestamp desc';

function setNode(name: string, json: unknown): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [0, 0], parameters: { mode: 'raw', jsonOutput: JSON.stringify(json), options: {} } };
}

function splitOutNode(name: string, field: string): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [0, 0], parameters: { fieldToSplitOut: field, options: {} } };
}

describe('Hunting → Run Query in a real n8n', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: string;
	let fabrikam: string;
	let run: ExecuteResult;
	let api: LogEntry[];
	let tokens: LogEntry[];
	const high: Record<string, string[]> = {};

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({});
		const { state } = emulator;
		contoso = state.tenants[0].id;
		fabrikam = state.tenants[1].id;
		await emulator.control('POST', '/graph', { enabled: true });
		for (const tenant of [contoso, fabrikam]) {
			await emulator.control('POST', '/roles', { tenantId: tenant, clientId: state.clientId, roles: ['Alert.ReadWrite.All', 'Machine.Read.All', 'ThreatHunting.Read.All'] });
			const alerts = (await emulator.control<{ value: Array<{ id: string; severity: string; alertCreationTime: string }> }>('GET', `/tenants/${tenant}/alerts`)).value;
			high[tenant] = alerts.filter((a) => a.severity === 'High' && Date.parse(a.alertCreationTime) >= Date.now() - 30 * 86_400_000).map((a) => a.id).sort();
		}

		const cred = emulatorCredential(state, CREDENTIAL);
		Object.assign(cred.data, { graphBaseUrl: state.url, graphScope: 'https://graph.microsoft.com/.default' });
		n8n = await createInstance({ name: 'hunting' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [cred]);

		const node = (name: string, parameters: Record<string, unknown>, extra: Partial<INode> = {}) =>
			defenderNode(name, parameters as never, { credentialId: CREDENTIAL.id, credentialName: CREDENTIAL.name, extra });
		const workflow = fanOutWorkflow('e2e: advanced hunting across customers', [
			[
				setNode('Customers', { customers: [{ tenant: contoso, label: 'Contoso' }, { tenant: fabrikam, label: 'Fabrikam' }] }),
				splitOutNode('Each Customer', 'customers'),
				node('Hunt', { resource: 'hunting', operation: 'runQuery', query: QUERY, timespan: 'P30D', customerTenant: '={{ $json.tenant }}', options: { customerLabel: '={{ $json.label }}' } }),
			],
			[node('Bad KQL', { resource: 'hunting', operation: 'runQuery', query: 'AlertInf | take 1', output: 'all' }, { onError: 'continueRegularOutput' })],
		]);
		const id = await importWorkflow(n8n, workflow);
		const mark = await logMark(emulator);
		run = await execute(n8n, id);
		const log = await emulatorRequests(emulator, { sinceSeq: mark });
		api = log.filter((e) => e.kind === 'api');
		tokens = log.filter((e) => e.kind === 'token');
		console.log(`[e2e] hunting run: ${run.status} in ${run.durationMs} ms; ${api.map(describeEntry).join(' | ')}`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs without a workflow error; every API request is a runHuntingQuery on Graph with a Graph token', () => {
		expect(run.errorMessage).toBeUndefined();
		expect(run.ok).toBe(true);
		expect(api.map((e) => [e.method, e.path])).toEqual([
			['POST', '/v1.0/security/runHuntingQuery'],
			['POST', '/v1.0/security/runHuntingQuery'],
			['POST', '/v1.0/security/runHuntingQuery'],
		]);
		expect(tokens.length).toBeGreaterThan(0);
		expect(tokens.every((e) => e.scope === 'https://graph.microsoft.com/.default')).toBe(true);
	});

	it('one hunt per customer: the rows of each tenant, tagged with tenantId and customerLabel, paired to the customer item', () => {
		const items = outputOf(run.run, 'Hunt');
		const of = (k: number) => items.filter((i) => (i.pairedItem as { item: number }).item === k).map((i) => i.json);
		expect(of(0).map((j) => j.AlertId).sort()).toEqual(high[contoso]);
		expect(of(1).map((j) => j.AlertId).sort()).toEqual(high[fabrikam]);
		expect(items).toHaveLength(high[contoso].length + high[fabrikam].length);
		expect(of(0).every((j) => j.tenantId === contoso && j.customerLabel === 'Contoso' && j.Severity === 'High')).toBe(true);
		expect(of(1).every((j) => j.tenantId === fabrikam && j.customerLabel === 'Fabrikam')).toBe(true);
		const times = of(0).map((j) => String(j.Timestamp));
		expect([...times].sort().reverse()).toEqual(times);
		expect(api.filter((e) => e.status === 200).map((e) => e.tenantId).slice(0, 2).sort()).toEqual([contoso, fabrikam].sort());
	});

	it('a KQL mistake: Graph\'s 400 message on the error item (continueOnFail), sent once', () => {
		const [item] = jsonOf(run.run, 'Bad KQL');
		expect(item.error).toBe("Microsoft Graph rejected the hunting query (BadRequest): Semantic error: Failed to resolve table or column expression named 'AlertInf'");
		expect(item.httpCode).toBe('400');
		expect(String(item.description)).toMatch(/Fix the KQL/);
		expect(api.filter((e) => e.status === 400)).toHaveLength(1);
	});
});

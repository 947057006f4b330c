/**
 * The switch: one workflow (Get Many with Simplify → Update) run on the Defender for Endpoint API and on Microsoft
 * Graph over the same emulator data gives the same output; dedupKey stays the same even where Graph ids differ.
 */
import type { IDataObject } from 'n8n-workflow';

import type { Alert } from '../emulator';
import { rl } from './env';
import { createGraphEnv, type GraphEnv } from './graphEnv';

let env: GraphEnv;
let tenant: string;

beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 1, alertsPerTenant: 60 } });
	tenant = env.tenantId;
});
afterAll(async () => {
	await env.close();
});
afterEach(() => {
	env.emu.graph.configure({ idStyle: 'same' });
});

/** Put every alert back as it was (fields, comments, lastUpdateTime), so a second run sees the same data. */
function restore(snapshot: Alert[]): void {
	for (const a of snapshot) {
		env.emu.updateAlert(tenant, a.id, {
			status: a.status,
			assignedTo: a.assignedTo,
			classification: a.classification,
			determination: a.determination,
			resolvedTime: a.resolvedTime,
			comments: structuredClone(a.comments),
			lastUpdateTime: a.lastUpdateTime,
		});
	}
}

const json = (items: Array<{ json: IDataObject }>) => items.map((i) => i.json);
const withoutUpdateTime = (items: IDataObject[]) =>
	items.map((item) => {
		const rest = { ...item };
		delete rest.lastUpdateTime;
		return rest;
	});

const list = { resource: 'alert', operation: 'getAll', limit: 12, filters: { status: ['New', 'InProgress'] } };
const change = {
	resource: 'alert',
	operation: 'update',
	alertId: rl('={{ $json.id }}'),
	updateFields: { status: 'Resolved', assignedTo: 'soc@contoso.com', classification: 'TruePositive', determination: 'Malware', comment: 'closed by n8n' },
	simplify: true,
};

test('Get Many (Simplify) → Update: the same output on both APIs, and the same change in the tenant', async () => {
	const snapshot = env.emu.listAlerts(tenant);
	const onDefender = await env.runChain(list, change, env.cred);
	expect(onDefender.error).toBeUndefined();
	const changedByDefender = env.emu.listAlerts(tenant);
	restore(snapshot);
	expect(env.emu.listAlerts(tenant)).toEqual(snapshot);

	const since = env.emu.lastSeq();
	const onGraph = await env.runChain(list, change, env.graphCred);
	expect(onGraph.error).toBeUndefined();
	// it really ran on Graph
	expect(env.emu.requests({ kind: 'api', sinceSeq: since }).every((q) => q.path.startsWith('/v1.0/'))).toBe(true);

	expect(onDefender.first).toHaveLength(12);
	expect(json(onGraph.first)).toEqual(json(onDefender.first));
	expect(onGraph.second.map((i) => i.pairedItem)).toEqual(onDefender.second.map((i) => i.pairedItem));
	// lastUpdateTime is the write's own time (a later tick for the second run); everything else is equal
	expect(withoutUpdateTime(json(onGraph.second))).toEqual(withoutUpdateTime(json(onDefender.second)));
	expect(onGraph.second.every((i) => i.json.status === 'Resolved' && i.json.determination === 'Malware')).toBe(true);

	// the tenant ends in the same state (write times and comment times aside)
	const strip = (alerts: Alert[]) =>
		alerts.map((a) => {
			const rest: Partial<Alert> = { ...a };
			delete rest.lastUpdateTime;
			delete rest.resolvedTime;
			return { ...rest, comments: a.comments.map((c) => c.comment) };
		});
	expect(strip(env.emu.listAlerts(tenant))).toEqual(strip(changedByDefender));
});

test('every Simplify field of every alert matches, all 60 alerts', async () => {
	const d = await env.run({ resource: 'alert', operation: 'getAll', returnAll: true });
	const g = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true });
	expect(d.items).toHaveLength(60);
	expect(json(g.items)).toEqual(json(d.items));
});

test('Graph ids that differ from the Defender ids: dedupKey and portalUrl stay the Defender ones; Update uses the Graph id', async () => {
	env.emu.graph.configure({ idStyle: 'distinct' });
	const d = await env.run({ resource: 'alert', operation: 'getAll', limit: 5 });
	const g = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 5 });
	expect(g.items.map((i) => i.json.id)).toEqual(d.items.map((i) => `gr_${i.json.id as string}`));
	expect(g.items.map((i) => i.json.dedupKey)).toEqual(d.items.map((i) => i.json.dedupKey));
	expect(g.items.map((i) => i.json.portalUrl)).toEqual(d.items.map((i) => i.json.portalUrl));
	const chain = await env.runChain({ ...list, limit: 2 }, { ...change, updateFields: { status: 'InProgress' } }, env.graphCred);
	expect(chain.error).toBeUndefined();
	expect(chain.second.map((i) => i.json.dedupKey)).toEqual(chain.first.map((i) => i.json.dedupKey));
});

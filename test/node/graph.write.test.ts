/** Alert writes on the Microsoft Graph security API: Update (PATCH), Add Comment (POST …/comments), Update Many ($batch). */
import { rl } from './env';
import { createGraphEnv, type GraphEnv } from './graphEnv';

let env: GraphEnv;
let tenant: string;
let ids: string[];
let readOnly: string;

beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 3, alertsPerTenant: 70 } });
	tenant = env.tenantId;
	ids = env.scenario.tenants[0].alertIds;
	readOnly = env.scenario.tenants[2].id;
	env.emu.setRoles(readOnly, env.scenario.clientId, ['Alert.ReadWrite.All', 'SecurityAlert.Read.All']);
});
afterAll(async () => {
	await env.close();
});
afterEach(() => {
	env.emu.clearFaults();
	env.emu.disableRateLimits();
	env.emu.graph.configure({ determinationSpelling: 'sdk', idStyle: 'same' });
});

describe('Update on Graph', () => {
	test('one PATCH with camelCase values; the Defender view of the alert changes too', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({
			resource: 'alert',
			operation: 'update',
			alertId: rl(ids[0]),
			updateFields: { status: 'Resolved', assignedTo: 'secop2@contoso.com', classification: 'FalsePositive', determination: 'NotMalicious' },
		});
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ id: ids[0], status: 'resolved', classification: 'falsePositive', determination: 'clean', assignedTo: 'secop2@contoso.com', dedupKey: `${tenant}:${ids[0]}` });
		expect(env.graphApi(since).map((q) => `${q.method} ${q.path}`)).toEqual([`PATCH /v1.0/security/alerts_v2/${ids[0]}`]);
		expect(env.emu.getAlert(tenant, ids[0])).toMatchObject({ status: 'Resolved', classification: 'FalsePositive', determination: 'Clean', assignedTo: 'secop2@contoso.com' });
	});

	test('with a comment: PATCH, then POST …/comments; the output carries the comment list', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'update', alertId: rl(ids[1]), updateFields: { status: 'InProgress', comment: 'taking it' }, simplify: true });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since).map((q) => `${q.method} ${q.path}`)).toEqual([`PATCH /v1.0/security/alerts_v2/${ids[1]}`, `POST /v1.0/security/alerts_v2/${ids[1]}/comments`]);
		expect(r.items[0].json.status).toBe('InProgress');
		expect(env.emu.getAlert(tenant, ids[1])!.comments.at(-1)!.comment).toBe('taking it');
	});

	test('the service refuses the SDK determination spelling: once more with the value-table spelling', async () => {
		env.emu.graph.configure({ determinationSpelling: 'table' });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'update', alertId: rl(ids[2]), updateFields: { classification: 'FalsePositive', determination: 'Clean' } });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since).map((q) => q.status)).toEqual([400, 200]);
		expect(env.emu.getAlert(tenant, ids[2])?.determination).toBe('Clean');
	});

	test('404 and 403 read as on the Defender API, with the Graph permission named', async () => {
		const missing = await env.runGraph({ resource: 'alert', operation: 'update', alertId: rl('da639000000000000000_-5'), updateFields: { status: 'InProgress' } });
		expect(missing.error?.message).toBe(`Alert da639000000000000000_-5 was not found in tenant ${tenant}`);
		const ro = env.emu.listAlerts(readOnly)[0].id;
		const denied = await env.runGraph({ resource: 'alert', operation: 'update', alertId: rl(ro), customerTenant: readOnly, updateFields: { status: 'InProgress' } });
		expect(denied.error?.message).toBe(`The app lacks the permission for this operation in tenant ${readOnly}: it needs SecurityAlert.ReadWrite.All`);
		expect(denied.error?.description).toMatch(/The Microsoft Graph token carries SecurityAlert\.Read\.All\. .*Microsoft Graph → Application permissions.*consent again/);
		expect(denied.error?.description).toMatch(/Request ID: /);
	});
});

describe('Add Comment on Graph', () => {
	test('POST …/comments with an alertComment, then the alert is read back', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'addComment', alertId: rl(ids[3]), comment: 'Ticket INC-7 opened' });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since).map((q) => `${q.method} ${q.path}`)).toEqual([`POST /v1.0/security/alerts_v2/${ids[3]}/comments`, `GET /v1.0/security/alerts_v2/${ids[3]}`]);
		expect((r.items[0].json.comments as Array<{ comment: string }>).map((c) => c.comment)).toContain('Ticket INC-7 opened');
	});
});

describe('Update Many on Graph: JSON batching', () => {
	test('N alerts → ⌈N/20⌉ $batch calls, one PATCH sub-request each; per-alert outcome, no read-back', async () => {
		const batch = ids.slice(10, 55); // 45
		const sub0 = env.emu.graph.lastSubSeq();
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'updateMany', alertIds: batch.join(','), updateFields: { status: 'Resolved', classification: 'TruePositive', determination: 'Malware' } });
		expect(r.error).toBeUndefined();
		const calls = env.graphApi(since);
		expect(calls.map((q) => `${q.method} ${q.path}`)).toEqual(Array(3).fill('POST /v1.0/$batch'));
		const subs = env.emu.graph.subRequests({ sinceSeq: sub0 });
		expect(subs).toHaveLength(45);
		expect(subs.every((s) => s.method === 'PATCH' && s.status === 200)).toBe(true);
		expect(r.items).toHaveLength(1);
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 45, notFoundIds: [], unknownIds: [], batchCalls: 3, verificationReads: 0, alertsInBatch: 45, itemsInBatch: 1, tenantId: tenant });
		for (const id of batch) expect(env.emu.getAlert(tenant, id)).toMatchObject({ status: 'Resolved', classification: 'TruePositive', determination: 'Malware' });
	});

	test('items asking for the same change share batches; each item gets its own output; unknown ids are "not found"', async () => {
		const input = [{ ids: [ids[56], ids[57]] }, { ids: [ids[58], 'da639000000000000000_-9'] }, { ids: [ids[59]] }];
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { assignedTo: 'tier2@contoso.com' } }, { input });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)).toHaveLength(1);
		expect(r.items.map((i) => [i.pairedItem, i.json.updated, i.json.notFoundIds])).toEqual([
			[{ item: 0 }, true, []],
			[{ item: 1 }, false, ['da639000000000000000_-9']],
			[{ item: 2 }, true, []],
		]);
		expect(r.items[1].json.alerts).toEqual([
			{ id: ids[58], updated: true },
			{ id: 'da639000000000000000_-9', updated: false, reason: 'notFound' },
		]);
	});

	test('with a comment: PATCH then POST …/comments (dependsOn) per alert, 10 alerts per $batch', async () => {
		const batch = ids.slice(20, 35); // 15 → 30 sub-requests → 2 batches
		const sub0 = env.emu.graph.lastSubSeq();
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'updateMany', alertIds: batch, updateFields: { status: 'InProgress', comment: 'bulk triage' } });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)).toHaveLength(2);
		expect(env.emu.graph.subRequests({ sinceSeq: sub0 }).map((s) => s.method)).toEqual(Array(15).fill(['PATCH', 'POST']).flat());
		for (const id of batch) expect(env.emu.getAlert(tenant, id)!.comments.at(-1)!.comment).toBe('bulk triage');
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 15, batchCalls: 2 });
	});

	test('throttled sub-requests (429 with their own Retry-After in a 200 batch) are the only ones sent again', async () => {
		const batch = ids.slice(40, 60); // 20 → one batch
		env.emu.graph.throttleSubRequests(4, 1);
		const sub0 = env.emu.graph.lastSubSeq();
		const started = Date.now();
		const r = await env.runGraph({ resource: 'alert', operation: 'updateMany', alertIds: batch, updateFields: { status: 'New' } });
		expect(r.error).toBeUndefined();
		const subs = env.emu.graph.subRequests({ sinceSeq: sub0 });
		expect(subs.filter((s) => s.status === 429)).toHaveLength(4);
		const resent = subs.slice(20);
		expect(resent).toHaveLength(4);
		expect(resent.map((s) => s.url)).toEqual(subs.slice(0, 4).map((s) => s.url));
		expect(resent.every((s) => s.status === 200)).toBe(true);
		expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 20, batchCalls: 2 });
	});

	test('under the Graph rate limit (150/min per app and tenant, scaled ×0.001 like the pacer): 0 failed items', async () => {
		env.emu.setRateLimits({ graphAlerts: [{ limit: 150, windowMs: 60 }] });
		const batch = env.emu.listAlerts(tenant).map((a) => a.id); // 70
		const other = env.scenario.tenants[1];
		const all = [...batch, ...other.alertIds];
		const r = await env.runGraph(
			{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', customerTenant: '={{ $json.tenant }}', updateFields: { status: 'InProgress' } },
			{ input: [{ ids: batch, tenant }, { ids: other.alertIds, tenant: other.id }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.updated)).toEqual([true, true]);
		expect(r.items.reduce((n, i) => n + (i.json.updatedCount as number), 0)).toBe(all.length);
	});

	test('a tenant without SecurityAlert.ReadWrite.All: that item fails with the Graph permission; continueOnFail keeps the others', async () => {
		const ro = env.emu.listAlerts(readOnly).slice(0, 3).map((a) => a.id);
		const r = await env.runGraph(
			{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', customerTenant: '={{ $json.tenant }}', updateFields: { status: 'InProgress' } },
			{ input: [{ ids: ro, tenant: readOnly }, { ids: [ids[5]], tenant }], continueOnFail: true },
		);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.error).toBe(`The app lacks the permission for this operation in tenant ${readOnly}: it needs SecurityAlert.ReadWrite.All`);
		expect(r.items[0].json.alertIds).toEqual(ro);
		expect(r.items[1].json).toMatchObject({ updated: true, updatedCount: 1 });
	});

	test('Graph ids of other sources are accepted in the list (validation per Alerts API)', async () => {
		env.emu.graph.addGraphAlerts(tenant, [{ id: 'fa-bulk-1' }, { id: 'fa-bulk-2' }]);
		const r = await env.runGraph({ resource: 'alert', operation: 'updateMany', alertIds: 'fa-bulk-1, fa-bulk-2', updateFields: { status: 'Resolved' } });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 2 });
		// the Defender API keeps its id check
		const mde = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: 'fa-bulk-1', updateFields: { status: 'Resolved' } });
		expect(mde.error?.message).toMatch(/does not look like a Defender alert ID/);
	});
});

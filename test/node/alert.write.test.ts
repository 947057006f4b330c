/** Update, Update Many, Add Comment, Create by Reference, Get Related. */
import { createEnv, rl, type TestEnv } from './env';

let env: TestEnv;
let tenant: string;
let ids: string[];

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 60, eventsPerTenant: 6 } });
	tenant = env.tenantId;
	ids = env.scenario.tenants[0].alertIds;
});
afterAll(async () => {
	await env.close();
});

describe('Update', () => {
	test('sets status, assignee, classification, determination and a comment in one PATCH', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({
			resource: 'alert',
			operation: 'update',
			alertId: rl(ids[0]),
			updateFields: { status: 'Resolved', assignedTo: 'secop2@contoso.com', classification: 'FalsePositive', determination: 'NotMalicious', comment: 'closing' },
		});
		expect(r.error).toBeUndefined();
		const a = r.items[0].json;
		expect(a).toMatchObject({ id: ids[0], status: 'Resolved', assignedTo: 'secop2@contoso.com', classification: 'FalsePositive', determination: 'NotMalicious' });
		expect((a.comments as Array<{ comment: string }>).map((c) => c.comment)).toContain('closing');
		expect(a.dedupKey).toBe(`${tenant}:${ids[0]}`);
		expect(r.items[0].pairedItem).toEqual({ item: 0 });
		const reqs = env.api({ sinceSeq: since });
		expect(reqs.map((q) => `${q.method} ${q.path}`)).toEqual([`PATCH /api/alerts/${ids[0]}`]);
		expect(env.emu.getAlert(tenant, ids[0])?.determination).toBe('NotMalicious');
	});

	test('both doc spellings are sent as chosen', async () => {
		for (const determination of ['Clean', 'ConfirmedUserActivity', 'ConfirmedActivity']) {
			const classification = determination === 'Clean' ? 'FalsePositive' : 'InformationalExpectedActivity';
			const r = await env.run({ resource: 'alert', operation: 'update', alertId: rl(ids[1]), updateFields: { classification, determination } });
			expect(r.error).toBeUndefined();
			expect(env.emu.getAlert(tenant, ids[1])?.determination).toBe(determination);
		}
	});

	test.each([
		[{}, /Update Fields is empty/],
		[{ comment: '   ' }, /Update Fields is empty/],
		[{ classification: 'TruePositive', determination: 'Clean' }, /Determination "Clean" does not fit Classification "TruePositive"/],
		[{ classification: 'FalsePositive', determination: 'Malware' }, /does not fit Classification "FalsePositive"/],
		[{ status: '={{ "Closed" }}' }, /Status "Closed" is not a valid value/],
		[{ status: '={{ "Unknown" }}' }, /Status "Unknown" is not a valid value/],
		[{ classification: '={{ "Benign" }}' }, /Classification "Benign" is not a valid value/],
		[{ determination: '={{ "Apt" }}' }, /Determination "Apt" is not a valid value/],
	])('bad update %p fails before any request', async (updateFields, message) => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'update', alertId: rl(ids[2]), updateFields });
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('404 for an unknown alert', async () => {
		const r = await env.run({ resource: 'alert', operation: 'update', alertId: rl('da639000000000000000_-5'), updateFields: { status: 'InProgress' } });
		expect(r.error?.message).toBe(`Alert da639000000000000000_-5 was not found in tenant ${tenant}`);
	});
});

describe('Add Comment', () => {
	test('PATCH with only the comment; returns the updated alert', async () => {
		const before = env.emu.getAlert(tenant, ids[3])!;
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'addComment', alertId: rl(ids[3]), comment: 'Ticket INC-1 opened', simplify: false });
		expect(r.error).toBeUndefined();
		expect((r.items[0].json.comments as unknown[]).length).toBe(before.comments.length + 1);
		expect(r.items[0].json.status).toBe(before.status);
		expect(env.api({ sinceSeq: since }).map((q) => q.method)).toEqual(['PATCH']);
	});

	test('empty comment fails before any request', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'addComment', alertId: rl(ids[3]), comment: '={{ "  " }}' });
		expect(r.error?.message).toBe('Comment is empty');
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('Create by Reference', () => {
	test('creates an alert from a hunting event (7-digit event time kept)', async () => {
		const event = env.scenario.tenants[0].events[0];
		const since = env.emu.lastSeq();
		const r = await env.run({
			resource: 'alert',
			operation: 'createByReference',
			eventTime: event.eventTime,
			reportId: String(event.reportId),
			machineId: event.machineId,
			severity: 'High',
			title: 'n8n custom detection',
			description: 'Raised by a workflow',
			recommendedAction: 'Isolate the device',
			category: 'Persistence',
		});
		expect(r.error).toBeUndefined();
		const a = r.items[0].json;
		expect(a).toMatchObject({ title: 'n8n custom detection', severity: 'High', category: 'Persistence', machineId: event.machineId });
		expect(a.dedupKey).toBe(`${tenant}:${a.id}`);
		const reqs = env.api({ sinceSeq: since });
		expect(reqs.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /api/alerts/CreateAlertByReference']);
	});

	test('404 when no event matches', async () => {
		const event = env.scenario.tenants[0].events[1];
		const r = await env.run({
			resource: 'alert',
			operation: 'createByReference',
			eventTime: '2020-01-01T00:00:00.1234567Z',
			reportId: '999999',
			machineId: event.machineId,
			severity: 'Low',
			title: 't',
			description: 'd',
			recommendedAction: 'r',
			category: 'General',
		});
		expect(r.error?.message).toMatch(/No event with report ID 999999 at 2020-01-01T00:00:00.1234567Z/);
	});

	test.each([
		[{ machineId: 'not-a-machine' }, /Machine ID "not-a-machine" is not a Defender device ID/],
		[{ eventTime: '={{ "" }}' }, /Event Time is empty/],
		[{ eventTime: 'later' }, /Event Time "later" is not a valid date/],
		[{ title: '={{ "" }}' }, /Title is empty/],
		[{ recommendedAction: '  ' }, /Recommended Action is empty/],
		[{ severity: '={{ "Critical" }}' }, /Severity "Critical" is not a valid value/],
		[{ category: '={{ "Backdoor" }}' }, /Category "Backdoor" is not a valid value/],
	])('bad input %p fails before any request', async (override, message) => {
		const since = env.emu.lastSeq();
		const r = await env.run({
			resource: 'alert',
			operation: 'createByReference',
			eventTime: '2025-03-04T09:15:22.4817263Z',
			reportId: '1',
			machineId: '3f2a6b1c9d8e7f60514a2b3c4d5e6f708192a3b4',
			severity: 'Low',
			title: 't',
			description: 'd',
			recommendedAction: 'r',
			category: 'General',
			...override,
		});
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('Get Related', () => {
	test('one item merging domains, files, IPs, machine and user', async () => {
		const id = ids[5];
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'getRelated', alertId: rl(id), options: { customerLabel: 'C1' } });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(1);
		const j = r.items[0].json;
		expect(j.alertId).toBe(id);
		for (const k of ['domains', 'files', 'ips']) expect(Array.isArray(j[k])).toBe(true);
		expect(j.machine).toMatchObject({ id: env.emu.getAlert(tenant, id)!.machineId });
		expect(j.customerLabel).toBe('C1');
		expect(j.dedupKey).toBe(`${tenant}:${id}`);
		expect(env.api({ sinceSeq: since }).map((q) => q.path.split('/').pop())).toEqual(['domains', 'files', 'ips', 'machine', 'user']);
	});

	test('a machine the API does not know is null, not an error', async () => {
		const id = ids[6];
		const machineId = env.emu.getAlert(tenant, id)!.machineId!;
		env.emu.removeMachine(tenant, machineId);
		const r = await env.run({ resource: 'alert', operation: 'getRelated', alertId: rl(id), entities: ['machine'] });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.machine).toBeNull();
		expect(r.items[0].json.files).toBeUndefined();
	});

	test('a missing role names the permission (403)', async () => {
		const other = env.scenario.tenants[1];
		env.emu.setRoles(other.id, env.scenario.clientId, ['Alert.ReadWrite.All', 'Machine.Read.All']);
		const r = await env.run({ resource: 'alert', operation: 'getRelated', alertId: rl(other.alertIds[0]), entities: ['machine', 'files'], customerTenant: other.id });
		expect(r.error?.httpCode).toBe('403');
		expect(r.error?.message).toMatch(/File\.Read\.All/);
		expect(r.error?.message).toContain(other.id);
		expect(JSON.stringify(r.error)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
	});
});

describe('Update Many', () => {
	test('30 items asking for 2 distinct changes → 2 batch calls, one output per item', async () => {
		const input = Array.from({ length: 30 }, (_, k) => ({ ids: [ids[10 + k], ids[40 + (k % 5)]], status: k % 2 ? 'Resolved' : 'InProgress' }));
		const since = env.emu.lastSeq();
		const r = await env.run(
			{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { status: '={{ $json.status }}', assignedTo: 'soc@contoso.com' }, options: { customerLabel: 'L' } },
			{ input },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(30);
		const calls = env.api({ sinceSeq: since });
		// two batch calls, then one read-back for both changes (40 ids > 25: everything changed since just before)
		expect(calls.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /api/alerts/batchUpdate', 'POST /api/alerts/batchUpdate', 'GET /api/alerts']);
		expect(calls[2].query.$filter).toMatch(/^lastUpdateTime ge \d{4}-\d{2}-\d{2}T[\d:.]+Z$/);
		r.items.forEach((item, k) => {
			expect(item.pairedItem).toEqual({ item: k });
			expect(item.json).toMatchObject({ alertIds: input[k].ids, batchCalls: 1, verificationReads: 1, tenantId: tenant, customerLabel: 'L', itemsInBatch: 15 });
			// the 5 shared ids belong to both changes: the read shows the later one, so the earlier change is unknown for them
			const own = item.json.alerts as Array<{ id: string; updated: unknown }>;
			expect(own.find((a) => a.id === ids[10 + k])).toEqual({ id: ids[10 + k], updated: true });
			// ids shared between items of one group are sent once: 15 own + 5 shared
			expect(item.json.alertsInBatch).toBe(20);
		});
		for (let k = 0; k < 30; k++) expect(env.emu.getAlert(tenant, ids[10 + k])?.status).toBe(k % 2 ? 'Resolved' : 'InProgress');
	});

	test('accepts a comma/newline list in one field; a duplicate id is sent once', async () => {
		const list = ids.slice(50, 60);
		const before = list.map((id) => env.emu.getAlert(tenant, id)!.comments.length);
		const since = env.emu.lastSeq();
		const r = await env.run({
			resource: 'alert',
			operation: 'updateMany',
			alertIds: `${list.slice(0, 5).join(', ')}\n${list.slice(5).join('\n')}, ${list[0]}`,
			updateFields: { comment: 'bulk' },
		});
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 10, batchCalls: 1, verificationReads: 1, alertsInBatch: 10 });
		// one batch call and one read-back by id (10 ids: `id eq … or …`)
		const calls = env.api({ sinceSeq: since });
		expect(calls.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /api/alerts/batchUpdate', 'GET /api/alerts']);
		expect(String(calls[1].query.$filter).split(' or ')).toHaveLength(10);
		list.forEach((id, k) => expect(env.emu.getAlert(tenant, id)!.comments.length).toBe(before[k] + 1));
	});

	test('when the API allows smaller batches (MaximumBatchSizeExceeded) the ids are re-split to its limit', async () => {
		env.emu.setMaxBatchSize(4);
		try {
			const list = ids.slice(50, 60);
			const since = env.emu.lastSeq();
			const r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: list.join(','), updateFields: { assignedTo: 'small@contoso.com' } });
			expect(r.error).toBeUndefined();
			// 1 refused call of 10, then 4 + 4 + 2, then one read-back
			expect(env.api({ sinceSeq: since }).map((q) => q.status)).toEqual([400, 200, 200, 200, 200]);
			expect(r.items[0].json.updated).toBe(true);
			expect(r.items[0].json.batchCalls).toBe(4);
			for (const id of list) expect(env.emu.getAlert(tenant, id)!.assignedTo).toBe('small@contoso.com');
		} finally {
			env.emu.setMaxBatchSize(500);
		}
	});

	test('chunks of at most 500 ids: 1,203 ids → 3 calls (Verify Updates off: no read, every alert "unknown")', async () => {
		const many = Array.from({ length: 1203 }, (_, k) => `da639${String(k).padStart(15, '0')}_${k}`);
		const since = env.emu.lastSeq();
		const r = await env.run(
			{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { status: 'InProgress' }, options: { verifyUpdates: false } },
			{ input: [{ ids: many }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ updated: 'unknown', updatedCount: 0, batchCalls: 3, verificationReads: 0, alertsInBatch: 1203 });
		expect((r.items[0].json.unknownIds as string[]).length).toBe(1203);
		expect(env.api({ sinceSeq: since })).toHaveLength(3);
	});

	test('alerts that do not exist are reported as not found, never as updated (batchUpdate answers 200 for them)', async () => {
		const real = ids.slice(2, 5);
		const missing = ['da639000000000000001_1', 'da639000000000000002_-2'];
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: [...real, ...missing].join(','), updateFields: { assignedTo: 'verify@contoso.com' } });
		expect(r.error).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['POST /api/alerts/batchUpdate 200', 'GET /api/alerts 200']);
		expect(r.items[0].json).toMatchObject({ updated: false, updatedCount: 3, notFoundIds: missing, unknownIds: [], batchCalls: 1, verificationReads: 1 });
		expect(r.items[0].json.alerts).toEqual([
			...real.map((id) => ({ id, updated: true })),
			...missing.map((id) => ({ id, updated: false, reason: 'notFound' })),
		]);
	});

	test('1,000 alerts: 2 batch calls + 1 read-back; 1,203 unknown ids: every one reported not found', async () => {
		// bench terms: 2 batch calls of 500 and the fewest verification reads (one "changed since" read)
		const many = env.emu.addAlerts(tenant, 100).map((a) => a.id);
		const fake = Array.from({ length: 900 }, (_, k) => `da638${String(k).padStart(15, '0')}_${k}`);
		let since = env.emu.lastSeq();
		let r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { status: 'Resolved' } }, { input: [{ ids: many }] });
		expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 100, batchCalls: 1, verificationReads: 1 });
		expect(env.api({ sinceSeq: since })).toHaveLength(2);
		since = env.emu.lastSeq();
		r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { status: 'InProgress' } }, { input: [{ ids: [...many, ...fake] }] });
		const calls = env.api({ sinceSeq: since });
		expect(calls.filter((q) => q.path === '/api/alerts/batchUpdate')).toHaveLength(2);
		// the "changed since" read finds the 100 real ones; the 900 others are read by id (25 per read) to tell "does not exist"
		expect(calls.filter((q) => q.method === 'GET')).toHaveLength(1 + 36);
		expect(r.items[0].json).toMatchObject({ updated: false, updatedCount: 100, batchCalls: 2, verificationReads: 37 });
		expect((r.items[0].json.notFoundIds as string[]).length).toBe(900);
	});

	test('a read-back that fails leaves the alerts "unknown", never "updated"; a 400 on the id filter halves it', async () => {
		const list = ids.slice(4, 10);
		const fault = env.emu.injectFault({ match: { method: 'GET', path: /^\/api\/alerts\?/ }, status: 500, times: 10 });
		try {
			const r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: list.join(','), updateFields: { assignedTo: 'unknown@contoso.com' } });
			expect(r.error).toBeUndefined();
			expect(r.items[0].json).toMatchObject({ updated: 'unknown', updatedCount: 0, notFoundIds: [] });
			expect((r.items[0].json.alerts as Array<{ reason: string }>)[0].reason).toMatch(/read-back request failed/);
		} finally {
			env.emu.removeFault(fault);
		}
		const refuse = env.emu.injectFault({ match: { method: 'GET', path: /^\/api\/alerts\?/ }, status: 400, times: 1 });
		try {
			const since = env.emu.lastSeq();
			const r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: list.join(','), updateFields: { assignedTo: 'halved@contoso.com' } });
			expect(r.items[0].json).toMatchObject({ updated: true, updatedCount: 6, verificationReads: 3 });
			expect(env.api({ sinceSeq: since }).map((q) => q.status)).toEqual([200, 400, 200, 200]);
		} finally {
			env.emu.removeFault(refuse);
		}
	});

	test('continueOnFail: a failed chunk yields error items only for its items', async () => {
		const groupA = { ids: [ids[20]], status: 'Resolved' };
		const groupB = { ids: [ids[21]], status: 'InProgress' };
		const fault = env.emu.injectFault({ match: { method: 'POST', path: '/api/alerts/batchUpdate' }, status: 400, times: 1 });
		try {
			const r = await env.run(
				{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.ids }}', updateFields: { status: '={{ $json.status }}' } },
				{ input: [groupA, groupB, groupA, { ids: 'bogus', status: 'Resolved' }], continueOnFail: true },
			);
			expect(r.error).toBeUndefined();
			expect(r.items).toHaveLength(4);
			expect(r.items[0].json.error).toMatch(/Defender rejected the request/);
			expect(r.items[0].json.alertIds).toEqual([ids[20]]);
			expect(r.items[1].json).toMatchObject({ updated: true });
			expect(r.items[2].json.error).toMatch(/Defender rejected the request/);
			expect(r.items[3].json.error).toMatch(/"bogus" does not look like a Defender alert ID/);
			expect(r.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }, { item: 3 }]);
		} finally {
			env.emu.removeFault(fault);
		}
	});

	test('bad input fails before any request', async () => {
		const since = env.emu.lastSeq();
		let r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: `${ids[0]}, ../../x`, updateFields: { status: 'Resolved' } });
		expect(r.error?.message).toMatch(/"\.\.\/\.\.\/x" does not look like a Defender alert ID/);
		r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: ' , ', updateFields: { status: 'Resolved' } });
		expect(r.error?.message).toBe('Alert IDs is empty');
		r = await env.run({ resource: 'alert', operation: 'updateMany', alertIds: ids[0], updateFields: {} });
		expect(r.error?.message).toBe('Update Fields is empty');
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

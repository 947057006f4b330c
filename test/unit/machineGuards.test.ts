/** helpers/machines.ts: references, DNS matching, filters, guard-rails, the per-execution ledger and the wait plan. */
import {
	buildActionFilter,
	buildMachineFilter,
	checkMaxMachines,
	chunk,
	excludedTagsOf,
	findByIpTimestamp,
	idFilter,
	IDS_PER_CALL,
	isTerminalStatus,
	MachineLedger,
	machineRefFrom,
	machineRefFromAlert,
	matchDnsName,
	naivePollCalls,
	parseTagList,
	refKey,
	resolveDnsMatches,
	validateActionId,
	validateDnsName,
	validateIp,
	validateMachineId,
	validateSha1,
	WAIT_DEFAULTS,
	WaitPlan,
} from '../../nodes/MicrosoftDefenderForEndpoint/helpers/machines';
import { responseActionDescription } from '../../nodes/MicrosoftDefenderForEndpoint/actions/machineAction/responseAction';
import { spec as isolateSpec } from '../../nodes/MicrosoftDefenderForEndpoint/actions/machineAction/isolate.operation';

const ID = '3f2a6b1c9d8e7f60514a2b3c4d5e6f708192a3b4';

describe('identifiers', () => {
	test('machine IDs: 40 hex, lower-cased; anything else says how to fix it', () => {
		expect(validateMachineId(` ${ID.toUpperCase()} `)).toEqual({ ok: true, value: ID });
		const bad = validateMachineId('ws-0042');
		expect(bad.ok).toBe(false);
		expect(!bad.ok && bad.hint).toMatch(/By DNS Name/);
		expect(validateMachineId('').ok).toBe(false);
	});

	test('DNS names, action IDs, SHA-1 (a SHA-256 is named as such), IPs', () => {
		expect(validateDnsName('WS-0042.Contoso.Local.')).toEqual({ ok: true, value: 'ws-0042.contoso.local' });
		expect(validateDnsName('https://ws-1').ok).toBe(false);
		expect(validateActionId('7C8C7A30-5B8F-4A4C-9C6C-1B2F3E4D5A6B')).toEqual({ ok: true, value: '7c8c7a30-5b8f-4a4c-9c6c-1b2f3e4d5a6b' });
		expect(validateActionId('123').ok).toBe(false);
		const sha256 = validateSha1('a'.repeat(64));
		expect(!sha256.ok && sha256.hint).toMatch(/SHA-256/);
		expect(validateSha1('A'.repeat(40))).toEqual({ ok: true, value: 'a'.repeat(40) });
		expect(validateIp('10.1.2.3').ok).toBe(true);
		expect(validateIp('fe80::1').ok).toBe(true);
		expect(validateIp('10.1.2.0/24').ok).toBe(false);
	});

	test('references from the locator and from an alert item', () => {
		expect(machineRefFrom('dnsName', 'WS-1.contoso.local')).toEqual({ ok: true, value: { kind: 'dnsName', name: 'ws-1.contoso.local' } });
		expect(machineRefFrom('list', ID)).toEqual({ ok: true, value: { kind: 'id', id: ID } });
		expect(machineRefFromAlert({ id: 'da1_2', machineId: ID.toUpperCase() })).toEqual({ ok: true, value: { kind: 'id', id: ID } });
		const none = machineRefFromAlert({ id: 'da1_2', title: 'Suspicious sign-in', machineId: null });
		expect(none.ok).toBe(false);
		expect(!none.ok && none.message).toMatch(/da1_2 "Suspicious sign-in" has no device/);
		expect(refKey({ kind: 'dnsName', name: 'A.b' })).toBe('dns:a.b');
	});

	test('findbyip timestamps: within 30 days, whole seconds, Z', () => {
		const now = Date.parse('2026-03-01T10:00:00.900Z');
		expect(findByIpTimestamp(now, now)).toEqual({ ok: true, value: '2026-03-01T10:00:00Z' });
		expect(findByIpTimestamp(now - 31 * 86_400_000, now).ok).toBe(false);
		expect(findByIpTimestamp(now + 3600_000, now).ok).toBe(false);
	});

	test('tag lists', () => {
		expect(parseTagList('critical-server, dc\nVIP;;')).toEqual(['critical-server', 'dc', 'VIP']);
		expect(parseTagList(['a', ' a ', 'b'])).toEqual(['a', 'b']);
		expect(parseTagList(undefined)).toEqual([]);
	});
});

describe('DNS names: exact or bare host name; two matches are an error listing both', () => {
	const machines = [
		{ id: 'a'.repeat(40), computerDnsName: 'ws-1.contoso.local', lastSeen: '2026-03-01T00:00:00Z', healthStatus: 'Active' },
		{ id: 'b'.repeat(40), computerDnsName: 'ws-10.contoso.local' },
		{ id: 'c'.repeat(40), computerDnsName: 'WS-1.fabrikam.local', lastSeen: '2025-12-01T00:00:00Z', healthStatus: 'Inactive' },
	];
	test('exact full name', () => {
		expect(matchDnsName('ws-1.contoso.local', machines).map((m) => m.id)).toEqual(['a'.repeat(40)]);
	});
	test('a bare host name matches every domain; startswith candidates like ws-10 are not matches', () => {
		expect(matchDnsName('ws-1', machines).map((m) => m.id)).toEqual(['a'.repeat(40), 'c'.repeat(40)]);
		const r = resolveDnsMatches('ws-1', 'contoso', machines);
		expect(r.ok).toBe(false);
		expect(!r.ok && r.message).toMatch(/matches 2 machines in tenant contoso: a{40} \(ws-1\.contoso\.local, last seen 2026-03-01T00:00:00Z, Active\); c{40}/);
		expect(!r.ok && r.hint).toMatch(/Nothing was sent/);
	});
	test('none found', () => {
		const r = resolveDnsMatches('db-7', 't', machines);
		expect(!r.ok && r.message).toBe('No machine named "db-7" was found in tenant t');
	});
});

describe('OData', () => {
	test('machine filter', () => {
		expect(
			buildMachineFilter({
				healthStatus: ['Active', 'ImpairedCommunication'],
				riskScore: ['High'],
				osPlatform: ['Windows11'],
				tag: "o'brien",
				lastSeenAfter: '2026-03-01T00:00:00.0000000Z',
				dnsNameStartsWith: 'srv-',
			}),
		).toBe(
			"(healthStatus eq 'Active' or healthStatus eq 'ImpairedCommunication') and riskScore eq 'High' and osPlatform eq 'Windows11' and machineTags/any(tag: tag eq 'o''brien') and lastSeen gt 2026-03-01T00:00:00.0000000Z and startswith(computerDnsName,'srv-')",
		);
		expect(buildMachineFilter({})).toBeUndefined();
	});
	test('action filter and ID lists', () => {
		expect(buildActionFilter({ machineId: ID, status: ['Pending', 'InProgress'], type: ['Isolate'] })).toBe(
			`machineId eq '${ID}' and (status eq 'Pending' or status eq 'InProgress') and type eq 'Isolate'`,
		);
		expect(idFilter(['a', 'b'])).toBe("id eq 'a' or id eq 'b'");
		expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
		// 25 GUIDs stay under 2,048 characters once URL-encoded
		const guids = Array.from({ length: IDS_PER_CALL }, (_, k) => `7c8c7a30-5b8f-4a4c-9c6c-${String(k).padStart(12, '0')}`);
		expect(encodeURIComponent(idFilter(guids)).length).toBeLessThan(2048);
	});
});

describe('guard-rails', () => {
	test('Max Machines: within, and above with a message saying nothing was sent and how to raise it', () => {
		expect(checkMaxMachines({ fresh: 10, earlier: 0, max: 10 }, 'machines')).toEqual({ ok: true, value: 10 });
		const r = checkMaxMachines({ fresh: 4, earlier: 8, max: 10 }, 'references');
		expect(r.ok).toBe(false);
		expect(!r.ok && r.message).toMatch(/4 machines, plus 8 acted on earlier in this execution — 12 in all, 10 allowed.*Nothing was sent/);
		expect(!r.ok && r.hint).toMatch(/raise "Max Machines per Execution" on this node to at least 12/);
	});
	test('Exclude Tags: case-insensitive, returns the machine\'s spelling', () => {
		expect(excludedTagsOf({ machineTags: ['Critical-Server', 'VIP'] }, ['critical-server'])).toEqual(['Critical-Server']);
		expect(excludedTagsOf({ machineTags: ['VIP'] }, [])).toEqual([]);
		expect(excludedTagsOf({}, ['x'])).toEqual([]);
	});
	test('the ledger counts machines per (execution, node) across runs and remembers resolved references', () => {
		const ledger = new MachineLedger(2);
		ledger.record('e1|n', ['t:m1', 't:m2'], [['g|dns:ws-1', 't:m1']]);
		ledger.record('e1|n', ['t:m2', 't:m3']);
		expect(ledger.machines('e1|n').size).toBe(3);
		expect(ledger.alias('e1|n', 'g|dns:ws-1')).toBe('t:m1');
		expect(ledger.machines('e2|n').size).toBe(0);
		ledger.record('e2|n', ['t:m1']);
		ledger.record('e3|n', ['t:m1']);
		expect(ledger.machines('e1|n').size).toBe(0); // bounded: the oldest execution is forgotten
	});
	test('the destructive operations offer the AI-agent opt-in only in the tool variant (@tool)', () => {
		const props = responseActionDescription(isolateSpec);
		const optIn = props.find((p) => p.name === 'allowAgentUse')!;
		expect(optIn.default).toBe(false);
		expect(optIn.displayOptions?.show?.['@tool']).toEqual([true]);
		const maxWait = props.find((p) => p.name === 'maxWait')!;
		const poll = props.find((p) => p.name === 'pollInterval')!;
		expect([maxWait.default, poll.default]).toEqual([WAIT_DEFAULTS.maxWaitSeconds, WAIT_DEFAULTS.pollIntervalSeconds]);
		expect(props.find((p) => p.name === 'maxMachines')!.default).toBe(10);
	});
});

describe('wait plan: many actions polled together', () => {
	test('rounds are one call per 25 pending IDs per group; final and expired actions drop out', () => {
		const plan = new WaitPlan();
		for (let k = 0; k < 50; k++) plan.add({ id: `a${k}`, group: 'g1', deadline: 10_000, pollMs: 1000, status: 'Pending' });
		plan.add({ id: 'b0', group: 'g2', deadline: 2_500, pollMs: 500, status: 'Pending' });
		expect(plan.round(0).map((c) => [c.group, c.ids.length])).toEqual([
			['g1', 25],
			['g1', 25],
			['g2', 1],
		]);
		expect(plan.nextDelay(0)).toBe(500);
		for (let k = 0; k < 30; k++) plan.update('g1', `a${k}`, 'Succeeded');
		expect(plan.round(1000).map((c) => c.ids.length)).toEqual([20, 1]);
		expect(plan.nextDelay(2_400)).toBe(100); // capped by b0's deadline
		expect(plan.pending(3_000).map((e) => e.id)).toHaveLength(20);
		for (let k = 30; k < 50; k++) plan.update('g1', `a${k}`, k % 2 ? 'Failed' : 'TimeOut');
		expect(plan.nextDelay(3_000)).toBeUndefined();
		expect(naivePollCalls(50, 3)).toBe(150);
	});
	test('items sharing one action: the longest wait and the shortest interval', () => {
		const plan = new WaitPlan();
		plan.add({ id: 'x', group: 'g', deadline: 1000, pollMs: 5000, status: 'Pending' });
		plan.add({ id: 'x', group: 'g', deadline: 9000, pollMs: 1000, status: 'Pending' });
		expect(plan.size()).toBe(1);
		expect(plan.nextDelay(0)).toBe(1000);
		expect(plan.pending(5000)).toHaveLength(1);
	});
	test('terminal statuses', () => {
		expect(['Succeeded', 'Failed', 'TimeOut', 'Cancelled'].every(isTerminalStatus)).toBe(true);
		expect(['Pending', 'InProgress', undefined].some(isTerminalStatus)).toBe(false);
	});
});

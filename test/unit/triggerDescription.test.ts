/**
 * The trigger's parameters: the description (trigger/description.ts) takes Max Throttle Wait's default and bounds
 * from core/limits, and readTriggerSettings (trigger/settings.ts) parses them with the same limits.
 */
import { type INode, type INodeParameters, type INodeProperties, type IPollFunctions, NodeHelpers, NodeOperationError } from 'n8n-workflow';

import { THROTTLE_WAIT } from '../../nodes/MicrosoftDefenderForEndpoint/core/limits';
import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { properties } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/description';
import { pollBudgetMs, pollIntervalMs, staleLockMs } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/schedule.pure';
import { DEFAULT_MAX_ALERTS_PER_POLL, readTriggerSettings } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/settings';

const option = (name: string) => ((properties.find((p) => p.name === 'options')!.options ?? []) as INodeProperties[]).find((o) => o.name === name)!;

/** Just enough of IPollFunctions for readTriggerSettings. */
function pollContext(parameters: Record<string, unknown>, mode: 'trigger' | 'manual' = 'trigger', budgetMs?: number, typeVersion = 1): IPollFunctions {
	const node: INode = { id: 't', name: 'Trigger', type: 'trigger', typeVersion, position: [0, 0], parameters: {} };
	return {
		getNode: () => node,
		getMode: () => mode,
		getNodeParameter: (name: string, fallback: unknown) => (name in parameters ? parameters[name] : fallback),
		...(budgetMs !== undefined ? { getPollBudgetMs: () => budgetMs } : {}),
	} as unknown as IPollFunctions;
}
const every = (item: Record<string, unknown>) => ({ pollTimes: { item: [item] } });

describe('trigger description', () => {
	test('Max Throttle Wait: default and maximum are THROTTLE_WAIT.trigger', () => {
		const wait = option('maxThrottleWait');
		expect({ default: wait.default, min: wait.typeOptions?.minValue, max: wait.typeOptions?.maxValue }).toEqual({
			default: THROTTLE_WAIT.trigger.defaultSeconds,
			min: 0,
			max: THROTTLE_WAIT.trigger.maxSeconds,
		});
		expect([wait.default, wait.typeOptions?.maxValue]).toEqual([300, 3600]);
		expect(wait.displayName).toBe('Max Throttle Wait (Seconds)');
		expect(wait.description).toMatch(/^How long Defender throttling \(HTTP 429\) may be waited out within one poll/);
	});

	test('the node uses these properties: Start From and its fields top-level (1.1), options in the order they had', () => {
		const node = new MicrosoftDefenderForEndpointTrigger().description;
		expect(node.properties).toBe(properties);
		expect([node.version, node.defaultVersion]).toEqual([[1, 1.1], 1.1]);
		expect(properties.map((p) => p.name)).toEqual(['event', 'watchFields', 'startFrom', 'hoursBack', 'startDate', 'region', 'tenants', 'filters', 'incidentFilters', 'options']);
		expect(((properties.at(-1)!.options ?? []) as INodeProperties[]).map((o) => o.name)).toEqual([
			'hoursBack',
			'includeEvidence',
			'overlapMinutes',
			'maxAlertsPerPoll',
			'concurrency',
			'maxThrottleWait',
			'outputMode',
			'pageSize',
			'simplify',
			'startDate',
			'startFrom',
		]);
	});

	test('Tenants is a multi-line field', () => {
		const tenants = properties.find((p) => p.name === 'tenants')!;
		expect(tenants.typeOptions?.rows).toBeGreaterThanOrEqual(3);
		expect(tenants.placeholder).toContain('\n');
	});

	/** What n8n itself resolves from saved parameters (the Workflow constructor runs getNodeParameters). */
	const resolved = (typeVersion: number, parameters: INodeParameters) =>
		NodeHelpers.getNodeParameters(properties, parameters, true, false, { typeVersion }, new MicrosoftDefenderForEndpointTrigger().description)!;

	test('version 1 (saved workflows): Start From stays in Options and n8n keeps its values; the top-level fields do not show', () => {
		const v1 = resolved(1, { options: { startFrom: 'date', startDate: '2026-01-31T00:00:00Z' } });
		expect(v1.options).toEqual({ startFrom: 'date', startDate: '2026-01-31T00:00:00Z' });
		expect(v1).not.toHaveProperty('startFrom');
		expect(resolved(1, { options: { startFrom: 'hoursBack', hoursBack: 6 } }).options).toEqual({ startFrom: 'hoursBack', hoursBack: 6 });
	});

	test('version 1.1: Start From is top-level, its field shows with it, and the Options no longer offer it', () => {
		const v11 = resolved(1.1, { startFrom: 'hoursBack', hoursBack: 6, options: { startFrom: 'date' } });
		expect(v11).toMatchObject({ startFrom: 'hoursBack', hoursBack: 6 });
		expect(v11).not.toHaveProperty('startDate');
		expect(v11.options).toEqual({});
		expect(resolved(1.1, { startFrom: 'date', startDate: '2026-01-31T00:00:00Z' })).toMatchObject({ startFrom: 'date', startDate: '2026-01-31T00:00:00Z' });
		expect(resolved(1.1, {})).toMatchObject({ startFrom: 'now' });
	});
});

describe('readTriggerSettings', () => {
	test('defaults: the credential\'s tenant, 300 s throttle wait (bounded by the budget), automatic page size', () => {
		const s = readTriggerSettings(pollContext({}));
		expect(s).toMatchObject({
			manual: false,
			kind: 'created',
			watchFields: [],
			tenants: [{ tenantId: '' }],
			multiTenant: false,
			includeEvidence: false,
			outputMode: 'perAlert',
			invalidTenants: [],
			maxItems: DEFAULT_MAX_ALERTS_PER_POLL,
			overlapMs: 15 * 60_000,
			pageSize: undefined, // automatic
			concurrency: 5,
			startFrom: { mode: 'now' },
			maxThrottleWaitMs: THROTTLE_WAIT.trigger.defaultSeconds * 1000,
			budgetMs: 5 * 60_000,
		});
	});

	test('Max Throttle Wait beyond THROTTLE_WAIT.trigger is a NodeOperationError with core/limits\' message', () => {
		const read = () => readTriggerSettings(pollContext({ options: { maxThrottleWait: 3601 } }));
		expect(read).toThrow(NodeOperationError);
		expect(read).toThrow('Max Throttle Wait must be a number of seconds from 0 to 3600, got "3601"');
		expect(readTriggerSettings(pollContext({ options: { maxThrottleWait: '2.5' } }))).toMatchObject({ maxThrottleWaitMs: 2500 });
	});

	test('manual mode ("Fetch test event") does not read the poll-only options', () => {
		const s = readTriggerSettings(pollContext({ event: 'updatedAlert', options: { maxThrottleWait: -1, startFrom: 'date', startDate: 'yesterday', outputMode: 'single' } }, 'manual'));
		expect(s).toMatchObject({ manual: true, kind: 'updated', outputMode: 'single' });
		expect(s).not.toHaveProperty('maxThrottleWaitMs');
		expect(() => readTriggerSettings(pollContext({ options: { startFrom: 'date', startDate: 'yesterday' } }))).toThrow('Start Date "yesterday" is not a date');
	});

	test('watched fields and tenants are checked with their messages', () => {
		expect(() => readTriggerSettings(pollContext({ event: 'updatedAlert', watchFields: 'status, severity' }))).toThrow('Unknown field to watch: "severity"');
		expect(readTriggerSettings(pollContext({ event: 'updatedAlert', watchFields: 'status, comments' }))).toMatchObject({ watchFields: ['status', 'comments'] });
		expect(readTriggerSettings(pollContext({ tenants: 'Fabrikam.onmicrosoft.com=Fabrikam' }))).toMatchObject({
			tenants: [{ tenantId: 'fabrikam.onmicrosoft.com', label: 'Fabrikam' }],
			invalidTenants: [],
			multiTenant: true,
		});
	});

	test('an invalid Tenants entry does not fail the poll: it is returned with its position and label, the others are polled', () => {
		const s = readTriggerSettings(pollContext({ tenants: 'common=Shared, 11111111-2222-3333-4444-555555555555=Contoso, ../' }));
		expect(s).toMatchObject({ multiTenant: true, tenants: [{ tenantId: '11111111-2222-3333-4444-555555555555', label: 'Contoso' }] });
		expect(s.invalidTenants).toEqual([
			{ position: 1, label: 'Shared', message: 'Tenants entry 1 "common" is not a specific tenant', hint: expect.stringMatching(/GUID or verified domain/) },
			{ position: 3, message: 'Tenants entry 3 "../" is neither a GUID nor a domain', hint: expect.stringMatching(/GUID/) },
		]);
		// every entry invalid: still multi-tenant (never the credential's tenant instead), nothing to poll
		expect(readTriggerSettings(pollContext({ tenants: 'common' }))).toMatchObject({ multiTenant: true, tenants: [], invalidTenants: [expect.objectContaining({ position: 1 })] });
		// a pasted secret is not repeated
		const secret = 'Xq8~fake.Secret_Value-1234567890abcdefghij';
		expect(JSON.stringify(readTriggerSettings(pollContext({ tenants: secret })).invalidTenants)).not.toContain(secret.slice(0, 10));
	});

	test('version 1.1 reads the top-level Start From, Hours Back and Start Date, not the old Options keys', () => {
		const v11 = (parameters: Record<string, unknown>) => readTriggerSettings(pollContext(parameters, 'trigger', undefined, 1.1));
		expect(v11({ startFrom: 'hoursBack', hoursBack: 6, options: { startFrom: 'date' } })).toMatchObject({ startFrom: { mode: 'hoursBack', hours: 6 } });
		expect(v11({ startFrom: 'date', startDate: '2026-01-31T00:00:00Z' })).toMatchObject({ startFrom: { mode: 'date', at: '2026-01-31T00:00:00.0000000Z' } });
		expect(v11({ options: { startFrom: 'hoursBack', hoursBack: 6 } })).toMatchObject({ startFrom: { mode: 'now' } });
		expect(v11({ startFrom: 'hoursBack' })).toMatchObject({ startFrom: { mode: 'hoursBack', hours: 24 } });
		expect(() => v11({ startFrom: 'date', startDate: 'yesterday' })).toThrow('Start Date "yesterday" is not a date');
	});

	test('version 1 (saved workflows) reads them from Options, as before; Start From is a rule (the boundary comes from the API clock later); a Start Date is normalized', () => {
		expect(readTriggerSettings(pollContext({ startFrom: 'date', options: {} }))).toMatchObject({ startFrom: { mode: 'now' } });
		expect(readTriggerSettings(pollContext({ options: { startFrom: 'hoursBack', hoursBack: 6 } }))).toMatchObject({ startFrom: { mode: 'hoursBack', hours: 6 } });
		expect(readTriggerSettings(pollContext({ options: { startFrom: 'date', startDate: '2026-01-31T00:00:00Z' } }))).toMatchObject({ startFrom: { mode: 'date', at: '2026-01-31T00:00:00.0000000Z' } });
	});

	test('an explicit Page Size is used as given (up to 10,000); 0 is automatic', () => {
		expect(readTriggerSettings(pollContext({ options: { pageSize: 250 } }))).toMatchObject({ pageSize: 250 });
		expect(readTriggerSettings(pollContext({ options: { pageSize: 20_000 } }))).toMatchObject({ pageSize: 10_000 });
		expect(readTriggerSettings(pollContext({ options: { pageSize: 0 } }))).toMatchObject({ pageSize: undefined });
	});
});

describe('time budget below the poll interval (issue 10 item 1)', () => {
	test.each([
		['every minute (n8n\'s default and shortest)', every({ mode: 'everyMinute' }), undefined, 54_000],
		['every minute, scheduler budget 36 s', every({ mode: 'everyMinute' }), 36_000, 36_000],
		['every 2 minutes', every({ mode: 'everyX', unit: 'minutes', value: 2 }), undefined, 108_000],
		['every 7 minutes (minute 56 → 0 is 4 minutes)', every({ mode: 'everyX', unit: 'minutes', value: 7 }), undefined, 216_000],
		['every hour (n8n\'s 5-minute budget applies)', every({ mode: 'everyHour', minute: 5 }), undefined, 300_000],
		['custom every minute', every({ mode: 'custom', cronExpression: '*/1 * * * *' }), undefined, 54_000],
		['custom at 03:15 every day', every({ mode: 'custom', cronExpression: '15 3 * * *' }), undefined, 300_000],
		['two poll times (may fire a minute apart)', { pollTimes: { item: [{ mode: 'everyHour', minute: 0 }, { mode: 'everyHour', minute: 1 }] } }, undefined, 54_000],
		['no pollTimes (not loaded by n8n\'s loader)', {}, undefined, 300_000],
	])('%s', (_label, parameters, n8nBudget, expected) => {
		const s = readTriggerSettings(pollContext(parameters, 'trigger', n8nBudget));
		expect(s).toMatchObject({ budgetMs: expected });
	});

	test('the budget is always below the interval, and the overlap lock outlives the budget', () => {
		for (const value of [1, 2, 3, 5, 7, 10, 15, 30, 45, 59]) {
			const interval = pollIntervalMs({ item: [{ mode: 'everyX', unit: 'minutes', value }] })!;
			const budget = pollBudgetMs({ n8nBudgetMs: 10 * 60_000, intervalMs: interval });
			expect(budget).toBeLessThan(interval);
			expect(staleLockMs(budget)).toBeGreaterThan(budget);
		}
	});
});

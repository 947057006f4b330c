/**
 * The trigger's parameters: the description (trigger/description.ts) takes Max Throttle Wait's default and bounds
 * from core/limits, and readTriggerSettings (trigger/settings.ts) parses them with the same limits.
 */
import { type INode, type INodeProperties, type IPollFunctions, NodeOperationError } from 'n8n-workflow';

import { THROTTLE_WAIT } from '../../nodes/MicrosoftDefenderForEndpoint/core/limits';
import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { properties } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/description';
import { pollBudgetMs, pollIntervalMs, staleLockMs } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/schedule.pure';
import { DEFAULT_MAX_ALERTS_PER_POLL, readTriggerSettings } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/settings';

const option = (name: string) => ((properties.find((p) => p.name === 'options')!.options ?? []) as INodeProperties[]).find((o) => o.name === name)!;

/** Just enough of IPollFunctions for readTriggerSettings. */
function pollContext(parameters: Record<string, unknown>, mode: 'trigger' | 'manual' = 'trigger', budgetMs?: number): IPollFunctions {
	const node: INode = { id: 't', name: 'Trigger', type: 'trigger', typeVersion: 1, position: [0, 0], parameters: {} };
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
		expect([wait.default, wait.typeOptions?.maxValue]).toEqual([60, 3600]);
		expect(wait.displayName).toBe('Max Throttle Wait (Seconds)');
		expect(wait.description).toMatch(/^How long Defender throttling \(HTTP 429\) may be waited out within one poll/);
	});

	test('the node uses these properties, options in the order they had', () => {
		expect(new MicrosoftDefenderForEndpointTrigger().description.properties).toBe(properties);
		expect(properties.map((p) => p.name)).toEqual(['event', 'watchFields', 'region', 'tenants', 'filters', 'options']);
		expect(((properties.at(-1)!.options ?? []) as INodeProperties[]).map((o) => o.name)).toEqual([
			'hoursBack',
			'includeEvidence',
			'overlapMinutes',
			'maxAlertsPerPoll',
			'concurrency',
			'maxThrottleWait',
			'outputMode',
			'pageSize',
			'startDate',
			'startFrom',
		]);
	});
});

describe('readTriggerSettings', () => {
	test('defaults: the credential\'s tenant, 60 s throttle wait, automatic page size', () => {
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

	test('Start From is a rule (the boundary comes from the API clock later); a Start Date is normalized', () => {
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

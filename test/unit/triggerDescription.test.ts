/**
 * The trigger's parameters: the description (trigger/description.ts) takes Max Throttle Wait's default and bounds
 * from core/limits, and readTriggerSettings (trigger/settings.ts) parses them with the same limits.
 */
import { type INode, type INodeProperties, type IPollFunctions, NodeOperationError } from 'n8n-workflow';

import { THROTTLE_WAIT } from '../../nodes/MicrosoftDefenderForEndpoint/core/limits';
import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { properties } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/description';
import { readTriggerSettings } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/settings';

const option = (name: string) => ((properties.find((p) => p.name === 'options')!.options ?? []) as INodeProperties[]).find((o) => o.name === name)!;

/** Just enough of IPollFunctions for readTriggerSettings. */
function pollContext(parameters: Record<string, unknown>, mode: 'trigger' | 'manual' = 'trigger'): IPollFunctions {
	const node: INode = { id: 't', name: 'Trigger', type: 'trigger', typeVersion: 1, position: [0, 0], parameters: {} };
	return {
		getNode: () => node,
		getMode: () => mode,
		getNodeParameter: (name: string, fallback: unknown) => (name in parameters ? parameters[name] : fallback),
	} as unknown as IPollFunctions;
}

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
			maxItems: 500,
			overlapMs: 15 * 60_000,
			pageSize: 1000,
			concurrency: 5,
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
		expect(() => readTriggerSettings(pollContext({ tenants: 'common' }))).toThrow('Tenant "common" is not a specific tenant');
		expect(readTriggerSettings(pollContext({ tenants: 'Fabrikam.onmicrosoft.com=Fabrikam' }))).toMatchObject({
			tenants: [{ tenantId: 'fabrikam.onmicrosoft.com', label: 'Fabrikam' }],
			multiTenant: true,
		});
	});
});

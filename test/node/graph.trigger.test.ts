/**
 * Phase 1 boundary: the trigger still reads alerts through the Defender for Endpoint API. On a credential whose
 * Alerts API is Microsoft Graph its poll does not read Graph alerts silently wrong: it fails with a message that says
 * to keep a Defender API credential for trigger workflows.
 */
import { commonPollingParameters } from 'n8n-core/dist/nodes-loader/constants';
import type { IDataObject, INode, INodeType } from 'n8n-workflow';

import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { PACKAGE, pollHarness } from '../harness';
import { createGraphEnv, type GraphEnv } from './graphEnv';

let env: GraphEnv;
beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 1, alertsPerTenant: 5 } });
});
afterAll(async () => {
	await env.close();
});

test('a poll on a Graph credential fails clearly instead of reading Defender OData against Graph', async () => {
	const type = `${PACKAGE}.microsoftDefenderForEndpointTrigger`;
	const trigger = new MicrosoftDefenderForEndpointTrigger();
	// as n8n's loader serves it: the common pollTimes parameter first
	const loaded: INodeType = { description: { ...trigger.description, properties: [...(commonPollingParameters as INodeType['description']['properties']), ...trigger.description.properties] }, poll: trigger.poll };
	(env.nodeTypes as unknown as { types: Record<string, unknown> }).types[type] = loaded;
	const node: INode = { id: 'trig', name: 'Defender Trigger', type, typeVersion: 1, position: [0, 0], parameters: { pollTimes: { item: [{ mode: 'everyMinute' }] } }, credentials: { microsoftDefenderForEndpointApi: env.graphCred } };
	const harness = pollHarness({ node, nodeTypes: env.nodeTypes, credentialsHelper: env.creds });
	let error: unknown;
	let out: unknown;
	try {
		out = await harness.poll();
	} catch (e) {
		error = e;
	}
	const text = error ? `${(error as Error).message} ${(error as { description?: string }).description ?? ''}` : JSON.stringify(out);
	expect(text).toMatch(/Defender for Endpoint OData filter|Defender for Endpoint API only in this version/);
	// nothing was emitted as an alert
	const alerts = Array.isArray(out) ? ((out as IDataObject[][])[0] ?? []) : [];
	expect(alerts).toEqual([]);
});

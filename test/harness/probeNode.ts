/**
 * A minimal node for credential and transport tests: per item it reads alerts through the real backend and
 * transport (optionally for the item's `tenant`), so token behaviour can be tested through n8n-core's engine
 * independently of the action node's parameters.
 */
import { type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription, NodeConnectionTypes } from 'n8n-workflow';

import { backendFor } from '../../nodes/MicrosoftDefenderForEndpoint/backend';

export class DefenderProbe implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Defender Probe',
		name: 'defenderProbe',
		group: ['transform'],
		version: 1,
		description: 'test node',
		defaults: { name: 'Probe' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
		properties: [{ displayName: 'Region', name: 'region', type: 'string', default: 'global' }],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const out: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			try {
				const tenant = items[i].json.tenant as string | undefined;
				const backend = await backendFor(this, { itemIndex: i, customerTenant: tenant, region: this.getNodeParameter('region', i) as string });
				const alerts = await backend.listAlerts({ top: 1 });
				out.push({ json: { tenantId: backend.tenantId, alerts: alerts.length, firstId: alerts[0]?.id ?? null }, pairedItem: { item: i } });
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message, description: (error as { description?: string }).description ?? null }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [out];
	}
}

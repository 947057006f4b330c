import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	NodeConnectionTypes,
} from 'n8n-workflow';

import { properties } from './actions/node.description';
import { router } from './actions/router';
import { listSearch, loadOptions } from './methods';

export class MicrosoftDefenderForEndpoint implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Defender for Endpoint',
		name: 'microsoftDefenderForEndpoint',
		icon: { light: 'file:../../icons/defender.svg', dark: 'file:../../icons/defender.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Read, triage and update Microsoft Defender for Endpoint alerts, for one tenant or many (MSSP)',
		defaults: { name: 'Microsoft Defender for Endpoint' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
		properties,
	};

	methods = { listSearch, loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}

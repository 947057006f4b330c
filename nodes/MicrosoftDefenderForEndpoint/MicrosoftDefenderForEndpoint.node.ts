import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	NodeConnectionTypes,
} from 'n8n-workflow';

import { properties } from './actions/node.description';
import { NODE_DEFAULT_VERSION, NODE_DESCRIPTION, NODE_VERSIONS } from './descriptions/common';
import { router } from './actions/router';
import { listSearch, loadOptions } from './methods';

export class MicrosoftDefenderForEndpoint implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Defender for Endpoint',
		name: 'microsoftDefenderForEndpoint',
		icon: { light: 'file:../../icons/defender.svg', dark: 'file:../../icons/defender.dark.svg' },
		group: ['transform'],
		// 1.1: Simplify on by default in the single-alert operations (descriptions/common simplifySingleAlert)
		version: NODE_VERSIONS,
		defaultVersion: NODE_DEFAULT_VERSION,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: NODE_DESCRIPTION,
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

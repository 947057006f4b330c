import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { type ResponseActionSpec, responseActionDescription, runResponseActions } from './responseAction';

import { validateEnum } from '../../helpers/validation';

export const spec: ResponseActionSpec = {
	operation: 'isolate',
	kind: 'isolate',
	title: 'Isolate',
	destructive: true,
	alertSource: true,
	properties: [
		{
			displayName: 'Isolation Type',
			name: 'isolationType',
			type: 'options',
			options: [
				{ name: 'Full', value: 'Full', description: 'Cut the device off the network except for the Defender service' },
				{ name: 'Selective', value: 'Selective', description: 'Also keep Outlook, Teams and Skype for Business working (Windows 10 1709 or later)' },
			],
			default: 'Full',
			description: 'How far the device is isolated (Isolate machine: https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine)',
		},
	],
	body: (ctx, i) => ({ IsolationType: validateEnum(ctx.getNode(), i, 'Isolation Type', ctx.getNodeParameter('isolationType', i, 'Full'), ['Full', 'Selective']) as 'Full' | 'Selective' }),
};

export const description = responseActionDescription(spec);

export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await runResponseActions(this, items, spec);
}

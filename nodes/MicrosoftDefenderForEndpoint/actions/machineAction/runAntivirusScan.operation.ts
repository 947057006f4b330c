import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { type ResponseActionSpec, responseActionDescription, runResponseActions } from './responseAction';

import { validateEnum } from '../../helpers/validation';

export const spec: ResponseActionSpec = {
	operation: 'runAntivirusScan',
	kind: 'runAntiVirusScan',
	title: 'Run Antivirus Scan',
	destructive: false,
	alertSource: true,
	properties: [
		{
			displayName: 'Scan Type',
			name: 'scanType',
			type: 'options',
			options: [
				{ name: 'Full', value: 'Full', description: 'Every file and running program; can take hours' },
				{ name: 'Quick', value: 'Quick', description: 'The places malware usually hides; minutes' },
			],
			default: 'Quick',
			description: 'Microsoft Defender Antivirus scan to run (Run antivirus scan: https://learn.microsoft.com/en-us/defender-endpoint/api/run-av-scan)',
		},
	],
	body: (ctx, i) => ({ ScanType: validateEnum(ctx.getNode(), i, 'Scan Type', ctx.getNodeParameter('scanType', i, 'Quick'), ['Quick', 'Full']) as 'Quick' | 'Full' }),
};

export const description = responseActionDescription(spec);

export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await runResponseActions(this, items, spec);
}

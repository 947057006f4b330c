import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { type ResponseActionSpec, responseActionDescription, runResponseActions } from './responseAction';

import { validateSha1 } from '../../helpers/machines';
import { checked } from '../machine/common';

export const spec: ResponseActionSpec = {
	operation: 'stopAndQuarantineFile',
	kind: 'stopAndQuarantineFile',
	title: 'Stop and Quarantine File',
	destructive: true,
	alertSource: true,
	properties: [
		{
			displayName: 'SHA-1',
			name: 'sha1',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. 87662bc3d60e4200ceaf7aae249d1c343f4b83c9',
			description: 'SHA-1 hash of the file to stop and quarantine on the machine (40 hexadecimal characters; e.g. the sha1 of an alert\'s file evidence)',
		},
	],
	body: (ctx, i) => ({ Sha1: checked(ctx.getNode(), i, validateSha1(ctx.getNodeParameter('sha1', i, ''))) }),
};

export const description = responseActionDescription(spec);

export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await runResponseActions(this, items, spec);
}

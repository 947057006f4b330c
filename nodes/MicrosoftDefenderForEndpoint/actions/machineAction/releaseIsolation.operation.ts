import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { type ResponseActionSpec, responseActionDescription, runResponseActions } from './responseAction';

export const spec: ResponseActionSpec = {
	operation: 'releaseIsolation',
	kind: 'unisolate',
	title: 'Release From Isolation',
	destructive: false,
	alertSource: false,
};

export const description = responseActionDescription(spec);

export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await runResponseActions(this, items, spec);
}

import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { readCommon } from '../../helpers/params';
import { inputError } from '../../helpers/validation';
import { actionIdProperty, decorateAction, readActionId } from './common';
import { DEFAULT_COMMENT } from './responseAction';

const properties: INodeProperties[] = [
	actionIdProperty('The machine action to cancel; only actions that are not final yet (Pending, InProgress) can be cancelled'),
	{
		displayName: 'Comment',
		name: 'comment',
		type: 'string',
		default: DEFAULT_COMMENT,
		required: true,
		description: 'Reason for the cancellation, recorded in Defender (required by the API). The default names this workflow and execution.',
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machineAction'], operation: ['cancel'] } }, properties);

/** Cancel machine action (https://learn.microsoft.com/en-us/defender-endpoint/api/cancel-machine-action); never retried automatically. */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readActionId(this, i);
	const raw = this.getNodeParameter('comment', i, '') as unknown;
	const comment = raw === undefined || raw === null ? '' : String(raw).trim();
	if (!comment) throw inputError(this.getNode(), i, 'Comment is empty', 'Defender requires a comment to cancel an action; enter the reason.');
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const action = await backend.cancelAction(id, comment);
	const json = decorateAction(action, backend, await backend.outputTenantId(), common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

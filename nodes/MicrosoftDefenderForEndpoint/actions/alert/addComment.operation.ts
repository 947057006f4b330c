import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { alertLocator, optionsCollection, simplifySingleAlert } from '../../descriptions/common';
import { decorateAlert, simplifyAlert } from '../../helpers/output';
import { alertsApiOf, backendFor } from '../../backend';
import { readAlertId, readCommon } from '../../helpers/params';
import { inputError, MAX_COMMENT_LENGTH, validateComment } from '../../helpers/validation';

const properties: INodeProperties[] = [
	alertLocator('The alert to comment on'),
	{
		displayName: 'Comment',
		name: 'comment',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		required: true,
		placeholder: 'e.g. Ticket INC-1234 opened; isolating the device',
		description: `Text added to the alert's comments (existing comments are kept); at most ${MAX_COMMENT_LENGTH} characters`,
	},
	...simplifySingleAlert,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['addComment'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readAlertId(this, i, 'alertId', await alertsApiOf(this, i));
	const raw = this.getNodeParameter('comment', i, '') as unknown;
	const comment = raw === undefined || raw === null ? '' : String(raw);
	if (comment.trim() === '') {
		throw inputError(this.getNode(), i, 'Comment is empty', 'Enter the text to add to the alert, or map it from a previous node.');
	}
	validateComment(this.getNode(), i, comment);
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const alert = decorateAlert(await backend.updateAlert(id, { comment }), backend, common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyAlert(alert) : alert), { itemData: { item: i } });
}

import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { incidentBackendFor } from '../../backend/incidents';
import { optionsCollection } from '../../descriptions/common';
import { incidentCommentProperty, incidentLocator, incidentSimplifyOff } from '../../descriptions/incident';
import { readCommon } from '../../helpers/params';
import { inputError, validateComment } from '../../helpers/validation';
import { readIncidentId, shapeIncident } from './common';

const properties: INodeProperties[] = [incidentLocator('The incident to comment on'), incidentCommentProperty, incidentSimplifyOff, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['incident'], operation: ['addComment'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readIncidentId(this, i);
	const raw = this.getNodeParameter('comment', i, '') as unknown;
	const comment = raw === undefined || raw === null ? '' : String(raw);
	if (comment.trim() === '') {
		throw inputError(this.getNode(), i, 'Comment is empty', 'Enter the text to add to the incident, or map it from a previous node.');
	}
	validateComment(this.getNode(), i, comment);
	const simplify = this.getNodeParameter('simplify', i, false) === true;
	const backend = await incidentBackendFor(this, { itemIndex: i, ...common });
	const incident = await backend.addComment(id, comment);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(shapeIncident(incident, backend, common, simplify)), { itemData: { item: i } });
}

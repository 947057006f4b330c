import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { incidentBackendFor } from '../../backend/incidents';
import { optionsCollection } from '../../descriptions/common';
import { incidentLocator, incidentSimplifyOff, incidentUpdateFields } from '../../descriptions/incident';
import { readCommon } from '../../helpers/params';
import { readIncidentId, readIncidentPatch, shapeIncident } from './common';

const properties: INodeProperties[] = [incidentLocator('The incident to update'), incidentUpdateFields, incidentSimplifyOff, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['incident'], operation: ['update'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readIncidentId(this, i);
	const patch = readIncidentPatch(this.getNode(), i, this.getNodeParameter('updateFields', i, {}) as IDataObject);
	const simplify = this.getNodeParameter('simplify', i, false) === true;
	const backend = await incidentBackendFor(this, { itemIndex: i, ...common });
	const incident = await backend.updateIncident(id, patch);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(shapeIncident(incident, backend, common, simplify)), { itemData: { item: i } });
}

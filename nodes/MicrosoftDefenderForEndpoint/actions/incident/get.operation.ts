import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { incidentBackendFor } from '../../backend/incidents';
import { optionsCollection } from '../../descriptions/common';
import { expandAlertsProperty, incidentLocator, incidentSimplifyOff } from '../../descriptions/incident';
import { readCommon } from '../../helpers/params';
import { readIncidentId, shapeIncident } from './common';

const properties: INodeProperties[] = [incidentLocator('The incident to retrieve'), expandAlertsProperty, incidentSimplifyOff, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['incident'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readIncidentId(this, i);
	const expandAlerts = this.getNodeParameter('expandAlerts', i, false) === true;
	const simplify = this.getNodeParameter('simplify', i, false) === true;
	const backend = await incidentBackendFor(this, { itemIndex: i, ...common });
	const incident = await backend.getIncident(id, { expandAlerts });
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(shapeIncident(incident, backend, common, simplify)), { itemData: { item: i } });
}

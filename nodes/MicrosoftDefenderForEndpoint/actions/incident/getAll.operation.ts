import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { incidentBackendFor, type IncidentRecord } from '../../backend/incidents';
import { optionsCollection, returnAllAndLimit } from '../../descriptions/common';
import { expandAlertsProperty, incidentFilters, incidentSimplifyOn } from '../../descriptions/incident';
import { readCommon } from '../../helpers/params';
import { readIncidentListSettings, shapeIncident } from './common';

const properties: INodeProperties[] = [...returnAllAndLimit, incidentFilters, expandAlertsProperty, incidentSimplifyOn, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['incident'], operation: ['getAll'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const settings = readIncidentListSettings(this, i);
	const backend = await incidentBackendFor(this, { itemIndex: i, ...common });
	const out: INodeExecutionData[] = [];
	const seen = new Set<string>();
	let remaining = settings.limit;
	/** Each page becomes output items before the next one is fetched. */
	const take = (page: IncidentRecord[]) => {
		const json: IDataObject[] = [];
		for (const incident of page) {
			if (remaining <= 0) break;
			// Paging can repeat an incident when one is created or updated between pages: return each id once.
			if (seen.has(incident.id)) continue;
			seen.add(incident.id);
			json.push(shapeIncident(incident, backend, common, settings.simplify));
			remaining -= 1;
		}
		page.length = 0;
		for (const item of this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } })) out.push(item);
	};
	for await (const page of backend.pages({ where: settings.where, expandAlerts: settings.expandAlerts }, settings.limit)) {
		take(page);
		if (remaining <= 0) break;
	}
	return out;
}

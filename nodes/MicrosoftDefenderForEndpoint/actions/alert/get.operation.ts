import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { alertLocator, optionsCollection, simplifySingleAlert } from '../../descriptions/common';
import { decorateAlert, simplifyAlert } from '../../helpers/output';
import { alertsApiOf, backendFor } from '../../backend';
import { readAlertId, readCommon } from '../../helpers/params';

const properties: INodeProperties[] = [alertLocator('The alert to retrieve'), ...simplifySingleAlert, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readAlertId(this, i, 'alertId', await alertsApiOf(this, i));
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const alert = decorateAlert(await backend.getAlert(id), backend, common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyAlert(alert) : alert), { itemData: { item: i } });
}

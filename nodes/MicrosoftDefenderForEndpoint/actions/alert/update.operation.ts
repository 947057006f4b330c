import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { alertLocator, optionsCollection, simplifySingleAlert } from '../../descriptions/common';
import { updateFieldsCollection } from '../../descriptions/updateFields';
import { decorateAlert, simplifyAlert } from '../../helpers/output';
import { alertsApiOf, backendFor } from '../../backend';
import { readAlertId, readCommon } from '../../helpers/params';
import { readPatch } from '../../helpers/patch';
import { validateComment } from '../../helpers/validation';

const properties: INodeProperties[] = [alertLocator('The alert to update'), updateFieldsCollection, ...simplifySingleAlert, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['update'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readAlertId(this, i, 'alertId', await alertsApiOf(this, i));
	const patch = readPatch(this.getNode(), i, this.getNodeParameter('updateFields', i, {}) as IDataObject);
	validateComment(this.getNode(), i, patch.comment);
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const alert = decorateAlert(await backend.updateAlert(id, patch), backend, common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyAlert(alert) : alert), { itemData: { item: i } });
}

import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { readCommon } from '../../helpers/params';
import { actionIdProperty, decorateAction, readActionId } from './common';

const properties: INodeProperties[] = [actionIdProperty('The machine action to retrieve (the "id" an Isolate, Scan, … returned)'), optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['machineAction'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const id = readActionId(this, i);
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const action = await backend.getAction(id);
	const json = decorateAction(action, backend, await backend.outputTenantId(), common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { indicatorBackendFor } from '../../backend';
import { submitBody } from '../../backend/indicators';
import { optionsCollection } from '../../descriptions/common';
import { indicatorFields, readIndicator } from '../../descriptions/indicator';
import { agentOptInProperty, assertAgentAllowed } from '../../helpers/agentGuard';
import { INDICATOR_ACTION_LABELS } from '../../helpers/indicators';
import { outputTenantId } from '../../helpers/output';
import { readCommon } from '../../helpers/params';

const properties: INodeProperties[] = [
	...indicatorFields(),
	agentOptInProperty('submit blocking indicators (Block Execution, Block and Remediate, Alert and Block)'),
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['indicator'], operation: ['submit'] } }, properties);

/** Submit or update one indicator per item (upsert by type + value). */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const { input, blocking } = readIndicator(this, i);
	const dryRun = this.getNodeParameter('dryRun', i, false) === true;
	if (blocking && !dryRun) assertAgentAllowed(this, i, `Submitting a blocking indicator (${INDICATOR_ACTION_LABELS[input.action]})`);
	let json: IDataObject;
	if (dryRun) {
		json = { dryRun: true, blocking, request: { method: 'POST', path: '/api/indicators', body: submitBody(input) }, customerTenant: common.customerTenant ?? null, region: common.region };
	} else {
		const backend = await indicatorBackendFor(this, { itemIndex: i, ...common });
		json = (await backend.submit(input)) as unknown as IDataObject;
		json.tenantId = outputTenantId(backend);
	}
	if (common.customerLabel !== undefined) json.customerLabel = common.customerLabel;
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

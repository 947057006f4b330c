import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { withItemIndex } from '../../helpers/errors';
import { readCommon } from '../../helpers/params';
import { describeFailure } from '../../transport/request';
import { actionIdProperty, readActionId } from './common';

const properties: INodeProperties[] = [
	actionIdProperty('The Collect Investigation Package action whose package to download (it must have succeeded)'),
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machineAction'], operation: ['getPackageDownloadLink'] } }, properties);

/**
 * The short-lived download link of an investigation package (Get package SAS URI:
 * https://learn.microsoft.com/en-us/defender-endpoint/api/get-package-sas-uri; 2 calls a minute, 120 an hour,
 * which the pacer keeps). When Defender has no link yet, the action's status says why.
 */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const id = readActionId(this, i);
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	let url: string;
	try {
		url = await backend.packageUri(id);
	} catch (error) {
		if (describeFailure(error).status !== 404) throw withItemIndex(node, error, i);
		const action = await backend.getAction(id);
		if (action.type !== 'CollectInvestigationPackage') {
			throw new NodeOperationError(node, `Action ${id} is a ${String(action.type)} action, not an investigation package collection`, {
				itemIndex: i,
				description: 'Give the ID of a Collect Investigation Package action.',
			});
		}
		throw new NodeOperationError(node, `The investigation package of action ${id} is not ready: the action is ${String(action.status)}`, {
			itemIndex: i,
			description: action.status === 'Pending' || action.status === 'InProgress'
				? 'Run this again when the collection has succeeded, or use Collect Investigation Package with Wait for Completion and Get Download Link When Done.'
				: 'Only a succeeded collection has a package; collect a new one.',
		});
	}
	const tenantId = await backend.outputTenantId();
	const json = { actionId: id, packageDownloadUrl: url, tenantId, dedupKey: `${tenantId}:${id}`, ...(common.customerLabel !== undefined ? { customerLabel: common.customerLabel } : {}) };
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

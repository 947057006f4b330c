import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection, simplifyOn } from '../../descriptions/common';
import { machineLocator } from '../../descriptions/machines';
import { decorateAlertFields, simplifyAlert } from '../../helpers/output';
import { readCommon } from '../../helpers/params';
import { readMachineRef, resolveMachine } from './common';

const properties: INodeProperties[] = [machineLocator('The machine whose alerts to retrieve'), simplifyOn, optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['getAlerts'] } }, properties);

/**
 * One item per alert of the machine (Get machine related alerts:
 * https://learn.microsoft.com/en-us/defender-endpoint/api/get-machine-related-alerts), shaped like the Alert
 * resource's output: the same portalUrl, tenantId and dedupKey, so a ticket keyed on it does not duplicate.
 */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const ref = readMachineRef(this, i);
	const simplify = this.getNodeParameter('simplify', i, true) as boolean;
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const machineId = ref.kind === 'id' ? ref.id : (await resolveMachine(node, i, backend, ref)).id;
	const tenantId = await backend.outputTenantId();
	const alerts = await backend.machineAlerts(machineId);
	const json = alerts.map((alert) => {
		const decorated = decorateAlertFields(alert, { tenantId, portalUrl: backend.alertPortalUrl(alert.id), customerLabel: common.customerLabel });
		return simplify ? simplifyAlert(decorated) : decorated;
	});
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

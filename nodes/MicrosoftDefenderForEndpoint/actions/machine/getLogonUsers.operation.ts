import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { machineLocator } from '../../descriptions/machines';
import { readCommon } from '../../helpers/params';
import { machineKey, readMachineRef, resolveMachine } from './common';

const properties: INodeProperties[] = [machineLocator('The machine whose logged-on users to retrieve'), optionsCollection()];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['getLogonUsers'] } }, properties);

/** One item per user who logged on to the machine (Get machine logon users: https://learn.microsoft.com/en-us/defender-endpoint/api/get-machine-log-on-users). */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const ref = readMachineRef(this, i);
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const machineId = ref.kind === 'id' ? ref.id : (await resolveMachine(node, i, backend, ref)).id;
	const tenantId = await backend.outputTenantId();
	const users = await backend.logonUsers(machineId);
	const json = users.map((user): IDataObject => {
		const out: IDataObject = { ...user, machineId, tenantId, dedupKey: `${machineKey(tenantId, machineId)}:${String(user.id ?? user.accountName ?? '').toLowerCase()}` };
		if (common.customerLabel !== undefined) out.customerLabel = common.customerLabel;
		return out;
	});
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

/** Node-side helpers of the machine-action read operations: the action ID parameter and the output shape. */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { MachineActionRecord, MachineBackend } from '../../backend/machines';
import { validateActionId } from '../../helpers/machines';
import type { CommonParams } from '../../helpers/params';
import { checked } from '../machine/common';

export function actionIdProperty(description: string): INodeProperties {
	return {
		displayName: 'Action ID',
		name: 'actionId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 7c8c7a30-5b8f-4a4c-9c6c-1b2f3e4d5a6b',
		description,
	};
}

export function readActionId(ctx: IExecuteFunctions, i: number): string {
	return checked(ctx.getNode(), i, validateActionId(ctx.getNodeParameter('actionId', i, '')));
}

/** Adds tenantId, dedupKey (`<tenantId>:<actionId>`), the machine's portal link and customerLabel. */
export function decorateAction(action: MachineActionRecord, backend: MachineBackend, tenantId: string, common: Pick<CommonParams, 'customerLabel'>): IDataObject {
	const out = action as unknown as IDataObject;
	out.tenantId = tenantId;
	out.dedupKey = `${tenantId}:${String(action.id).toLowerCase()}`;
	if (typeof action.machineId === 'string' && action.machineId) out.machinePortalUrl = backend.portalUrl(action.machineId);
	if (common.customerLabel !== undefined) out.customerLabel = common.customerLabel;
	return out;
}

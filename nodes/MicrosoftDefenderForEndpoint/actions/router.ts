import { type IExecuteFunctions, type INodeExecutionData, NodeOperationError } from 'n8n-workflow';

import { errorItem, withItemIndex } from '../helpers/errors';
import * as alert from './alert';
import * as hunting from './hunting';
import * as incident from './incident';
import * as indicator from './indicator';
import type { OperationModule, ResourceName } from './interfaces';
import * as machine from './machine';
import * as machineAction from './machineAction';
import * as tenant from './tenant';

const RESOURCES: Record<ResourceName, Record<string, OperationModule>> = {
	alert: alert.operations,
	hunting: hunting.operations,
	incident: incident.operations,
	indicator: indicator.operations,
	machine: machine.operations,
	machineAction: machineAction.operations,
	tenant: tenant.operations,
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const node = this.getNode();
	const resource = this.getNodeParameter('resource', 0) as ResourceName;
	const operation = this.getNodeParameter('operation', 0) as string;
	const module = RESOURCES[resource]?.[operation];
	if (!module) {
		throw new NodeOperationError(node, `The operation "${operation}" is not supported for resource "${resource}"`);
	}
	if (module.executeAll) return [await module.executeAll.call(this, items)];

	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const result = await module.execute!.call(this, i);
			for (const item of result) out.push(item);
		} catch (error) {
			if (this.continueOnFail()) {
				out.push(errorItem(error, i));
				continue;
			}
			throw withItemIndex(node, error, i);
		}
	}
	return [out];
}

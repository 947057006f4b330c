import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { machineLocator, simplifyMachineOff } from '../../descriptions/machines';
import { readCommon } from '../../helpers/params';
import { decorateMachine, readMachineRef, resolveMachine, simplifyMachine } from './common';

const properties: INodeProperties[] = [
	machineLocator('The machine to retrieve. By DNS name: a name that matches more than one machine is an error that lists them.'),
	simplifyMachineOff,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const ref = readMachineRef(this, i);
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const machine = await resolveMachine(this.getNode(), i, backend, ref);
	const json = decorateMachine(machine, backend, await backend.outputTenantId(), common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyMachine(json) : json), { itemData: { item: i } });
}

import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { machineLocator, simplifyMachineOff } from '../../descriptions/machines';
import { validateTag } from '../../helpers/machines';
import { readCommon } from '../../helpers/params';
import { checked, decorateMachine, readMachineRef, resolveMachine, simplifyMachine } from './common';

const properties: INodeProperties[] = [
	machineLocator('The machine to remove the tag from'),
	{
		displayName: 'Tag',
		name: 'tag',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. critical-server',
		description: 'The tag to remove',
	},
	simplifyMachineOff,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['removeTag'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const ref = readMachineRef(this, i);
	const tag = checked(node, i, validateTag(this.getNodeParameter('tag', i, '')));
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const id = ref.kind === 'id' ? ref.id : (await resolveMachine(node, i, backend, ref)).id;
	const machine = await backend.setTag(id, tag, 'Remove');
	const json = decorateMachine(machine, backend, await backend.outputTenantId(), common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyMachine(json) : json), { itemData: { item: i } });
}

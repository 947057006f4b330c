/** Add Tag and Remove Tag: one machine, one tag, one `tags` call; the two operations differ only in the action. */
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { machineLocator, simplifyMachineOff } from '../../descriptions/machines';
import { validateTag } from '../../helpers/machines';
import { readCommon } from '../../helpers/params';
import { checked, decorateMachine, readMachineRef, resolveMachine, simplifyMachine } from './common';

export interface TagOperation {
	description: INodeProperties[];
	execute: (this: IExecuteFunctions, i: number) => Promise<INodeExecutionData[]>;
}

export function tagOperation(action: 'Add' | 'Remove', operation: 'addTag' | 'removeTag', text: { machine: string; tag: string }): TagOperation {
	const properties: INodeProperties[] = [
		machineLocator(text.machine),
		{
			displayName: 'Tag',
			name: 'tag',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. critical-server',
			description: text.tag,
		},
		simplifyMachineOff,
		optionsCollection(),
	];
	return {
		description: updateDisplayOptions({ show: { resource: ['machine'], operation: [operation] } }, properties),
		async execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
			const node = this.getNode();
			const common = readCommon(this, i);
			const ref = readMachineRef(this, i);
			const tag = checked(node, i, validateTag(this.getNodeParameter('tag', i, '')));
			const simplify = this.getNodeParameter('simplify', i, false) as boolean;
			const backend = await machineBackendFor(this, { itemIndex: i, ...common });
			const id = ref.kind === 'id' ? ref.id : (await resolveMachine(node, i, backend, ref)).id;
			const machine = await backend.setTag(id, tag, action);
			const json = decorateMachine(machine, backend, await backend.outputTenantId(), common);
			return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyMachine(json) : json), { itemData: { item: i } });
		},
	};
}

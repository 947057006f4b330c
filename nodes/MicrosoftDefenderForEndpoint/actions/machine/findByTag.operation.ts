import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { simplifyMachineOn } from '../../descriptions/machines';
import { validateTag } from '../../helpers/machines';
import { readCommon } from '../../helpers/params';
import { checked, decorateMachine, simplifyMachine } from './common';

const properties: INodeProperties[] = [
	{
		displayName: 'Tag',
		name: 'tag',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. critical-server',
		description: 'The device tag to look for',
	},
	{
		displayName: 'Starts With',
		name: 'startsWith',
		type: 'boolean',
		default: false,
		description: 'Whether to match every tag that starts with the text (e.g. "pci" finds pci-zone-1 and pci-zone-2) instead of the exact tag',
	},
	simplifyMachineOn,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['findByTag'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const tag = checked(node, i, validateTag(this.getNodeParameter('tag', i, '')));
	const startsWith = this.getNodeParameter('startsWith', i, false) === true;
	const simplify = this.getNodeParameter('simplify', i, true) as boolean;
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const tenantId = await backend.outputTenantId();
	const machines = await backend.findByTag(tag, startsWith);
	const json = machines.map((m) => {
		const decorated = decorateMachine(m, backend, tenantId, common);
		return simplify ? simplifyMachine(decorated) : decorated;
	});
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

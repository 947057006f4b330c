import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { simplifyMachineOn } from '../../descriptions/machines';
import { findByIpTimestamp, validateIp } from '../../helpers/machines';
import { readCommon } from '../../helpers/params';
import { toCanonicalUtc } from '../../helpers/validation';
import { checked, decorateMachine, simplifyMachine } from './common';

const properties: INodeProperties[] = [
	{
		displayName: 'IP Address',
		name: 'ip',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 10.1.2.3',
		description: 'Internal IP address the device had',
	},
	{
		displayName: 'Timestamp',
		name: 'timestamp',
		type: 'dateTime',
		default: '',
		description:
			'When the address was seen; Defender searches 15 minutes before and after it, within the last 30 days. Empty = now. A time without zone is read in the workflow\'s time zone.',
	},
	simplifyMachineOn,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['findByIp'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const ip = checked(node, i, validateIp(this.getNodeParameter('ip', i, '')));
	const canonical = toCanonicalUtc(node, i, 'Timestamp', this.getNodeParameter('timestamp', i, ''), this.getTimezone());
	const ms = canonical ? Date.parse(`${canonical.slice(0, 19)}Z`) : Date.now();
	const timestamp = checked(node, i, findByIpTimestamp(ms, Date.now()));
	const simplify = this.getNodeParameter('simplify', i, true) as boolean;
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const tenantId = await backend.outputTenantId();
	const machines = await backend.findByIp(ip, timestamp);
	const json = machines.map((m) => {
		const decorated = decorateMachine(m, backend, tenantId, common);
		return simplify ? simplifyMachine(decorated) : decorated;
	});
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

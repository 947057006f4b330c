/** Parameters shared by the Machine and Machine Action operations: the machine locator and the simplify switch. */
import type { INodeProperties } from 'n8n-workflow';

import { DNS_NAME_PATTERN, MACHINE_ID_PATTERN } from '../helpers/machines';

/** Machine: From List / By ID / By DNS Name. A DNS name that matches two machines is an error, never a guess. */
export function machineLocator(description = 'The machine (device) to use'): INodeProperties {
	return {
		displayName: 'Machine',
		name: 'machineId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a machine...',
				typeOptions: { searchListMethod: 'searchMachines', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 3f2a6b1c9d8e7f60514a2b3c4d5e6f708192a3b4',
				validation: [{ type: 'regex', properties: { regex: MACHINE_ID_PATTERN, errorMessage: 'Not a Defender device ID (40 hexadecimal characters)' } }],
			},
			{
				displayName: 'By DNS Name',
				name: 'dnsName',
				type: 'string',
				placeholder: 'e.g. ws-0042.contoso.local',
				validation: [{ type: 'regex', properties: { regex: DNS_NAME_PATTERN, errorMessage: 'Not a DNS name' } }],
			},
		],
	};
}

const SIMPLIFY_MACHINE_DESCRIPTION =
	'Whether to return only the key fields (ID, DNS name, OS, health, risk, exposure, first and last seen, IPs, tags, device group, value, portal link, tenant, dedup key) instead of the full machine';

export const simplifyMachineOn: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: true,
	description: SIMPLIFY_MACHINE_DESCRIPTION,
};

export const simplifyMachineOff: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: false,
	description: SIMPLIFY_MACHINE_DESCRIPTION,
};

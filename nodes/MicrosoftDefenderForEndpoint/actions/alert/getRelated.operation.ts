import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { RelatedKind } from '../../backend/types';
import { alertLocator, optionsCollection } from '../../descriptions/common';
import { RELATED_KINDS } from '../../helpers/enums';
import { dedupKey, outputTenantId } from '../../helpers/output';
import { alertsApiOf, backendFor } from '../../backend';
import { readAlertId, readCommon } from '../../helpers/params';
import { inputError, validateEnumList } from '../../helpers/validation';

const properties: INodeProperties[] = [
	alertLocator('The alert whose related entities to retrieve'),
	{
		displayName: 'Entities',
		name: 'entities',
		type: 'multiOptions',
		options: [
			{ name: 'Domains', value: 'domains', description: 'Domains (URLs) seen in the alert; needs URL.Read.All' },
			{ name: 'Files', value: 'files', description: 'Files with hashes, prevalence and signer; needs File.Read.All' },
			{ name: 'IPs', value: 'ips', description: 'IP addresses seen in the alert; needs Ip.Read.All' },
			{ name: 'Machine', value: 'machine', description: 'The device the alert fired on; needs Machine.Read.All' },
			{ name: 'User', value: 'user', description: 'The user account of the alert; needs User.Read.All' },
		],
		default: ['domains', 'files', 'ips', 'machine', 'user'],
		description: 'Which related entities to fetch; each needs its own WindowsDefenderATP permission',
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['getRelated'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const id = readAlertId(this, i, 'alertId', await alertsApiOf(this, i));
	const kinds = validateEnumList(node, i, 'Entities', this.getNodeParameter('entities', i, []), RELATED_KINDS) as RelatedKind[];
	if (kinds.length === 0) throw inputError(node, i, 'Entities is empty', 'Choose at least one of Domains, Files, IPs, Machine, User.');
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const json: IDataObject = { alertId: id };
	for (const kind of RELATED_KINDS) {
		if (!kinds.includes(kind)) continue;
		const value = await backend.getRelated(id, kind);
		json[kind] = (kind === 'machine' || kind === 'user' ? (value ?? null) : Array.isArray(value) ? value : []) as IDataObject;
	}
	const machine = json.machine as { aadTenantId?: unknown } | null | undefined;
	const tenantId = outputTenantId(backend, machine ?? undefined);
	json.portalUrl = backend.portalUrl(id);
	json.tenantId = tenantId;
	json.dedupKey = dedupKey(tenantId, id);
	if (common.customerLabel !== undefined) json.customerLabel = common.customerLabel;
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}

import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection, returnAllAndLimit } from '../../descriptions/common';
import { simplifyMachineOn } from '../../descriptions/machines';
import { buildMachineFilter, EXPOSURE_LEVELS, HEALTH_STATUSES, OS_PLATFORMS, RISK_SCORES, validateTag } from '../../helpers/machines';
import { readCommon, readLimit } from '../../helpers/params';
import { inputError, toCanonicalUtc, validateEnumList, validateWordList } from '../../helpers/validation';
import { checked, decorateMachine, simplifyMachine } from './common';

const humanize = (value: string): string => value.replace(/([a-z])([A-Z])/g, '$1 $2');

const properties: INodeProperties[] = [
	...returnAllAndLimit,
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'DNS Name Starts With',
				name: 'dnsNameStartsWith',
				type: 'string',
				default: '',
				placeholder: 'e.g. srv-',
				description: 'Only machines whose computer DNS name starts with this text',
			},
			{
				displayName: 'Exposure Level',
				name: 'exposureLevel',
				type: 'multiOptions',
				options: EXPOSURE_LEVELS.map((v) => ({ name: v, value: v })),
				default: [],
				description: 'Only machines with one of these exposure levels',
			},
			{
				displayName: 'Health Status',
				name: 'healthStatus',
				type: 'multiOptions',
				options: [...HEALTH_STATUSES].sort().map((v) => ({ name: humanize(v), value: v })),
				default: [],
				description: 'Only machines with one of these health states',
			},
			{
				displayName: 'Last Seen After',
				name: 'lastSeenAfter',
				type: 'dateTime',
				default: '',
				description: 'Only machines seen after this time (a time without zone is read in the workflow\'s time zone)',
			},
			{
				displayName: 'OS Platform',
				name: 'osPlatform',
				type: 'multiOptions',
				options: [...OS_PLATFORMS].sort((a, b) => a.localeCompare(b)).map((v) => ({ name: v, value: v })),
				default: [],
				description: 'Only machines on one of these platforms. An expression may name others (e.g. WindowsServer2025).',
			},
			{
				displayName: 'Risk Score',
				name: 'riskScore',
				type: 'multiOptions',
				options: RISK_SCORES.map((v) => ({ name: v, value: v })),
				default: [],
				description: 'Only machines with one of these risk scores',
			},
			{
				displayName: 'Tag',
				name: 'tag',
				type: 'string',
				default: '',
				placeholder: 'e.g. critical-server',
				description: 'Only machines that carry this tag (exact match)',
			},
		],
	},
	simplifyMachineOn,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machine'], operation: ['getAll'] } }, properties);

export function readMachineListSettings(ctx: IExecuteFunctions, i: number) {
	const node = ctx.getNode();
	const limit = readLimit(ctx, i);
	const f = ctx.getNodeParameter('filters', i, {}) as IDataObject;
	const prefix = typeof f.dnsNameStartsWith === 'string' ? f.dnsNameStartsWith.trim().toLowerCase() : '';
	if (prefix && !/^[a-z0-9_.-]+$/.test(prefix)) {
		throw inputError(node, i, `DNS Name Starts With "${prefix.slice(0, 60)}" is not the start of a DNS name`, 'Use letters, digits, hyphens and dots, e.g. srv- or ws-00.');
	}
	const tag = typeof f.tag === 'string' && f.tag.trim() ? checked(node, i, validateTag(f.tag, 'Tag')) : undefined;
	const filter = buildMachineFilter({
		healthStatus: validateEnumList(node, i, 'Health Status', f.healthStatus, HEALTH_STATUSES),
		riskScore: validateEnumList(node, i, 'Risk Score', f.riskScore, RISK_SCORES),
		exposureLevel: validateEnumList(node, i, 'Exposure Level', f.exposureLevel, EXPOSURE_LEVELS),
		osPlatform: validateWordList(node, i, 'OS Platform', f.osPlatform, OS_PLATFORMS),
		tag,
		lastSeenAfter: toCanonicalUtc(node, i, 'Last Seen After', f.lastSeenAfter, ctx.getTimezone()),
		dnsNameStartsWith: prefix || undefined,
	});
	return { limit, filter, simplify: ctx.getNodeParameter('simplify', i, true) as boolean };
}

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const settings = readMachineListSettings(this, i);
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const tenantId = await backend.outputTenantId();
	const out: INodeExecutionData[] = [];
	const seen = new Set<string>();
	let remaining = settings.limit;
	let skip = 0;
	// $top/$skip paging, as for alerts: the machines API's nextLink is not reliable (List machines).
	while (remaining > 0) {
		const top = Math.min(remaining, backend.maxPageSize);
		const page = await backend.listMachines({ filter: settings.filter, top, skip });
		const received = page.length;
		const pageJson: IDataObject[] = [];
		for (const machine of page) {
			if (remaining <= 0) break;
			if (seen.has(machine.id)) continue;
			seen.add(machine.id);
			const json = decorateMachine(machine, backend, tenantId, common);
			pageJson.push(settings.simplify ? simplifyMachine(json) : json);
			remaining -= 1;
		}
		for (const item of this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(pageJson), { itemData: { item: i } })) out.push(item);
		if (received < top) break;
		skip += received;
	}
	return out;
}

/** Node-side helpers of the Machine resource: reading the machine parameter, resolving it, shaping the output. */
import type { IDataObject, IExecuteFunctions, INode } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { MachineBackend, MachineRecord } from '../../backend/machines';
import { type Check, dnsLookupFilter, machineRefFrom, type MachineRef, resolveDnsMatches } from '../../helpers/machines';
import type { CommonParams } from '../../helpers/params';
import { inputError } from '../../helpers/validation';

/** The value of a pure check, or a NodeOperationError for item i (before any request). */
export function checked<T>(node: INode, i: number, check: Check<T>): T {
	if (check.ok) return check.value;
	throw inputError(node, i, check.message, check.hint);
}

/** The machine locator (list / id / dnsName mode) of item i, validated. */
export function readMachineRef(ctx: IExecuteFunctions, i: number, name = 'machineId'): MachineRef {
	const raw = ctx.getNodeParameter(name, i, '') as unknown;
	let mode = 'id';
	let value: unknown = raw;
	if (raw && typeof raw === 'object' && 'value' in (raw as object)) {
		mode = String((raw as { mode?: unknown }).mode ?? 'id');
		value = (raw as { value?: unknown }).value;
	}
	return checked(ctx.getNode(), i, machineRefFrom(mode, value));
}

/** Candidates for a DNS name: one list call (`startswith(computerDnsName,'name')`), matched exactly here. */
export async function lookupDnsName(backend: MachineBackend, name: string): Promise<MachineRecord[]> {
	return await backend.listMachines({ filter: dnsLookupFilter(name), top: 100 });
}

/** The machine a reference means: by ID (one GET), by DNS name (one list call; two matches are an error). */
export async function resolveMachine(node: INode, i: number, backend: MachineBackend, ref: MachineRef): Promise<MachineRecord> {
	if (ref.kind === 'id') return await backend.getMachine(ref.id);
	const found = resolveDnsMatches(ref.name, backend.tenantId, await lookupDnsName(backend, ref.name));
	if (!found.ok) throw new NodeOperationError(node, found.message, { itemIndex: i, description: found.hint });
	return found.value;
}

export function machineKey(tenantId: string, machineId: string): string {
	return `${tenantId}:${machineId.toLowerCase()}`;
}

/** Adds portalUrl, tenantId, dedupKey (`<tenantId>:<machineId>`) and customerLabel to the machine itself. */
export function decorateMachine(machine: MachineRecord, backend: MachineBackend, tenantId: string, common: Pick<CommonParams, 'customerLabel'>): IDataObject {
	const out = machine as unknown as IDataObject;
	out.portalUrl = backend.portalUrl(machine.id);
	out.tenantId = tenantId;
	out.dedupKey = machineKey(tenantId, machine.id);
	if (common.customerLabel !== undefined) out.customerLabel = common.customerLabel;
	return out;
}

export const SIMPLE_MACHINE_FIELDS = [
	'id',
	'computerDnsName',
	'osPlatform',
	'osVersion',
	'healthStatus',
	'onboardingStatus',
	'riskScore',
	'exposureLevel',
	'deviceValue',
	'firstSeen',
	'lastSeen',
	'lastIpAddress',
	'lastExternalIpAddress',
	'machineTags',
	'rbacGroupName',
	'isAadJoined',
	'portalUrl',
	'tenantId',
	'dedupKey',
] as const;

export function simplifyMachine(machine: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const key of SIMPLE_MACHINE_FIELDS) out[key] = machine[key] === undefined ? null : machine[key];
	if (machine.customerLabel !== undefined) out.customerLabel = machine.customerLabel;
	return out;
}

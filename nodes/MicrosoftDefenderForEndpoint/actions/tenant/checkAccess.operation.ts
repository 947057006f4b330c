import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { backendFor } from '../../backend';
import type { AlertBackend, TokenInfo } from '../../backend/types';
import { optionsCollection } from '../../descriptions/common';
import { allowedBy } from '../../helpers/permissions';
import { readCommon } from '../../helpers/params';
import { inputError, toStringList, validateCustomerTenant } from '../../helpers/validation';
import { failureFacts } from '../../transport/request';

const properties: INodeProperties[] = [
	{
		displayName: 'Tenants',
		name: 'tenants',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		placeholder: 'e.g. fabrikam.onmicrosoft.com, 11111111-2222-3333-4444-555555555555',
		description:
			'Tenants to check (GUIDs or verified domains): a comma or newline separated list, or an expression returning an array. Empty = the Customer Tenant, or the credential\'s tenant. One output item per tenant.',
	},
	optionsCollection([
		{
			displayName: 'Probe API',
			name: 'probeApi',
			type: 'boolean',
			default: true,
			description: 'Whether to make one cheap alert request (1 alert) per tenant to prove that the Defender API answers, besides checking the token',
		},
	]),
];

export const description = updateDisplayOptions({ show: { resource: ['tenant'], operation: ['checkAccess'] } }, properties);

function tokenNextStep(kind: string | undefined, tenant: string, hint: string | undefined): string {
	switch (kind) {
		case 'notConsented':
		case 'unknownApp':
			return `An administrator of tenant ${tenant} has not consented to the app yet: send them the link from Tenant → Get Consent Link, then run Check Access again.`;
		case 'unknownTenant':
			return `Tenant ${tenant} does not exist in this cloud: check the GUID or domain, and the credential's Cloud.`;
		case 'invalidSecret':
		case 'expiredSecret':
			return `The credential itself is not accepted: ${hint ?? 'fix the client secret'}`;
		case 'unreachable':
			return `The sign-in service could not be reached from n8n: ${hint ?? 'check the network or proxy'}`;
		default:
			return hint ?? 'Check the credential and try again.';
	}
}

async function checkTenant(backend: AlertBackend, tenant: string, probe: boolean, region: string): Promise<IDataObject> {
	const result: IDataObject = { tenant, tenantId: backend.tenantId, region, tokenAcquired: false, roles: [] };
	let info: TokenInfo;
	try {
		info = await backend.tokenInfo();
	} catch (error) {
		const failure = failureFacts(error);
		result.tokenError = failure.message;
		if (failure.tokenErrorKind) result.tokenErrorKind = failure.tokenErrorKind;
		result.allowedOperations = [];
		result.apiAccess = 'notChecked';
		result.ready = false;
		result.nextStep = tokenNextStep(failure.tokenErrorKind, tenant, failure.description);
		return result;
	}
	result.tokenAcquired = true;
	if (info.tenantId) result.tenantId = info.tenantId;
	result.roles = info.roles;
	if (info.expiresAt) result.tokenExpiresAt = info.expiresAt;
	const { allowed, blocked } = allowedBy(info.roles);
	result.allowedOperations = allowed.map((n) => n.label);
	result.blockedOperations = blocked.map((n) => ({ operation: n.label, needs: n.anyOf.join(' or ') }));
	const canRead = allowed.some((n) => n.operation === 'alert.getAll');
	const canWrite = allowed.some((n) => n.operation === 'alert.update');

	if (probe && canRead) {
		try {
			await backend.listAlerts({ top: 1 });
			result.apiAccess = 'ok';
		} catch (error) {
			const failure = failureFacts(error);
			result.apiAccess = 'failed';
			result.apiError = failure.message;
			if (failure.httpCode !== undefined) result.apiHttpCode = String(failure.httpCode);
			result.ready = false;
			result.nextStep = failure.description ?? 'Check the region and the tenant\'s Defender subscription.';
			return result;
		}
	} else {
		result.apiAccess = canRead ? 'notChecked' : 'notAllowed';
	}

	const tenantText = (result.tenantId as string) || tenant;
	if (!canRead) {
		result.ready = false;
		result.nextStep =
			info.roles.length === 0
				? `The app signs in to tenant ${tenantText} but holds no WindowsDefenderATP application permissions there: add Alert.ReadWrite.All (or Alert.Read.All) to the app registration and have an administrator of ${tenantText} grant consent again (Tenant → Get Consent Link).`
				: `The app cannot read alerts in tenant ${tenantText}: add Alert.Read.All or Alert.ReadWrite.All and have an administrator of ${tenantText} grant consent again (Tenant → Get Consent Link).`;
	} else if (!canWrite) {
		result.ready = true;
		result.nextStep = `Read-only access in tenant ${tenantText}: Get, Get Many and the trigger work. To update, comment on or create alerts add Alert.ReadWrite.All and have an administrator grant consent again.`;
	} else {
		result.ready = true;
		const optional = blocked.filter((n) => n.optional).map((n) => n.anyOf[0]);
		result.nextStep = optional.length
			? `Ready: every alert operation works in tenant ${tenantText}. Get Related also needs ${optional.join(', ')} for the remaining entity types (optional).`
			: `Ready: every operation works in tenant ${tenantText}.`;
	}
	return result;
}

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const options = this.getNodeParameter('options', i, {}) as IDataObject;
	const probe = options.probeApi !== false;
	const raw = this.getNodeParameter('tenants', i, '') as unknown;
	const listed = toStringList(Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.replace(/[;\s]+/g, ',') : raw);
	// Every entry is checked before any request: a typo is an input mistake, not an access result.
	const tenants: Array<string | undefined> = listed.length
		? [...new Set(listed.map((t) => validateCustomerTenant(node, i, t)))]
		: [common.customerTenant];
	if (tenants.length > 500) throw inputError(node, i, `Tenants lists ${tenants.length} tenants; at most 500 per item`, 'Split the list over several items.');
	const out: IDataObject[] = [];
	for (const tenant of tenants) {
		const backend = await backendFor(this, { ...common, itemIndex: i, customerTenant: tenant });
		const json = await checkTenant(backend, tenant ?? backend.tenantId, probe, common.region);
		if (common.customerLabel !== undefined) json.customerLabel = common.customerLabel;
		out.push(json);
	}
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(out), { itemData: { item: i } });
}

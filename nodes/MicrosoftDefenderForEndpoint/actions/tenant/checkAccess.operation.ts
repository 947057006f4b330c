import type { ICredentialDataDecryptedObject, IDataObject, IExecuteFunctions, INode, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { backendFor } from '../../backend';
import type { AlertBackend, TokenInfo } from '../../backend/types';
import { API_LABELS, type ApiName } from '../../core/clouds';
import { apiScope, CREDENTIAL_TYPE, CredentialInputError, readCredential, registerCredentialSecrets, safeToEcho, validateTenantId } from '../../core/credentials';
import { redact } from '../../core/redact';
import { optionsCollection } from '../../descriptions/common';
import { allowedBy } from '../../helpers/permissions';
import { readCommon } from '../../helpers/params';
import { inputError, toStringList } from '../../helpers/validation';
import { failureFacts } from '../../transport/request';
import { accessSummary, otherApiRow, wrongAudienceOf } from './apiAccess';

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
		case 'certificateNotRegistered':
		case 'invalidCertificate':
		case 'clockSkew':
			return `The credential itself is not accepted: ${hint ?? 'fix the client secret or certificate'}`;
		case 'unreachable':
			return `The sign-in service could not be reached from n8n: ${hint ?? 'check the network or proxy'}`;
		default:
			return hint ?? 'Check the credential and try again.';
	}
}

async function checkTenant(backend: AlertBackend, tenant: string, probe: boolean, region: string, scope: { scope: string; custom: boolean } | undefined): Promise<IDataObject> {
	const result: IDataObject = { tenant, tenantId: backend.tenantId, region, tokenAcquired: false, roles: [] };
	let info: TokenInfo;
	try {
		info = await backend.tokenInfo();
	} catch (error) {
		const failure = failureFacts(error);
		result.tokenError = failure.message;
		if (failure.tokenErrorKind) result.tokenErrorKind = failure.tokenErrorKind;
		if (failure.httpCode !== undefined) result.tokenHttpCode = String(failure.httpCode);
		if (failure.networkError) result.networkError = failure.networkError;
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
	// A token for another API carries that API's roles: say so instead of listing permissions it "lacks".
	const api: ApiName = backend.name === 'graph' ? 'graph' : 'defender';
	const wrong = wrongAudienceOf(info.audience, scope?.scope ?? 'https://api.securitycenter.microsoft.com/.default', scope?.custom ?? false, api);
	if (wrong) {
		result.tokenAudience = wrong.audience;
		result.allowedOperations = [];
		result.apiAccess = 'notChecked';
		result.ready = false;
		result.nextStep = wrong.advice;
		return result;
	}
	const { allowed, blocked } = allowedBy(info.roles, api);
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
			if (failure.networkError) result.networkError = failure.networkError;
			if (failure.wrongAudience) result.tokenAudience = failure.wrongAudience;
			result.ready = false;
			result.nextStep = failure.description ?? 'Check the region and the tenant\'s Defender subscription.';
			return result;
		}
	} else {
		result.apiAccess = canRead ? 'notChecked' : 'notAllowed';
	}

	const tenantText = (result.tenantId as string) || tenant;
	if (api === 'graph') {
		const summary = accessSummary('graph', info.roles, tenantText, true);
		result.ready = summary.ready;
		result.nextStep = summary.nextStep;
	} else if (!canRead) {
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
		const optional = [...new Set(blocked.filter((n) => n.optional).map((n) => n.anyOf[0]))];
		result.nextStep = optional.length
			? `Ready: every alert operation works in tenant ${tenantText}. Optional operations need more permissions (see blockedOperations): ${optional.join(', ')}.`
			: `Ready: every operation works in tenant ${tenantText}.`;
	}
	return result;
}

interface Entry {
	/** how the row names the entry (the entry itself unless it may be secret) */
	tenant: string;
	/** validated tenant (undefined: the credential's tenant) */
	tenantId?: string;
	/** the entry is not a tenant */
	invalid?: CredentialInputError;
}

/** One entry per listed tenant, validated on its own: an invalid entry becomes its own row, the others still run. */
function readEntries(node: INode, itemIndex: number, listed: string[]): Entry[] {
	const entries: Entry[] = [];
	const seen = new Set<string>();
	listed.forEach((raw, k) => {
		const tenant = safeToEcho(raw) ? raw : `(entry ${k + 1})`;
		try {
			const tenantId = validateTenantId(raw, `Tenants entry ${k + 1}`);
			if (seen.has(tenantId)) return;
			seen.add(tenantId);
			entries.push({ tenant, tenantId });
		} catch (error) {
			if (!(error instanceof CredentialInputError)) throw new NodeOperationError(node, error as Error, { itemIndex });
			entries.push({ tenant, invalid: error });
		}
	});
	return entries;
}

function failedRow(entry: Entry, region: string, message: string, nextStep: string, extra: IDataObject = {}): IDataObject {
	return {
		tenant: entry.tenant,
		tenantId: entry.tenantId ?? null,
		region,
		tokenAcquired: false,
		roles: [],
		allowedOperations: [],
		apiAccess: 'notChecked',
		ready: false,
		...extra,
		error: redact(message),
		nextStep: redact(nextStep),
	};
}

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const options = this.getNodeParameter('options', i, {}) as IDataObject;
	const probe = options.probeApi !== false;
	// The credential's secrets are masked in every row before any entry is named (a secret pasted into Tenants).
	let scope: { scope: string; custom: boolean } | undefined;
	let alertsApi: ApiName = 'defender';
	let graphConfigured = false;
	const getCredentials = this.getCredentials as (type: string, itemIndex?: number) => Promise<ICredentialDataDecryptedObject>;
	const data = await getCredentials.call(this, CREDENTIAL_TYPE, i);
	registerCredentialSecrets(data);
	try {
		const parsed = readCredential(data);
		alertsApi = parsed.alertsApi;
		graphConfigured = parsed.endpoints.graphScope !== undefined;
		scope = { scope: apiScope(parsed, parsed.alertsApi), custom: parsed.endpoints.cloud === 'custom' };
	} catch (error) {
		// reported per tenant row below, by backendFor (the one place that turns it into the node's message)
		if (!(error instanceof CredentialInputError)) throw new NodeOperationError(node, error as Error, { itemIndex: i });
	}
	const raw = this.getNodeParameter('tenants', i, '') as unknown;
	const listed = toStringList(Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.replace(/[;\s]+/g, ',') : raw);
	const entries: Entry[] = listed.length ? readEntries(node, i, listed) : [{ tenant: common.customerTenant ?? '', tenantId: common.customerTenant }];
	if (entries.length > 500) throw inputError(node, i, `Tenants lists ${entries.length} tenants; at most 500 per item`, 'Split the list over several items.');
	const out: IDataObject[] = [];
	for (const entry of entries) {
		let json: IDataObject;
		if (entry.invalid) {
			json = failedRow(entry, common.region, entry.invalid.message, entry.invalid.hint, { inputError: true });
		} else {
			let backend: AlertBackend | undefined;
			try {
				backend = await backendFor(this, { ...common, itemIndex: i, customerTenant: entry.tenantId });
			} catch (error) {
				const failure = failureFacts(error);
				json = failedRow(entry, common.region, failure.message, failure.description ?? 'Fix the credential and run Check Access again.', { credentialError: true });
			}
			if (backend) {
				json = await checkTenant(backend, entry.tenant || backend.tenantId, probe, common.region, scope);
				// Per API: the Alerts API's result, and the other API by its token (Graph consent before switching;
				// the Defender API for machines and indicators after switching).
				const other: ApiName = alertsApi === 'graph' ? 'defender' : 'graph';
				json.alertsApi = alertsApi;
				json.apis = [
					{
						api: alertsApi,
						label: API_LABELS[alertsApi],
						selected: true,
						tokenAcquired: json.tokenAcquired,
						...(json.tokenAudience ? { tokenAudience: json.tokenAudience } : {}),
						roles: json.roles,
						allowedOperations: json.allowedOperations ?? [],
						blockedOperations: json.blockedOperations ?? [],
						ready: json.ready,
						nextStep: json.nextStep,
					},
					await otherApiRow(this, i, common, entry.tenantId, other, graphConfigured),
				];
			}
		}
		if (common.customerLabel !== undefined) json!.customerLabel = common.customerLabel;
		out.push(json!);
	}
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(out), { itemData: { item: i } });
}

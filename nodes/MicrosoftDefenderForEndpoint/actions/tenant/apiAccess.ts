/**
 * Check Access, per API: what the token of each API (Defender for Endpoint, Microsoft Graph) carries in one tenant
 * and which operations its permissions unlock. The row of the credential's Alerts API repeats the main result; the
 * other API is checked by its token alone (no API request), so an MSSP sees per customer whether the Graph
 * permissions are consented before switching the credential's Alerts API.
 */
import type { IDataObject } from 'n8n-workflow';

import { tokenInfoFor } from '../../backend';
import { API_LABELS, type ApiName } from '../../core/clouds';
import { wrongAudienceAdviceForScope, wrongAudienceForApi } from '../../core/audience';
import { allowedBy } from '../../helpers/permissions';
import type { CommonParams } from '../../helpers/params';
import { failureFacts, type DefenderContext } from '../../transport/request';

export const API_PERMISSION_NAMES: Record<ApiName, { read: string; write: string; where: string }> = {
	defender: { read: 'Alert.Read.All', write: 'Alert.ReadWrite.All', where: 'APIs my organization uses → WindowsDefenderATP' },
	graph: { read: 'SecurityAlert.Read.All', write: 'SecurityAlert.ReadWrite.All', where: 'Microsoft Graph' },
};

/** What a token with these roles allows on `api`, with a next step in words. */
export function accessSummary(api: ApiName, roles: string[], tenant: string, selected: boolean): IDataObject {
	const { allowed, blocked } = allowedBy(roles, api);
	const canRead = allowed.some((n) => n.operation === 'alert.getAll');
	const canWrite = allowed.some((n) => n.operation === 'alert.update');
	const names = API_PERMISSION_NAMES[api];
	const consent = `add it under API permissions → ${names.where} → Application permissions and have an administrator of ${tenant} consent again (Tenant → Get Consent Link)`;
	let nextStep: string;
	if (!canRead) {
		nextStep =
			api === 'graph'
				? `Microsoft Graph alerts are not readable in tenant ${tenant}: the Graph token carries ${roles.length ? roles.join(', ') : 'no Microsoft Graph application permissions'}. Before switching the credential's Alerts API, ${consent.replace('add it', `add ${names.write} (or ${names.read})`)}.`
				: `The Defender for Endpoint API's alerts are not readable in tenant ${tenant}: ${consent.replace('add it', `add ${names.write} (or ${names.read})`)}.`;
	} else if (!canWrite) {
		nextStep = `Read-only on the ${API_LABELS[api]} in tenant ${tenant}: to update or comment on alerts add ${names.write} and have an administrator consent again.`;
	} else {
		nextStep = `The ${API_LABELS[api]} is ready in tenant ${tenant}${selected ? '' : api === 'graph' ? ': the credential\'s Alerts API can be switched to Microsoft Graph Security API' : ' (machines and indicators use it)'}.`;
	}
	if (api === 'graph') {
		// Graph-only resources: say what each still needs, so one consent round covers them too
		const needs = (operation: string) => blocked.find((n) => n.operation === operation);
		const missing = [needs('incident.getAll') ? `incidents need ${needs('incident.getAll')!.anyOf.join(' or ')}` : undefined, needs('hunting.runQuery') ? `advanced hunting needs ${needs('hunting.runQuery')!.anyOf.join(' or ')}` : undefined].filter(
			(m): m is string => m !== undefined,
		);
		if (missing.length) nextStep += ` On Microsoft Graph, ${missing.join('; ')} (the same consent round adds them).`;
	}
	return {
		allowedOperations: allowed.map((n) => n.label),
		blockedOperations: blocked.map((n) => ({ operation: n.label, needs: n.anyOf.join(' or ') })),
		ready: canRead,
		nextStep,
	};
}

/** The row of the API that is not the credential's Alerts API: its token only (cached sign-in, no API request). */
export async function otherApiRow(ctx: DefenderContext, itemIndex: number, common: CommonParams, customerTenant: string | undefined, api: ApiName, graphConfigured: boolean): Promise<IDataObject> {
	const row: IDataObject = { api, label: API_LABELS[api], selected: false };
	if (api === 'graph' && !graphConfigured) {
		return {
			...row,
			configured: false,
			tokenAcquired: false,
			roles: [],
			ready: false,
			nextStep: 'The custom cloud has no Microsoft Graph host: enter the credential\'s Graph Base URL (and Graph Token Scope) to check Microsoft Graph access.',
		};
	}
	try {
		const info = await tokenInfoFor(ctx, { ...common, itemIndex, customerTenant }, api);
		const tenant = info.tenantId ?? customerTenant ?? '';
		row.tokenAcquired = true;
		row.tokenAudience = info.audience ?? null;
		row.roles = info.roles;
		return { ...row, ...accessSummary(api, info.roles, tenant, false) };
	} catch (error) {
		const failure = failureFacts(error);
		return {
			...row,
			tokenAcquired: false,
			roles: [],
			ready: false,
			tokenError: failure.message,
			...(failure.tokenErrorKind ? { tokenErrorKind: failure.tokenErrorKind } : {}),
			nextStep: failure.description ?? 'Check the credential and run Check Access again.',
		};
	}
}

/** A token for the wrong API (its audience), with the advice for the API it should be for. */
export function wrongAudienceOf(audience: string | undefined, scope: string, custom: boolean, api: ApiName): { audience: string; advice: string } | undefined {
	const wrong = wrongAudienceForApi(audience, scope, api);
	return wrong ? { audience: wrong.audience, advice: wrongAudienceAdviceForScope(wrong, scope, custom, api) } : undefined;
}

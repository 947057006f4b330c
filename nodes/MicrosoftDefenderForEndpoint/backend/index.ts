/**
 * How every node path gets its backend: the action node's operations, Check Access, the list searches and the
 * trigger all call `backendFor`. It validates the region and the customer tenant (the one place that does), then
 * picks the backend for the credential's Alerts API: the Defender for Endpoint API (`mde`, the default) or Microsoft
 * Graph security alerts_v2 (`graph`), so no operation changes. Resources that exist on one API only (machines,
 * indicators: Defender) get their own factory here, built on `validatedTarget` like `backendFor`; they use the
 * Defender API with the same app identity whatever the Alerts API.
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { ApiName } from '../core/clouds';
import { CREDENTIAL_TYPE } from '../core/credentials';
import { decodeTokenClaims } from '../core/jwt';
import { type DefenderContext, openSession, sessionToken } from '../transport/request';
import { validateCustomerTenant, validateRegion } from '../helpers/validation';
import { graphBackend } from './graph';
import { type BackendOptions, mdeBackend } from './mde';
import type { AlertBackend, TokenInfo } from './types';
import { type IndicatorBackend, mdeIndicatorBackend } from './indicators';
import { type MachineBackend, mdeMachineBackend } from './machines';

export interface BackendTarget {
	/** the item the call is for (error messages and n8n's per-item credentials); none for polls and list searches */
	itemIndex?: number;
	/** customer tenant as the user gave it (GUID or verified domain); empty: the credential's tenant */
	customerTenant?: unknown;
	/** Defender region (Commercial cloud); empty: global */
	region?: unknown;
	/** longest total wait for throttling before a call fails */
	maxThrottleWaitMs?: number;
}

/** The validated target every backend factory starts from (region and tenant checked here, and only here). */
export function validatedTarget(ctx: DefenderContext, target: BackendTarget): BackendOptions {
	const node = ctx.getNode();
	const region = validateRegion(node, target.itemIndex, target.region);
	const tenantId = validateCustomerTenant(node, target.itemIndex, target.customerTenant);
	return { itemIndex: target.itemIndex, tenantId, region, maxThrottleWaitMs: target.maxThrottleWaitMs };
}

/**
 * The credential's Alerts API, read without a request ('defender' when the field is absent, as for credentials saved
 * before it existed; an unreadable credential also gives 'defender' here and fails with its own message in backendFor).
 */
export async function alertsApiOf(ctx: DefenderContext, itemIndex?: number): Promise<ApiName> {
	try {
		const getCredentials = ctx.getCredentials as (type: string, itemIndex?: number) => Promise<ICredentialDataDecryptedObject>;
		const data = await getCredentials.call(ctx, CREDENTIAL_TYPE, itemIndex ?? 0);
		return data?.alertsApi === 'graph' ? 'graph' : 'defender';
	} catch {
		return 'defender';
	}
}

/** The alert backend for the credential's Alerts API (Defender for Endpoint API or Microsoft Graph Security API). */
export async function backendFor(ctx: DefenderContext, target: BackendTarget): Promise<AlertBackend> {
	const options = validatedTarget(ctx, target);
	// The Graph backend shows its notices (a Region it ignores, …) as execution hints itself (backend/hints.ts).
	if ((await alertsApiOf(ctx, target.itemIndex)) === 'graph') return await graphBackend(ctx, options);
	return await mdeBackend(ctx, options);
}

/**
 * The token of one API for one tenant and what it says (roles, tenant GUID, audience), whatever the credential's
 * Alerts API: Check Access reports both APIs. No API request is made (only the sign-in, cached).
 */
export async function tokenInfoFor(ctx: DefenderContext, target: BackendTarget, api: ApiName): Promise<TokenInfo> {
	const options = validatedTarget(ctx, target);
	const session = await openSession(ctx, { ...options, region: api === 'graph' ? undefined : options.region, api });
	const claims = decodeTokenClaims(await sessionToken(ctx, session, options.itemIndex));
	return {
		roles: claims.roles ?? [],
		tenantId: claims.tid,
		appId: claims.appid,
		expiresAt: claims.exp ? new Date(claims.exp * 1000).toISOString() : undefined,
		audience: claims.aud,
	};
}

/** The indicator backend (custom indicators exist on the Defender for Endpoint API only). */
export async function indicatorBackendFor(ctx: DefenderContext, target: BackendTarget): Promise<IndicatorBackend> {
	return await mdeIndicatorBackend(ctx, validatedTarget(ctx, target));
}

/** The machine and machine-action backend (device response actions exist on the Defender for Endpoint API only). */
export async function machineBackendFor(ctx: DefenderContext, target: BackendTarget): Promise<MachineBackend> {
	return await mdeMachineBackend(ctx, validatedTarget(ctx, target));
}

/**
 * How every node path gets its backend: the action node's operations, Check Access, the list searches and the
 * trigger all call `backendFor`. It validates the region and the customer tenant (the one place that does), then
 * picks the backend for the credential. Today that is always the Defender for Endpoint API (`mde`); the Graph
 * security backend plugs in here, chosen by the credential, so no operation changes. Resources that exist on one
 * API only (machines, indicators) get their own factory here, built on `validatedTarget` like `backendFor`.
 */
import type { DefenderContext } from '../transport/request';
import { validateCustomerTenant, validateRegion } from '../helpers/validation';
import { type BackendOptions, mdeBackend } from './mde';
import type { AlertBackend } from './types';

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

/** The alert backend for the credential (today: the Defender for Endpoint API). */
export async function backendFor(ctx: DefenderContext, target: BackendTarget): Promise<AlertBackend> {
	return await mdeBackend(ctx, validatedTarget(ctx, target));
}

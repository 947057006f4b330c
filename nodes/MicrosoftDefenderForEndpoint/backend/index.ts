/**
 * How every node path gets its backend: the action node's operations, Check Access, the list searches and the
 * trigger all call `backendFor`. It validates the region and the customer tenant (the one place that does), then
 * picks the backend for the credential. Today that is always the Defender for Endpoint API (`mde`); the Graph
 * security backend plugs in here, chosen by the credential, so no operation changes.
 */
import type { DefenderContext } from '../transport/request';
import { validateCustomerTenant, validateRegion } from '../helpers/validation';
import { mdeBackend } from './mde';
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

export async function backendFor(ctx: DefenderContext, target: BackendTarget): Promise<AlertBackend> {
	const node = ctx.getNode();
	const region = validateRegion(node, target.itemIndex, target.region);
	const tenantId = validateCustomerTenant(node, target.itemIndex, target.customerTenant);
	return await mdeBackend(ctx, { itemIndex: target.itemIndex, tenantId, region, maxThrottleWaitMs: target.maxThrottleWaitMs });
}

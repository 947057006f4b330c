import type { ILoadOptionsFunctions, INodeListSearchItems, INodeListSearchResult } from 'n8n-workflow';

import { machineBackendFor } from '../backend';
import { odataString } from '../helpers/odata';

const PAGE = 100;

function literal(value: unknown): string | undefined {
	// An expression cannot be resolved while browsing a list: fall back to the default.
	if (typeof value !== 'string' || value.trim() === '' || value.startsWith('=')) return undefined;
	return value.trim();
}

/**
 * Machines by DNS name, 100 per page. A search text becomes `startswith(computerDnsName,'text')` (the API
 * filters); the ID is shown with the name, since one name can belong to two device records.
 */
export async function searchMachines(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	const backend = await machineBackendFor(this, {
		region: literal(this.getCurrentNodeParameter('region')),
		customerTenant: literal(this.getCurrentNodeParameter('customerTenant')),
	});
	const skip = Number(paginationToken) > 0 ? Number(paginationToken) : 0;
	const needle = (filter ?? '').trim().toLowerCase().replace(/[^a-z0-9_.-]/g, '');
	const page = await backend.listMachines({ top: PAGE, skip, filter: needle ? `startswith(computerDnsName,${odataString(needle)})` : undefined });
	const results: INodeListSearchItems[] = page.map((m) => ({
		name: `${typeof m.computerDnsName === 'string' && m.computerDnsName ? m.computerDnsName : m.id} (${String(m.osPlatform ?? '?')}, ${String(m.healthStatus ?? '?')}, ${m.id.slice(0, 8)}…)`,
		value: m.id,
		url: backend.portalUrl(m.id),
	}));
	return { results, paginationToken: page.length === PAGE ? String(skip + PAGE) : undefined };
}

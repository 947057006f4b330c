import type { ILoadOptionsFunctions, INodeListSearchItems, INodeListSearchResult } from 'n8n-workflow';

import { backendFor } from '../backend';
import type { AlertRecord } from '../backend/types';
import { defenderFieldsOfGraphAlert, isGraphAlert, stableAlertId } from '../core/graphAlerts';

const PAGE = 100;

function literal(value: unknown): string | undefined {
	// An expression cannot be resolved while browsing a list: fall back to the default.
	if (typeof value !== 'string' || value.trim() === '' || value.startsWith('=')) return undefined;
	return value.trim();
}

/**
 * Newest alerts first, 100 per page. The alerts API cannot filter by title, so the search text is matched
 * here against title, ID, device and category of each page.
 */
export async function searchAlerts(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	const backend = await backendFor(this, {
		region: literal(this.getCurrentNodeParameter('region')),
		customerTenant: literal(this.getCurrentNodeParameter('customerTenant')),
	});
	const skip = Number(paginationToken) > 0 ? Number(paginationToken) : 0;
	const page = await backend.listAlerts({ top: PAGE, skip, orderBy: 'alertCreationTime desc' });
	const needle = (filter ?? '').trim().toLowerCase();
	const results: INodeListSearchItems[] = [];
	for (const raw of page) {
		// a Microsoft Graph alert is shown with the same Defender-named fields
		const alert: AlertRecord = isGraphAlert(raw) ? { ...raw, ...defenderFieldsOfGraphAlert(raw), id: raw.id } : raw;
		const title = typeof alert.title === 'string' ? alert.title : alert.id;
		const device = typeof alert.computerDnsName === 'string' ? alert.computerDnsName : '';
		if (needle && ![title, alert.id, device, String(alert.category ?? '')].some((t) => t.toLowerCase().includes(needle))) continue;
		results.push({
			name: `${title}${device ? ` on ${device}` : ''} (${String(alert.severity ?? '?')}, ${String(alert.status ?? '?')})`,
			value: alert.id,
			url: backend.portalUrl(stableAlertId(raw)),
		});
	}
	return { results, paginationToken: page.length === PAGE ? String(skip + PAGE) : undefined };
}
export { searchMachines } from './machineSearch';

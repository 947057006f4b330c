/**
 * The one owner of the per-cloud and per-region facts: for each Microsoft cloud the login authority, the token
 * scope, the Defender API host, the portal host and the consent host; for each Defender region its API host.
 * The credential's form, its test request, the node's Region options, the validation and the transport all
 * derive from these two tables. Operations never build URLs: they ask the transport, which asks this module.
 * No n8n types inside.
 *
 * Sources: "Microsoft Defender for Endpoint API" (supported Microsoft 365 clouds and regional API hosts),
 * https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-list and
 * https://learn.microsoft.com/en-us/defender-endpoint/gov (US Government endpoints); Microsoft Graph per national
 * cloud (https://learn.microsoft.com/en-us/graph/deployments: graph.microsoft.com for Commercial and GCC,
 * graph.microsoft.us for GCC High, dod-graph.microsoft.us for DoD; app-only scope `<host>/.default`).
 */
import { isGuid } from './ids';

export const CLOUDS = ['commercial', 'gcc', 'gccHigh', 'dod', 'custom'] as const;
export type CloudName = (typeof CLOUDS)[number];

interface RegionInfo {
	/** the option's label in the node */
	label: string;
	/** API host of the region; null: the cloud's own API host */
	host: string | null;
}

/** Defender for Endpoint's regional API hosts (Commercial cloud only). Global first: it is the default. */
const REGION_TABLE = {
	global: { label: 'Global', host: null },
	us: { label: 'US', host: 'us.api.security.microsoft.com' },
	eu: { label: 'EU', host: 'eu.api.security.microsoft.com' },
	uk: { label: 'UK', host: 'uk.api.security.microsoft.com' },
	au: { label: 'AU', host: 'au.api.security.microsoft.com' },
	swa: { label: 'SWA', host: 'swa.api.security.microsoft.com' },
	ina: { label: 'INA', host: 'ina.api.security.microsoft.com' },
	aea: { label: 'AEA', host: 'aea.api.security.microsoft.com' },
} as const satisfies Record<string, RegionInfo>;

export type RegionName = keyof typeof REGION_TABLE;
export const REGIONS = Object.keys(REGION_TABLE) as RegionName[];

/** Region options for the node: value, label and the host it sends to. */
export function regionChoices(): Array<{ value: RegionName; label: string; host: string | null }> {
	return REGIONS.map((value) => ({ value, label: REGION_TABLE[value].label, host: REGION_TABLE[value].host }));
}

export interface CloudEndpoints {
	cloud: CloudName;
	/** https://login.microsoftonline.com (no trailing slash) */
	authorityHost: string;
	/** `<resource>/.default` */
	scope: string;
	/** API base for the global region, without `/api` and without trailing slash */
	apiBaseUrl: string;
	/** Defender portal origin used for alert deep links */
	portalUrl: string;
	/** Host that serves the admin-consent page for this cloud */
	consentHost: string;
	/** True when the authority is not one msal-node knows (custom clouds, the emulator) */
	customAuthority: boolean;
	/** Microsoft Graph origin of the cloud, without `/v1.0` (custom clouds: only when configured) */
	graphBaseUrl?: string;
	/** Graph token scope, `<graph resource>/.default` (custom clouds: only when configured) */
	graphScope?: string;
}

/** The two APIs the package talks to: Defender for Endpoint (`/api/…`) and Microsoft Graph security (`/v1.0/…`). */
export type ApiName = 'defender' | 'graph';
export const API_NAMES: readonly ApiName[] = ['defender', 'graph'];
export const API_LABELS: Record<ApiName, string> = { defender: 'Defender for Endpoint API', graph: 'Microsoft Graph Security API' };

/** Where one API of one cloud lives: origin, path prefix and token scope. */
export interface ApiEndpoint {
	api: ApiName;
	/** origin (and base path of a custom cloud), no trailing slash */
	baseUrl: string;
	/** `/api` (Defender) or `/v1.0` (Graph) */
	pathPrefix: '/api' | '/v1.0';
	scope: string;
	/** region the Defender host serves ('global' for Graph, which has one host per cloud) */
	region: string;
	/** a region the caller set that does not apply to this API (Graph), for a hint */
	ignoredRegion?: string;
}

export const DEFAULT_SCOPE = 'https://api.securitycenter.microsoft.com/.default';

type FixedCloud = Exclude<CloudName, 'custom'>;

/** Microsoft Graph per fixed cloud (https://learn.microsoft.com/en-us/graph/deployments); scope = `<host>/.default`. */
const GRAPH_HOSTS: Record<FixedCloud, string> = {
	commercial: 'https://graph.microsoft.com',
	gcc: 'https://graph.microsoft.com',
	gccHigh: 'https://graph.microsoft.us',
	dod: 'https://dod-graph.microsoft.us',
};

/** The Graph scope for a Graph origin: `<origin>/.default`. */
export function graphScopeFor(graphBaseUrl: string): string {
	return `${new URL(graphBaseUrl).origin}/.default`;
}

const FIXED: Record<FixedCloud, Omit<CloudEndpoints, 'cloud' | 'customAuthority'>> = {
	commercial: {
		authorityHost: 'https://login.microsoftonline.com',
		scope: DEFAULT_SCOPE,
		apiBaseUrl: 'https://api.security.microsoft.com',
		portalUrl: 'https://security.microsoft.com',
		consentHost: 'https://login.microsoftonline.com',
	},
	// GCC uses the commercial login with its own API host. The token audience is not documented by Microsoft;
	// community scripts use the API host itself, which we default to (overridable in the credential).
	gcc: {
		authorityHost: 'https://login.microsoftonline.com',
		scope: 'https://api-gcc.securitycenter.microsoft.us/.default',
		apiBaseUrl: 'https://api-gcc.securitycenter.microsoft.us',
		portalUrl: 'https://security.microsoft.com',
		consentHost: 'https://login.microsoftonline.com',
	},
	gccHigh: {
		authorityHost: 'https://login.microsoftonline.us',
		scope: 'https://api-gov.securitycenter.microsoft.us/.default',
		apiBaseUrl: 'https://api-gov.securitycenter.microsoft.us',
		portalUrl: 'https://security.microsoft.us',
		consentHost: 'https://login.microsoftonline.us',
	},
	dod: {
		authorityHost: 'https://login.microsoftonline.us',
		scope: 'https://api-gov.securitycenter.microsoft.us/.default',
		apiBaseUrl: 'https://api-gov.securitycenter.microsoft.us',
		portalUrl: 'https://security.apps.mil',
		consentHost: 'https://login.microsoftonline.us',
	},
};

export const CLOUD_LABELS: Record<CloudName, string> = {
	commercial: 'Commercial (Worldwide)',
	gcc: 'US Government GCC',
	gccHigh: 'US Government GCC High',
	dod: 'US Government DoD',
	custom: 'Custom',
};

/** The fixed clouds, for the credential form and its consent notices. */
export function fixedClouds(): Array<{ cloud: FixedCloud; label: string; graphBaseUrl: string; graphScope: string } & Omit<CloudEndpoints, 'cloud' | 'customAuthority' | 'graphBaseUrl' | 'graphScope'>> {
	return (Object.keys(FIXED) as FixedCloud[]).map((cloud) => ({
		cloud,
		label: CLOUD_LABELS[cloud],
		...FIXED[cloud],
		graphBaseUrl: GRAPH_HOSTS[cloud],
		graphScope: graphScopeFor(GRAPH_HOSTS[cloud]),
	}));
}

/** alerts_v2 under the Graph version prefix (https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2). */
export const GRAPH_ALERTS_PATH = '/v1.0/security/alerts_v2';

const js = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** JavaScript (inside an n8n expression) for the Defender base URL of the credential's cloud. */
function defenderBaseJs(): string {
	const custom = "String($credentials.apiBaseUrl || '').trim().replace(/\\/+$/, '').replace(/\\/api$/i, '')";
	const fixed = (Object.keys(FIXED) as FixedCloud[])
		.filter((cloud) => cloud !== 'commercial')
		.map((cloud) => `$credentials.cloud === ${js(cloud)} ? ${js(FIXED[cloud].apiBaseUrl)} : `)
		.join('');
	return `$credentials.cloud === 'custom' ? ${custom} : ${fixed}${js(FIXED.commercial.apiBaseUrl)}`;
}

/** JavaScript (inside an n8n expression) for the Graph base URL of the credential's cloud. */
function graphBaseJs(): string {
	const custom = "String($credentials.graphBaseUrl || '').trim().replace(/\\/+$/, '').replace(/\\/v1\\.0$/i, '')";
	const fixed = (Object.keys(GRAPH_HOSTS) as FixedCloud[])
		.filter((cloud) => GRAPH_HOSTS[cloud] !== GRAPH_HOSTS.commercial)
		.map((cloud) => `$credentials.cloud === ${js(cloud)} ? ${js(GRAPH_HOSTS[cloud])} : `)
		.join('');
	return `$credentials.cloud === 'custom' ? ${custom} : ${fixed}${js(GRAPH_HOSTS.commercial)}`;
}

/**
 * The base URL the credential's test request goes to, as an n8n expression over the credential's own fields (the
 * credential test request cannot call code): the Defender API host of the cloud, or its Microsoft Graph host when
 * the credential's Alerts API is Graph. Derived from the tables above; unit tests evaluate it for every cloud and
 * both APIs against `resolveCloud`.
 */
export function apiBaseUrlExpression(): string {
	return `={{ $credentials.alertsApi === 'graph' ? (${graphBaseJs()}) : (${defenderBaseJs()}) }}`;
}

/** Path of the credential test request (one alert from the chosen API), as an n8n expression. */
export function testPathExpression(): string {
	return `={{ $credentials.alertsApi === 'graph' ? '${GRAPH_ALERTS_PATH}' : '/api/alerts' }}`;
}


export interface CloudSettings {
	cloud?: string;
	authorityHost?: string;
	apiBaseUrl?: string;
	scope?: string;
	portalUrl?: string;
	/** custom clouds: Microsoft Graph origin (optional; needed for the Graph Security API) */
	graphBaseUrl?: string;
	/** custom clouds: Graph token scope (optional; default `<Graph origin>/.default`) */
	graphScope?: string;
}

export class CloudConfigError extends Error {
	constructor(
		message: string,
		readonly hint: string,
	) {
		super(message);
		this.name = 'CloudConfigError';
	}
}

function httpsOrigin(value: string | undefined, field: string): string {
	const raw = (value ?? '').trim();
	if (!raw) {
		throw new CloudConfigError(`${field} is empty`, `Enter the https:// URL of the ${field.toLowerCase()} for the custom cloud.`);
	}
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new CloudConfigError(`${field} "${raw}" is not a URL`, `Enter a full URL such as https://login.example.com.`);
	}
	if (url.protocol !== 'https:') {
		throw new CloudConfigError(
			`${field} must use https, got ${url.protocol.replace(':', '')}`,
			'Tokens and alert data must never travel unencrypted: use an https:// URL.',
		);
	}
	if (url.username || url.password || url.search || url.hash) {
		throw new CloudConfigError(`${field} must not contain credentials, a query or a fragment`, 'Enter only scheme, host, port and optional path.');
	}
	return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Resolve the endpoints for the credential's cloud. Throws CloudConfigError with a hint for bad custom input. */
export function resolveCloud(settings: CloudSettings): CloudEndpoints {
	const cloud = (settings.cloud ?? 'commercial') as CloudName;
	if (!CLOUDS.includes(cloud)) {
		throw new CloudConfigError(`Unknown cloud "${String(settings.cloud)}"`, `Choose one of: ${CLOUDS.join(', ')}.`);
	}
	if (cloud === 'custom') {
		const authorityHost = httpsOrigin(settings.authorityHost, 'Authority Host URL');
		const apiBaseUrl = httpsOrigin(settings.apiBaseUrl, 'API Base URL').replace(/\/api$/i, '');
		const scope = (settings.scope ?? '').trim() || DEFAULT_SCOPE;
		validateScope(scope);
		const portalUrl = settings.portalUrl?.trim() ? httpsOrigin(settings.portalUrl, 'Portal URL') : FIXED.commercial.portalUrl;
		const graph = settings.graphBaseUrl?.trim() ? httpsOrigin(settings.graphBaseUrl, 'Graph Base URL').replace(/\/v1\.0$/i, '') : undefined;
		const graphScope = graph ? (settings.graphScope ?? '').trim() || graphScopeFor(graph) : undefined;
		if (graphScope) validateScope(graphScope);
		return {
			cloud,
			authorityHost,
			apiBaseUrl,
			scope,
			portalUrl,
			consentHost: authorityHost,
			customAuthority: true,
			...(graph ? { graphBaseUrl: graph, graphScope } : {}),
		};
	}
	const fixed = FIXED[cloud];
	const scope = (settings.scope ?? '').trim() || fixed.scope;
	validateScope(scope);
	return { cloud, ...fixed, scope, customAuthority: false, graphBaseUrl: GRAPH_HOSTS[cloud], graphScope: graphScopeFor(GRAPH_HOSTS[cloud]) };
}

export function validateScope(scope: string): void {
	if (!/^https:\/\/[^\s]+\/\.default$/.test(scope)) {
		throw new CloudConfigError(
			`Token scope "${scope}" is not an application scope ending in /.default`,
			'App-only tokens need a scope of the form <resource>/.default, e.g. https://api.securitycenter.microsoft.com/.default.',
		);
	}
}

/**
 * API base URL for a region. Regions exist only in the commercial cloud; asking for one elsewhere is an
 * error rather than a silent fallback (a GCC tenant's data must never be sent to a commercial host).
 */
export function apiBaseForRegion(endpoints: CloudEndpoints, region: string | undefined): string {
	const r = ((region ?? 'global').trim().toLowerCase() || 'global') as RegionName;
	if (!REGIONS.includes(r)) {
		throw new CloudConfigError(`Unknown region "${region}"`, `Use one of: ${REGIONS.join(', ')}.`);
	}
	if (r === 'global') return endpoints.apiBaseUrl;
	if (endpoints.cloud !== 'commercial') {
		throw new CloudConfigError(
			`Region "${r}" is only available in the Commercial cloud, but the credential uses ${CLOUD_LABELS[endpoints.cloud]}`,
			endpoints.cloud === 'custom'
				? 'Set Region to Global; a custom cloud uses the API Base URL from the credential.'
				: 'Set Region to Global: government clouds have a single API host.',
		);
	}
	return `https://${REGION_TABLE[r].host ?? new URL(endpoints.apiBaseUrl).host}`;
}

/**
 * Where `api` lives for this cloud. Defender: the region's host (errors as apiBaseForRegion). Graph: one host per
 * cloud, so a region is not an error but ignored (`ignoredRegion` says which, for a hint); a custom cloud without a
 * Graph Base URL cannot use Graph.
 */
export function apiEndpoint(endpoints: CloudEndpoints, api: ApiName, region: string | undefined): ApiEndpoint {
	if (api === 'defender') {
		const r = ((region ?? 'global').trim().toLowerCase() || 'global');
		return { api, baseUrl: apiBaseForRegion(endpoints, region), pathPrefix: '/api', scope: endpoints.scope, region: r };
	}
	if (!endpoints.graphBaseUrl || !endpoints.graphScope) {
		throw new CloudConfigError(
			'Graph Base URL is empty',
			'The custom cloud has no Microsoft Graph host: enter the credential\'s Graph Base URL (e.g. https://graph.microsoft.com) and, if needed, its Graph Token Scope, or set Alerts API to Defender for Endpoint API.',
		);
	}
	const r = (region ?? '').trim().toLowerCase();
	return {
		api,
		baseUrl: endpoints.graphBaseUrl,
		pathPrefix: '/v1.0',
		scope: endpoints.graphScope,
		region: 'global',
		...(r && r !== 'global' ? { ignoredRegion: r } : {}),
	};
}

/** Admin-consent link a customer's administrator opens (the partner guide's form, for the chosen cloud). */
export function consentLink(endpoints: Pick<CloudEndpoints, 'consentHost'>, clientId: string): string {
	const q = new URLSearchParams({ prompt: 'consent', client_id: clientId, response_type: 'code', sso_reload: 'true' });
	return `${endpoints.consentHost}/common/oauth2/authorize?${q.toString()}`;
}

/** Deep link to an alert in the right portal for the cloud. */
export function alertPortalUrl(endpoints: CloudEndpoints, alertId: string, tenantId?: string): string {
	const tid = isGuid(tenantId) ? `?tid=${tenantId}` : '';
	return `${endpoints.portalUrl}/alerts/${encodeURIComponent(alertId)}${tid}`;
}

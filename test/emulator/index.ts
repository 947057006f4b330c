/**
 * Local HTTPS emulator of Microsoft Entra ID (client-credentials token endpoint, discovery) and the Microsoft
 * Defender for Endpoint alert API, with a CONNECT proxy for real hostnames, rate limits, faults, latency,
 * a request log and a control API. See README.md in this folder.
 *
 *   const emulator = await startEmulator();
 *   const scenario = createScenario(emulator, { tenants: 3, alertsPerTenant: 20 });
 *   // credentials: authority emulator.url, tenant scenario.tenants[0].id, scenario.clientId / clientSecret
 *   await emulator.close();
 */
export { Emulator, startEmulator, DEFAULT_CERT_DIR, DEFAULT_REQUESTED_ROLES } from './emulator';
export { createScenario, applyDefaultScenario, DEFAULT_SCENARIO, MSSP_ROLES } from './scenario';
export { ACCEPTED_RESOURCES, DEFAULT_RESOURCE, GRAPH_RESOURCES, GRAPH_ROLES, KNOWN_ROLES } from './directory';
export { DEFAULT_GRAPH_SETTINGS, GraphService, type GraphSettings } from './graph';
export { DEFAULT_RATE_LIMITS } from './ratelimit';
export {
	STATUS_VALUES,
	CLASSIFICATION_VALUES,
	DETERMINATION_VALUES,
	CREATE_BY_REFERENCE_CATEGORIES,
} from './defender';
export { parseFilter, evaluateFilter, parseAlertQuery, parseOrderBy, tokenize, ODataQueryError, ALERT_FILTER_FIELDS } from './odata';
export type { FilterNode, FieldDef, AlertQuery } from './odata';
export { trimFraction } from './clock';
export type { ProxyConnectRecord } from './proxy';
export * from './types';

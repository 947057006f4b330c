/**
 * Which application permissions each operation of this package needs, per API: WindowsDefenderATP for the Defender
 * for Endpoint API (the Permissions section of each API page, e.g. https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts)
 * and Microsoft Graph for the Graph security API (e.g. https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2,
 * https://learn.microsoft.com/en-us/graph/api/security-alert-update).
 */
import type { ApiName } from '../core/clouds';

export interface OperationNeed {
	/** resource.operation (or the trigger) */
	operation: string;
	label: string;
	/** any one of these roles is enough */
	anyOf: string[];
	optional?: boolean;
	/** the API whose token must carry the role; absent: the Defender for Endpoint API (WindowsDefenderATP) */
	api?: ApiName;
}

export const READ_ROLES = ['Alert.Read.All', 'Alert.ReadWrite.All'];
export const WRITE_ROLES = ['Alert.ReadWrite.All'];
/** Microsoft Graph: alerts_v2 list, get (https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2). */
export const GRAPH_READ_ROLES = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All'];
/** Microsoft Graph: alerts_v2 update and comments (https://learn.microsoft.com/en-us/graph/api/security-alert-update). */
export const GRAPH_WRITE_ROLES = ['SecurityAlert.ReadWrite.All'];
/**
 * Microsoft Graph incidents: list, get (https://learn.microsoft.com/en-us/graph/api/security-list-incidents) and update,
 * comments (https://learn.microsoft.com/en-us/graph/api/security-incident-update). Hunting: runHuntingQuery.
 */
export const GRAPH_INCIDENT_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
export const GRAPH_INCIDENT_WRITE_ROLES = ['SecurityIncident.ReadWrite.All'];
export const GRAPH_HUNTING_ROLES = ['ThreatHunting.Read.All'];
/** Every indicator call (Submit or Update, Import, List, Delete Indicator pages). With Ti.ReadWrite only, an app sees and changes just the indicators it created. */
export const INDICATOR_ROLES = ['Ti.ReadWrite.All', 'Ti.ReadWrite'];
/** Machines and machine actions: read (List machines, Get MachineAction, …). Response actions that take a DNS name, Exclude Tags or Wait for Completion read too. */
export const MACHINE_READ_ROLES = ['Machine.Read.All', 'Machine.ReadWrite.All'];
/** Cancel machine action: any one of the response-action permissions (Cancel machine action, Permissions). */
const MACHINE_CANCEL = ['Machine.Isolate', 'Machine.Scan', 'Machine.RestrictExecution', 'Machine.CollectForensics', 'Machine.StopAndQuarantine', 'Machine.Offboard', 'Machine.LiveResponse'];
const READ = READ_ROLES;
const WRITE = WRITE_ROLES;

/** The Graph rows: alert operations on Microsoft Graph (machines and indicators stay on the Defender API rows). */
const GRAPH_NEEDS: OperationNeed[] = [
	{ operation: 'alert.getAll', label: 'Alert: Get Many', anyOf: GRAPH_READ_ROLES, api: 'graph' },
	{ operation: 'alert.get', label: 'Alert: Get', anyOf: GRAPH_READ_ROLES, api: 'graph' },
	{ operation: 'alert.update', label: 'Alert: Update', anyOf: GRAPH_WRITE_ROLES, api: 'graph' },
	{ operation: 'alert.updateMany', label: 'Alert: Update Many', anyOf: GRAPH_WRITE_ROLES, api: 'graph' },
	{ operation: 'alert.addComment', label: 'Alert: Add Comment', anyOf: GRAPH_WRITE_ROLES, api: 'graph' },
	// from the alert's evidence: no entity permissions on Graph
	{ operation: 'alert.getRelated', label: 'Alert: Get Related (domains, files, IPs, machine, user)', anyOf: GRAPH_READ_ROLES, api: 'graph' },
	// Incidents are on Microsoft Graph only, whatever the credential's Alerts API (backend/incidents.ts)
	{ operation: 'incident.getAll', label: 'Incident: Get Many', anyOf: GRAPH_INCIDENT_READ_ROLES, api: 'graph', optional: true },
	{ operation: 'incident.get', label: 'Incident: Get', anyOf: GRAPH_INCIDENT_READ_ROLES, api: 'graph', optional: true },
	{ operation: 'incident.update', label: 'Incident: Update', anyOf: GRAPH_INCIDENT_WRITE_ROLES, api: 'graph', optional: true },
	{ operation: 'incident.addComment', label: 'Incident: Add Comment', anyOf: GRAPH_INCIDENT_WRITE_ROLES, api: 'graph', optional: true },
	// Advanced hunting is on Microsoft Graph only, whatever the credential's Alerts API
	// (https://learn.microsoft.com/en-us/graph/api/security-security-runhuntingquery, Permissions).
	{ operation: 'hunting.runQuery', label: 'Hunting: Run Query', anyOf: GRAPH_HUNTING_ROLES, api: 'graph', optional: true },
];

export const OPERATION_NEEDS: OperationNeed[] = [
	{ operation: 'alert.getAll', label: 'Alert: Get Many', anyOf: READ },
	{ operation: 'alert.get', label: 'Alert: Get', anyOf: READ },
	{ operation: 'trigger', label: 'Trigger: new and updated alerts', anyOf: READ },
	{ operation: 'alert.update', label: 'Alert: Update', anyOf: WRITE },
	{ operation: 'alert.updateMany', label: 'Alert: Update Many', anyOf: WRITE },
	{ operation: 'alert.addComment', label: 'Alert: Add Comment', anyOf: WRITE },
	{ operation: 'alert.createByReference', label: 'Alert: Create by Reference', anyOf: WRITE },
	{ operation: 'alert.getRelated.domains', label: 'Alert: Get Related (domains)', anyOf: ['URL.Read.All'], optional: true },
	{ operation: 'alert.getRelated.files', label: 'Alert: Get Related (files)', anyOf: ['File.Read.All'], optional: true },
	{ operation: 'alert.getRelated.ips', label: 'Alert: Get Related (IPs)', anyOf: ['Ip.Read.All'], optional: true },
	{ operation: 'alert.getRelated.machine', label: 'Alert: Get Related (machine)', anyOf: ['Machine.Read.All', 'Machine.ReadWrite.All'], optional: true },
	{ operation: 'alert.getRelated.user', label: 'Alert: Get Related (user)', anyOf: ['User.Read.All'], optional: true },
	{ operation: 'indicator.submit', label: 'Indicator: Submit', anyOf: INDICATOR_ROLES },
	{ operation: 'indicator.submitMany', label: 'Indicator: Submit Many', anyOf: INDICATOR_ROLES },
	{ operation: 'indicator.getAll', label: 'Indicator: Get Many', anyOf: INDICATOR_ROLES },
	{ operation: 'indicator.delete', label: 'Indicator: Delete', anyOf: INDICATOR_ROLES },
	{ operation: 'machine.get', label: 'Machine: Get', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machine.getAll', label: 'Machine: Get Many', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machine.findByIp', label: 'Machine: Find by IP', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machine.findByTag', label: 'Machine: Find by Tag', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machine.addTag', label: 'Machine: Add Tag', anyOf: ['Machine.ReadWrite.All'], optional: true },
	{ operation: 'machine.removeTag', label: 'Machine: Remove Tag', anyOf: ['Machine.ReadWrite.All'], optional: true },
	{ operation: 'machine.getLogonUsers', label: 'Machine: Get Logged-On Users', anyOf: ['User.Read.All'], optional: true },
	{ operation: 'machine.getAlerts', label: 'Machine: Get Alerts', anyOf: READ, optional: true },
	{ operation: 'machineAction.isolate', label: 'Machine Action: Isolate', anyOf: ['Machine.Isolate'], optional: true },
	{ operation: 'machineAction.releaseIsolation', label: 'Machine Action: Release From Isolation', anyOf: ['Machine.Isolate'], optional: true },
	{ operation: 'machineAction.runAntivirusScan', label: 'Machine Action: Run Antivirus Scan', anyOf: ['Machine.Scan'], optional: true },
	{ operation: 'machineAction.restrictAppExecution', label: 'Machine Action: Restrict App Execution', anyOf: ['Machine.RestrictExecution'], optional: true },
	{ operation: 'machineAction.removeAppRestriction', label: 'Machine Action: Remove App Restriction', anyOf: ['Machine.RestrictExecution'], optional: true },
	{ operation: 'machineAction.collectInvestigationPackage', label: 'Machine Action: Collect Investigation Package', anyOf: ['Machine.CollectForensics'], optional: true },
	{ operation: 'machineAction.getPackageDownloadLink', label: 'Machine Action: Get Package Download Link', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machineAction.stopAndQuarantineFile', label: 'Machine Action: Stop and Quarantine File', anyOf: ['Machine.StopAndQuarantine'], optional: true },
	{ operation: 'machineAction.offboard', label: 'Machine Action: Offboard', anyOf: ['Machine.Offboard'], optional: true },
	{ operation: 'machineAction.cancel', label: 'Machine Action: Cancel', anyOf: MACHINE_CANCEL, optional: true },
	{ operation: 'machineAction.get', label: 'Machine Action: Get', anyOf: MACHINE_READ_ROLES, optional: true },
	{ operation: 'machineAction.getAll', label: 'Machine Action: Get Many', anyOf: MACHINE_READ_ROLES, optional: true },
];

/** Every permission the package can use, for the consent instructions. */
export const PACKAGE_PERMISSIONS: Array<{ permission: string; requiredFor: string; required: boolean }> = [
	{ permission: 'Alert.ReadWrite.All', requiredFor: 'Reading and changing alerts: all Alert operations and the trigger (Alert.Read.All is enough for read-only use)', required: true },
	{ permission: 'Alert.Read.All', requiredFor: 'Read-only alternative: Get, Get Many and the trigger', required: false },
	{ permission: 'URL.Read.All', requiredFor: 'Get Related: domains', required: false },
	{ permission: 'File.Read.All', requiredFor: 'Get Related: files', required: false },
	{ permission: 'Ip.Read.All', requiredFor: 'Get Related: IPs', required: false },
	{ permission: 'Machine.Read.All', requiredFor: 'Get Related: machine; Machine: Get, Get Many, Find by IP, Find by Tag; Machine Action: Get, Get Many, Get Package Download Link, and the reads of response actions (DNS names, Exclude Tags, Wait for Completion)', required: false },
	{ permission: 'Machine.ReadWrite.All', requiredFor: 'Machine: Add Tag, Remove Tag (also covers reading machines)', required: false },
	{ permission: 'Machine.Isolate', requiredFor: 'Machine Action: Isolate, Release From Isolation', required: false },
	{ permission: 'Machine.Scan', requiredFor: 'Machine Action: Run Antivirus Scan', required: false },
	{ permission: 'Machine.RestrictExecution', requiredFor: 'Machine Action: Restrict App Execution, Remove App Restriction', required: false },
	{ permission: 'Machine.CollectForensics', requiredFor: 'Machine Action: Collect Investigation Package', required: false },
	{ permission: 'Machine.StopAndQuarantine', requiredFor: 'Machine Action: Stop and Quarantine File', required: false },
	{ permission: 'Machine.Offboard', requiredFor: 'Machine Action: Offboard', required: false },
	{ permission: 'User.Read.All', requiredFor: 'Get Related: user; Machine: Get Logged-On Users', required: false },
	{ permission: 'Ti.ReadWrite.All', requiredFor: 'Indicators: Submit, Submit Many, Get Many, Delete (all indicators of the tenant)', required: false },
	{ permission: 'Ti.ReadWrite', requiredFor: 'Indicators, limited to the ones this app created (alternative to Ti.ReadWrite.All)', required: false },
];

/**
 * Microsoft Graph application permissions, for credentials whose Alerts API is Microsoft Graph Security API. Each
 * customer tenant must consent again after they are added to the app registration.
 */
export const GRAPH_PERMISSIONS: Array<{ permission: string; requiredFor: string; required: boolean }> = [
	{ permission: 'SecurityAlert.ReadWrite.All', requiredFor: 'Alert operations on Microsoft Graph: Get, Get Many, Get Related, Update, Update Many, Add Comment (SecurityAlert.Read.All is enough for read-only use)', required: true },
	{ permission: 'SecurityAlert.Read.All', requiredFor: 'Read-only alternative on Microsoft Graph: Get, Get Many, Get Related', required: false },
	{ permission: 'SecurityIncident.Read.All', requiredFor: 'Incident: Get, Get Many (incidents are on Microsoft Graph, whatever the credential\'s Alerts API)', required: false },
	{ permission: 'SecurityIncident.ReadWrite.All', requiredFor: 'Incident: Update, Add Comment (also covers reading incidents)', required: false },
	{ permission: 'ThreatHunting.Read.All', requiredFor: 'Hunting: Run Query (advanced hunting through Microsoft Graph, whatever the credential\'s Alerts API)', required: false },
];

/** The permission table with its API column: WindowsDefenderATP (Defender for Endpoint API) and Microsoft Graph. */
export function permissionsTable(): Array<{ api: 'WindowsDefenderATP' | 'Microsoft Graph'; permission: string; requiredFor: string; required: boolean }> {
	return [...PACKAGE_PERMISSIONS.map((p) => ({ api: 'WindowsDefenderATP' as const, ...p })), ...GRAPH_PERMISSIONS.map((p) => ({ api: 'Microsoft Graph' as const, ...p }))];
}

function has(roles: string[], role: string): boolean {
	return roles.some((r) => r.toLowerCase() === role.toLowerCase());
}

/** The rows of one API: Defender (OPERATION_NEEDS) or Graph (the alert operations on Microsoft Graph). */
export function needsFor(api: ApiName = 'defender'): OperationNeed[] {
	return api === 'graph' ? GRAPH_NEEDS : OPERATION_NEEDS.filter((n) => (n.api ?? 'defender') === 'defender');
}

/** What a token of `api` with these roles allows and blocks (default: the Defender for Endpoint API). */
export function allowedBy(roles: string[], api: ApiName = 'defender'): { allowed: OperationNeed[]; blocked: OperationNeed[] } {
	const allowed: OperationNeed[] = [];
	const blocked: OperationNeed[] = [];
	for (const need of needsFor(api)) (need.anyOf.some((r) => has(roles, r)) ? allowed : blocked).push(need);
	return { allowed, blocked };
}

/** The roles (any one of them) an operation needs, e.g. `rolesFor('alert.getRelated.files')`; `api` default Defender. */
export function rolesFor(operation: string, api: ApiName = 'defender'): string[] {
	return needsFor(api).find((n) => n.operation === operation)?.anyOf ?? [];
}

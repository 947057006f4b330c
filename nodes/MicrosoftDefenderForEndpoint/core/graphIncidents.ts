/**
 * Microsoft Graph security incidents: the value sets, the structured list query rendered as a Graph `$filter`, the
 * PATCH body, the custom-tag semantics of Update and the documented Simplify shape. Pure: no n8n types, no HTTP.
 * Incidents exist on Microsoft Graph only, so values are Graph's own camelCase spellings (no Defender mapping).
 *
 * Sources: the incident resource type (https://learn.microsoft.com/en-us/graph/api/resources/security-incident:
 * properties, incidentStatus with the evolvable member `awaitingAction`, alertClassification, alertDetermination,
 * alertSeverity), List incidents (https://learn.microsoft.com/en-us/graph/api/security-list-incidents: `$filter` on
 * assignedTo, classification, createdDateTime, lastUpdateDateTime, severity, status; `$top`, `$skip`, `$count`,
 * `$expand=alerts`), Update incident (https://learn.microsoft.com/en-us/graph/api/security-incident-update: status,
 * classification, determination, assignedTo, customTags; returns the incident) and Create comment for incident
 * (https://learn.microsoft.com/en-us/graph/api/security-incident-post-comments: returns the incident's comment list).
 */
import { GRAPH_DETERMINATION_ALTERNATES, graphString, type OptionalClause, QueryNotSupportedError } from './graphAlerts';

export { QueryNotSupportedError };

const lowerFirst = (v: string) => (v ? v.charAt(0).toLowerCase() + v.slice(1) : v);

/**
 * Largest page asked for. Not documented on the List incidents page; services and SDK users report that `$top` above 50
 * is refused, so the node never asks for more (a smaller limit the service names in its 400 is used instead).
 */
export const GRAPH_INCIDENT_MAX_PAGE_SIZE = 50;

/** incidentStatus (awaitingAction is an evolvable member: only with `Prefer: include-unknown-enum-members`). */
export const INCIDENT_STATUSES = ['active', 'inProgress', 'resolved', 'redirected', 'awaitingAction'] as const;
/**
 * Statuses Update may set. Update incident lists active, resolved and redirected; inProgress is a member of the
 * resource's incidentStatus (the portal's "In progress") and is sent as given (a refusal comes back as the service's
 * 400). redirected is the service's own mark for a merged incident (with redirectIncidentId) and awaitingAction is set
 * by Microsoft Defender Experts only: neither is offered.
 */
export const INCIDENT_WRITABLE_STATUSES = ['active', 'inProgress', 'resolved'] as const;
export const INCIDENT_SEVERITIES = ['unknown', 'informational', 'low', 'medium', 'high'] as const;
export const INCIDENT_CLASSIFICATIONS = ['unknown', 'truePositive', 'informationalExpectedActivity', 'falsePositive'] as const;
export const INCIDENT_DETERMINATIONS = [
	'unknown',
	'apt',
	'malware',
	'securityPersonnel',
	'securityTesting',
	'unwantedSoftware',
	'other',
	'multiStagedAttack',
	'compromisedUser',
	'phishing',
	'maliciousUserActivity',
	'clean',
	'insufficientData',
	'confirmedUserActivity',
	'lineOfBusinessApplication',
] as const;

export const INCIDENT_STATUS_LABELS: Record<string, string> = {
	active: 'Active',
	inProgress: 'In Progress',
	resolved: 'Resolved',
	redirected: 'Redirected (Merged Into Another Incident)',
	awaitingAction: 'Awaiting Action (Defender Experts)',
};
export const INCIDENT_SEVERITY_LABELS: Record<string, string> = { unknown: 'Unknown', informational: 'Informational', low: 'Low', medium: 'Medium', high: 'High' };
export const INCIDENT_CLASSIFICATION_LABELS: Record<string, string> = {
	unknown: 'Not Set (Unknown)',
	truePositive: 'True Positive',
	informationalExpectedActivity: 'Informational, Expected Activity',
	falsePositive: 'False Positive',
};
export const INCIDENT_DETERMINATION_LABELS: Record<string, string> = {
	unknown: 'Not Set (Unknown)',
	apt: 'APT',
	malware: 'Malware',
	securityPersonnel: 'Security Personnel',
	securityTesting: 'Security Testing',
	unwantedSoftware: 'Unwanted Software',
	other: 'Other',
	multiStagedAttack: 'Multi-Staged Attack',
	compromisedUser: 'Compromised User',
	phishing: 'Phishing',
	maliciousUserActivity: 'Malicious User Activity',
	clean: 'Clean',
	insufficientData: 'Insufficient Data',
	confirmedUserActivity: 'Confirmed User Activity',
	lineOfBusinessApplication: 'Line-of-Business Application',
};

/**
 * Determinations that fit a classification (the Defender portal's grouping, the same as for alerts). Checked only when
 * one Update sets both; `other` and `unknown` fit every classification.
 */
export const INCIDENT_DETERMINATIONS_FOR: Readonly<Record<string, readonly string[]>> = {
	truePositive: ['multiStagedAttack', 'maliciousUserActivity', 'compromisedUser', 'malware', 'phishing', 'unwantedSoftware', 'apt', 'other', 'unknown'],
	informationalExpectedActivity: ['securityTesting', 'lineOfBusinessApplication', 'confirmedUserActivity', 'securityPersonnel', 'other', 'unknown'],
	falsePositive: ['clean', 'insufficientData', 'other', 'unknown'],
	unknown: [...INCIDENT_DETERMINATIONS],
};

/** The timestamp fields a list can be bounded and ordered by (the trigger's cursor fields). */
export type IncidentTimeField = 'createdDateTime' | 'lastUpdateDateTime';

/** The structured incident query (Get Many, and later the trigger). */
export interface IncidentWhere {
	status?: string[];
	severity?: string[];
	classification?: string[];
	/** not in the documented filter list: sent, applied locally if the service refuses it */
	determination?: string[];
	assignedTo?: string;
	/** canonical UTC timestamps (7-digit fraction + Z); after = `ge`, before = `lt` */
	createdAfter?: string;
	createdBefore?: string;
	updatedAfter?: string;
	updatedBefore?: string;
}

export interface IncidentFilterPlan {
	/** the documented clauses joined, undefined when none */
	documentedFilter?: string;
	/** clauses on properties the documentation does not list as filterable */
	optional: OptionalClause[];
}

function anyOf(field: string, values: string[]): string {
	const unique = [...new Set(values)];
	const parts = unique.map((v) => `${field} eq ${graphString(v)}`);
	return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$/;

/** The Graph `$filter` of an incident query. Time bounds must be UTC ISO timestamps (the callers canonicalise them). */
export function incidentFilterPlan(where: IncidentWhere): IncidentFilterPlan {
	const documented: string[] = [];
	const optional: OptionalClause[] = [];
	if (where.status?.length) documented.push(anyOf('status', where.status));
	if (where.severity?.length) documented.push(anyOf('severity', where.severity));
	if (where.classification?.length) documented.push(anyOf('classification', where.classification));
	if (where.assignedTo !== undefined) documented.push(`assignedTo eq ${graphString(where.assignedTo)}`);
	const time = (field: IncidentTimeField, op: 'ge' | 'lt', value: string | undefined) => {
		if (value === undefined) return;
		if (!TIMESTAMP_RE.test(value)) throw new QueryNotSupportedError(`${field} bound "${value}" is not a UTC timestamp`, 'Give an ISO 8601 UTC time such as 2025-03-04T09:15:22Z.', field);
		documented.push(`${field} ${op} ${value}`);
	};
	time('createdDateTime', 'ge', where.createdAfter);
	time('createdDateTime', 'lt', where.createdBefore);
	time('lastUpdateDateTime', 'ge', where.updatedAfter);
	time('lastUpdateDateTime', 'lt', where.updatedBefore);
	if (where.determination?.length) {
		const values = new Set(where.determination);
		// Graph may spell four determinations the value-table way: either spelling matches locally.
		const alternates = new Set([...values].map((v) => GRAPH_DETERMINATION_ALTERNATES[v]).filter((v): v is string => !!v));
		optional.push({
			field: 'determination',
			clause: anyOf('determination', [...values]),
			test: (i) => typeof i.determination === 'string' && (values.has(lowerFirst(i.determination)) || alternates.has(lowerFirst(i.determination))),
		});
	}
	return { documentedFilter: documented.length ? documented.join(' and ') : undefined, optional };
}

/** `createdDateTime asc` for a field and direction (the trigger reads ascending). */
export function incidentOrderBy(field: IncidentTimeField | undefined, direction: 'asc' | 'desc' = 'asc'): string | undefined {
	return field ? `${field} ${direction}` : undefined;
}

/** Custom tags in Update: Add (to the incident's tags), Remove (from them) or Replace (the whole list; empty clears it). */
export type CustomTagMode = 'add' | 'remove' | 'replace';

/**
 * The tag list to PATCH. Graph's PATCH sets `customTags` as a whole, so Add and Remove start from the incident's
 * current tags (read just before). Tags compare case-insensitively; the current spelling of a kept tag wins, order kept.
 */
export function mergeCustomTags(current: unknown, given: string[], mode: CustomTagMode): string[] {
	const now = Array.isArray(current) ? current.filter((t): t is string => typeof t === 'string') : [];
	const key = (t: string) => t.toLowerCase();
	const dedupe = (list: string[]) => {
		const seen = new Set<string>();
		return list.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
	};
	if (mode === 'replace') return dedupe(given);
	if (mode === 'add') return dedupe([...now, ...given]);
	const drop = new Set(given.map(key));
	return now.filter((t) => !drop.has(key(t)));
}

export interface IncidentPatch {
	status?: string;
	classification?: string;
	determination?: string;
	/** '' clears the owner (sent as null) */
	assignedTo?: string;
	customTags?: { mode: CustomTagMode; tags: string[] };
}

/** The PATCH body for the fields other than custom tags (those need the current list for Add and Remove). */
export function incidentPatchBody(patch: IncidentPatch): Record<string, unknown> {
	const body: Record<string, unknown> = {};
	if (patch.status !== undefined) body.status = patch.status;
	if (patch.classification !== undefined) body.classification = patch.classification;
	if (patch.determination !== undefined) body.determination = patch.determination;
	if (patch.assignedTo !== undefined) body.assignedTo = patch.assignedTo === '' ? null : patch.assignedTo;
	return body;
}

/** The keys Simplify gives, in this order (documented in the README). */
export const SIMPLE_INCIDENT_FIELDS = [
	'id',
	'displayName',
	'severity',
	'status',
	'classification',
	'determination',
	'assignedTo',
	'createdDateTime',
	'lastUpdateDateTime',
	'incidentWebUrl',
	'alertCount',
	'alertIds',
	'customTags',
	'tenantId',
	'dedupKey',
] as const;

type Json = Record<string, unknown>;

/** Enum fields Simplify gives in Graph's camelCase (Update incident's own example answers in PascalCase, e.g. "Active"). */
const ENUM_FIELDS = new Set(['severity', 'status', 'classification', 'determination']);

/**
 * The ticket-ready view of a decorated incident. `alertCount` and `alertIds` come from the expanded alerts (Expand
 * Alerts); without them both are null (Graph's incident has no alert count of its own). `customerLabel` is added when set.
 */
export function simplifyIncidentRecord(incident: Json): Json {
	const out: Json = {};
	const alerts = Array.isArray(incident.alerts) ? (incident.alerts as unknown[]) : undefined;
	for (const key of SIMPLE_INCIDENT_FIELDS) {
		if (key === 'alertCount') out.alertCount = alerts ? alerts.length : null;
		else if (key === 'alertIds') out.alertIds = alerts ? alerts.map((a) => (a && typeof a === 'object' ? ((a as Json).id ?? null) : null)) : null;
		else if (key === 'customTags') out.customTags = Array.isArray(incident.customTags) ? incident.customTags : [];
		else if (ENUM_FIELDS.has(key)) out[key] = typeof incident[key] === 'string' ? lowerFirst(incident[key] as string) : (incident[key] ?? null);
		else out[key] = incident[key] === undefined ? null : incident[key];
	}
	if (incident.customerLabel !== undefined) out.customerLabel = incident.customerLabel;
	return out;
}

/** The dedup key of an incident: `<tenant GUID>:incident:<id>` (never equal to an alert's `<tenant>:<alert id>`). */
export function incidentDedupKey(tenantId: string, incidentId: string): string {
	return `${tenantId}:incident:${incidentId}`;
}

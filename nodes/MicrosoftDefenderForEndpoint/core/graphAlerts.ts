/**
 * Microsoft Graph security `alerts_v2` beside the package's Defender for Endpoint vocabulary: the enum mapping
 * (Graph camelCase ↔ the PascalCase values this package documents), the structured alert query rendered as a
 * Graph `$filter`, the Defender-shaped fields Simplify shows for a Graph alert, and the related entities read from
 * its typed evidence. Pure: no n8n types, no HTTP. Unknown values pass through unchanged instead of failing.
 *
 * Sources: the alert resource type (https://learn.microsoft.com/en-us/graph/api/resources/security-alert: properties
 * and the alertStatus, alertSeverity, alertClassification, alertDetermination, serviceSource and detectionSource
 * enums), List alerts_v2 (https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2: `$filter` on
 * assignedTo, classification, determination, createdDateTime, lastUpdateDateTime, severity, serviceSource and status;
 * `$top`, `$skip`, `$count`), Update alert (https://learn.microsoft.com/en-us/graph/api/security-alert-update) and the
 * evidence types (https://learn.microsoft.com/en-us/graph/api/resources/security-alertevidence).
 */

/** The structured query of Get Many (and the read paths of other operations), rendered per backend. */
export interface AlertWhere {
	status?: string[];
	severity?: string[];
	category?: string[];
	detectionSource?: string[];
	assignedTo?: string;
	incidentId?: number;
	investigationId?: number;
	/** canonical 7-digit UTC timestamps */
	createdAfter?: string;
	createdBefore?: string;
	updatedAfter?: string;
	updatedBefore?: string;
	/** user-written Defender OData (Defender for Endpoint API only) */
	raw?: string;
	/** Graph only (the Defender list API cannot filter on them) */
	classification?: string[];
	determination?: string[];
	/**
	 * Graph's serviceSource: undefined = `microsoftDefenderForEndpoint` (what the Defender API lists), `all` = every
	 * Defender XDR source, or one serviceSource value
	 */
	serviceSource?: string;
}

/** A filter one API cannot apply: the message names the filter, the hint the API option that can. */
export class QueryNotSupportedError extends Error {
	constructor(
		message: string,
		readonly hint: string,
		readonly field: string,
	) {
		super(message);
		this.name = 'QueryNotSupportedError';
	}
}

// ------------------------------------------------------------------------------------------------ enums

/** Package value (PascalCase, as the Defender API spells it) → Graph value. */
export const STATUS_TO_GRAPH: Readonly<Record<string, string>> = { Unknown: 'unknown', New: 'new', InProgress: 'inProgress', Resolved: 'resolved' };
export const SEVERITY_TO_GRAPH: Readonly<Record<string, string>> = {
	UnSpecified: 'unknown',
	Informational: 'informational',
	Low: 'low',
	Medium: 'medium',
	High: 'high',
};
export const CLASSIFICATION_TO_GRAPH: Readonly<Record<string, string>> = {
	TruePositive: 'truePositive',
	InformationalExpectedActivity: 'informationalExpectedActivity',
	FalsePositive: 'falsePositive',
};
/**
 * Determinations. Graph's property list and SDKs name `compromisedUser`, `clean`, `insufficientData`,
 * `confirmedUserActivity`; the same page's value table names `compromisedAccount`, `notMalicious`,
 * `notEnoughDataToValidate`, `confirmedActivity`. The first set is sent (GRAPH_DETERMINATION_ALTERNATES is tried
 * when the service refuses it); both are read.
 */
export const DETERMINATION_TO_GRAPH: Readonly<Record<string, string>> = {
	MultiStagedAttack: 'multiStagedAttack',
	MaliciousUserActivity: 'maliciousUserActivity',
	CompromisedUser: 'compromisedUser',
	Malware: 'malware',
	Phishing: 'phishing',
	UnwantedSoftware: 'unwantedSoftware',
	Other: 'other',
	SecurityTesting: 'securityTesting',
	LineOfBusinessApplication: 'lineOfBusinessApplication',
	ConfirmedUserActivity: 'confirmedUserActivity',
	ConfirmedActivity: 'confirmedUserActivity',
	Clean: 'clean',
	NotMalicious: 'clean',
	InsufficientData: 'insufficientData',
};
export const GRAPH_DETERMINATION_ALTERNATES: Readonly<Record<string, string>> = {
	compromisedUser: 'compromisedAccount',
	clean: 'notMalicious',
	insufficientData: 'notEnoughDataToValidate',
	confirmedUserActivity: 'confirmedActivity',
};
const GRAPH_TO_DETERMINATION: Readonly<Record<string, string>> = {
	multiStagedAttack: 'MultiStagedAttack',
	maliciousUserActivity: 'MaliciousUserActivity',
	compromisedUser: 'CompromisedUser',
	compromisedAccount: 'CompromisedUser',
	malware: 'Malware',
	phishing: 'Phishing',
	unwantedSoftware: 'UnwantedSoftware',
	other: 'Other',
	securityTesting: 'SecurityTesting',
	lineOfBusinessApplication: 'LineOfBusinessApplication',
	confirmedUserActivity: 'ConfirmedUserActivity',
	confirmedActivity: 'ConfirmedActivity',
	clean: 'Clean',
	notMalicious: 'NotMalicious',
	insufficientData: 'InsufficientData',
	notEnoughDataToValidate: 'InsufficientData',
	// removed from the Defender API in 2022 but still Graph members
	apt: 'Apt',
	securityPersonnel: 'SecurityPersonnel',
};
/**
 * Defender for Endpoint `detectionSource` (observed values) → Graph `detectionSource`. ThirdPartySensors has no Graph
 * member and cannot be filtered on Graph.
 */
export const DETECTION_SOURCE_TO_GRAPH: Readonly<Record<string, string>> = {
	WindowsDefenderAtp: 'microsoftDefenderForEndpoint',
	WindowsDefenderAv: 'antivirus',
	WindowsDefenderSmartScreen: 'smartScreen',
	CustomerTI: 'customTi',
	CustomDetection: 'customDetection',
	AutomatedInvestigation: 'automatedInvestigation',
	ThreatExperts: 'microsoftThreatExperts',
	MTP: 'microsoft365Defender',
	OfficeATP: 'microsoftDefenderForOffice365',
	Manual: 'manual',
};

/** Graph serviceSource values (the first is the one the Defender for Endpoint API lists). */
export const SERVICE_SOURCES = [
	'microsoftDefenderForEndpoint',
	'microsoftDefenderForIdentity',
	'microsoftDefenderForCloudApps',
	'microsoftDefenderForOffice365',
	'microsoft365Defender',
	'azureAdIdentityProtection',
	'microsoftAppGovernance',
	'dataLossPrevention',
	'microsoftDefenderForCloud',
] as const;
export const MDE_SERVICE_SOURCE = 'microsoftDefenderForEndpoint';
export const SERVICE_SOURCE_LABELS: Readonly<Record<string, string>> = {
	microsoftDefenderForEndpoint: 'Microsoft Defender for Endpoint',
	microsoftDefenderForIdentity: 'Microsoft Defender for Identity',
	microsoftDefenderForCloudApps: 'Microsoft Defender for Cloud Apps',
	microsoftDefenderForOffice365: 'Microsoft Defender for Office 365',
	microsoft365Defender: 'Microsoft Defender XDR',
	azureAdIdentityProtection: 'Microsoft Entra ID Protection',
	microsoftAppGovernance: 'App Governance',
	dataLossPrevention: 'Microsoft Purview Data Loss Prevention',
	microsoftDefenderForCloud: 'Microsoft Defender for Cloud',
};
/** The Service Source filter value for "every Defender XDR source". */
export const ALL_SERVICE_SOURCES = 'all';

function invert(map: Readonly<Record<string, string>>): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(map)) if (!(v in out)) out[v] = k;
	return out;
}
const GRAPH_TO_STATUS = invert(STATUS_TO_GRAPH);
const GRAPH_TO_SEVERITY = invert(SEVERITY_TO_GRAPH);
const GRAPH_TO_CLASSIFICATION = invert(CLASSIFICATION_TO_GRAPH);
const GRAPH_TO_DETECTION_SOURCE = invert(DETECTION_SOURCE_TO_GRAPH);

/** `InProgress` → `inProgress` for a value no table knows (passes through instead of failing). */
function lowerFirst(value: string): string {
	return value ? value.charAt(0).toLowerCase() + value.slice(1) : value;
}
function upperFirst(value: string): string {
	return value ? value.charAt(0).toUpperCase() + value.slice(1) : value;
}

export type GraphEnum = 'status' | 'severity' | 'classification' | 'determination' | 'detectionSource';

const TO_GRAPH: Record<GraphEnum, Readonly<Record<string, string>>> = {
	status: STATUS_TO_GRAPH,
	severity: SEVERITY_TO_GRAPH,
	classification: CLASSIFICATION_TO_GRAPH,
	determination: DETERMINATION_TO_GRAPH,
	detectionSource: DETECTION_SOURCE_TO_GRAPH,
};
const FROM_GRAPH: Record<GraphEnum, Readonly<Record<string, string>>> = {
	status: GRAPH_TO_STATUS,
	severity: GRAPH_TO_SEVERITY,
	classification: GRAPH_TO_CLASSIFICATION,
	determination: GRAPH_TO_DETERMINATION,
	detectionSource: GRAPH_TO_DETECTION_SOURCE,
};

/** A package value as Graph spells it; unknown values pass through (camelCased for the PascalCase enums). */
export function toGraphEnum(kind: GraphEnum, value: string): string {
	const mapped = TO_GRAPH[kind][value];
	if (mapped !== undefined) return mapped;
	return kind === 'detectionSource' ? value : lowerFirst(value);
}

/**
 * A Graph value in the package's spelling. Graph's `unknown` classification and determination mean "not set",
 * which the Defender API shows as null. Values no table knows (a new member, `unknownFutureValue`) pass through.
 */
export function fromGraphEnum(kind: GraphEnum, value: unknown): unknown {
	if (typeof value !== 'string') return value ?? null;
	if ((kind === 'classification' || kind === 'determination') && value === 'unknown') return null;
	const mapped = FROM_GRAPH[kind][value];
	if (mapped !== undefined) return mapped;
	if (value === 'unknownFutureValue' || kind === 'detectionSource') return value;
	return upperFirst(value);
}

// ------------------------------------------------------------------------------------------------ query

/** OData string literal: single quotes doubled. */
export function graphString(value: string): string {
	return `'${value.replace(/'/g, "''")}'`;
}

function anyOf(field: string, values: string[]): string {
	const unique = [...new Set(values)];
	const parts = unique.map((v) => `${field} eq ${graphString(v)}`);
	return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

/** A clause on a property the documentation does not list as filterable: sent, and applied locally if refused. */
export interface OptionalClause {
	field: string;
	clause: string;
	test: (alert: Record<string, unknown>) => boolean;
}

export interface GraphFilterPlan {
	/** the whole `$filter` (documented and optional clauses), undefined when empty */
	filter?: string;
	/** only the documented clauses (what is sent when the service refuses an optional one) */
	documentedFilter?: string;
	optional: OptionalClause[];
}

const DEFENDER_OPTION = 'set the credential\'s Alerts API to Defender for Endpoint API for this filter';

/**
 * The Graph `$filter` for a structured query. Documented filter properties are always sent; `category`, `incidentId`
 * and `detectionSource` are not in the documented list, so they are marked optional (the caller sends them, and
 * filters locally when the service refuses them). Defender-only filters throw QueryNotSupportedError.
 */
export function graphFilterPlan(where: AlertWhere): GraphFilterPlan {
	if (where.raw !== undefined && where.raw.trim() !== '') {
		throw new QueryNotSupportedError(
			'Raw OData Filter is written for the Defender for Endpoint API and cannot be sent to Microsoft Graph',
			`Use the Status, Severity, Classification, Determination, Assigned To, Service Source and time filters, or ${DEFENDER_OPTION}.`,
			'rawFilter',
		);
	}
	if (where.investigationId !== undefined) {
		throw new QueryNotSupportedError(
			'Investigation ID is a Defender for Endpoint API filter: Microsoft Graph alerts have no investigation ID',
			`Remove the filter, or ${DEFENDER_OPTION}.`,
			'investigationId',
		);
	}
	const documented: string[] = [];
	const optional: OptionalClause[] = [];
	if (where.status?.length) documented.push(anyOf('status', where.status.map((v) => toGraphEnum('status', v))));
	if (where.severity?.length) documented.push(anyOf('severity', where.severity.map((v) => toGraphEnum('severity', v))));
	if (where.classification?.length) documented.push(anyOf('classification', where.classification.map((v) => toGraphEnum('classification', v))));
	if (where.determination?.length) documented.push(anyOf('determination', where.determination.map((v) => toGraphEnum('determination', v))));
	if (where.assignedTo !== undefined) documented.push(`assignedTo eq ${graphString(where.assignedTo)}`);
	const source = where.serviceSource ?? MDE_SERVICE_SOURCE;
	if (source !== ALL_SERVICE_SOURCES) documented.push(`serviceSource eq ${graphString(source)}`);
	if (where.createdAfter) documented.push(`createdDateTime ge ${where.createdAfter}`);
	if (where.createdBefore) documented.push(`createdDateTime lt ${where.createdBefore}`);
	if (where.updatedAfter) documented.push(`lastUpdateDateTime ge ${where.updatedAfter}`);
	if (where.updatedBefore) documented.push(`lastUpdateDateTime lt ${where.updatedBefore}`);
	if (where.detectionSource?.length) {
		const unmapped = where.detectionSource.filter((v) => DETECTION_SOURCE_TO_GRAPH[v] === undefined);
		if (unmapped.length > 0) {
			throw new QueryNotSupportedError(
				`Detection Source ${unmapped.map((v) => `"${v}"`).join(', ')} has no Microsoft Graph equivalent`,
				`Graph knows: ${Object.keys(DETECTION_SOURCE_TO_GRAPH).join(', ')}. Remove the others, or ${DEFENDER_OPTION}.`,
				'detectionSource',
			);
		}
		const values = new Set(where.detectionSource.map((v) => DETECTION_SOURCE_TO_GRAPH[v]));
		optional.push({ field: 'detectionSource', clause: anyOf('detectionSource', [...values]), test: (a) => typeof a.detectionSource === 'string' && values.has(a.detectionSource) });
	}
	if (where.category?.length) {
		const values = new Set(where.category);
		optional.push({ field: 'category', clause: anyOf('category', [...values]), test: (a) => typeof a.category === 'string' && values.has(a.category) });
	}
	if (where.incidentId !== undefined) {
		const wanted = String(where.incidentId);
		optional.push({ field: 'incidentId', clause: `incidentId eq ${graphString(wanted)}`, test: (a) => a.incidentId !== null && a.incidentId !== undefined && String(a.incidentId) === wanted });
	}
	const join = (clauses: string[]) => (clauses.length ? clauses.join(' and ') : undefined);
	return { filter: join([...documented, ...optional.map((o) => o.clause)]), documentedFilter: join(documented), optional };
}

/** Filters only Graph has: the message names them and the option that has them. Throws for the Defender API. */
export function assertDefenderCanFilter(where: AlertWhere): void {
	const graphOnly = (field: string, label: string) =>
		new QueryNotSupportedError(
			`${label} is a Microsoft Graph filter: the Defender for Endpoint API cannot filter alerts by it`,
			'Remove the filter, or set the credential\'s Alerts API to Microsoft Graph Security API (its customers must have consented to SecurityAlert.Read.All).',
			field,
		);
	if (where.classification?.length) throw graphOnly('classification', 'Classification');
	if (where.determination?.length) throw graphOnly('determination', 'Determination');
	if (where.serviceSource !== undefined && where.serviceSource !== MDE_SERVICE_SOURCE) throw graphOnly('serviceSource', 'Service Source');
}

const ORDER_FIELDS: Readonly<Record<string, string>> = { alertCreationTime: 'createdDateTime', lastUpdateTime: 'lastUpdateDateTime' };

/** What a Microsoft Graph 400 answer to a list request refused, read from its message (alerts_v2 and incidents). */
export interface GraphListRefusal {
	/** the page limit the service named ("The limit of '50' for Top query has been exceeded") */
	topLimit?: number;
	/** the message is about `$orderby` */
	orderBy: boolean;
	/** the message names this property (an undocumented filter property it refused) */
	mentions(field: string): boolean;
}

/** The wording is not documented: read loosely, as the emulator and public reports show it. */
export function readGraphListRefusal(message: string): GraphListRefusal {
	const top = /limit of '(\d+)' for Top query/i.exec(message);
	const limit = top ? Number(top[1]) : undefined;
	return {
		topLimit: limit !== undefined && limit >= 1 ? limit : undefined,
		orderBy: /orderby|order by/i.test(message),
		mentions: (field) => message.toLowerCase().includes(field.toLowerCase()),
	};
}

/** `alertCreationTime desc` → `createdDateTime desc` (fields this package sorts by; others pass through). */
export function graphOrderBy(orderBy: string | undefined): string | undefined {
	if (!orderBy) return undefined;
	return orderBy
		.split(',')
		.map((part) => {
			const [field, ...rest] = part.trim().split(/\s+/);
			return [ORDER_FIELDS[field] ?? field, ...rest].join(' ');
		})
		.join(',');
}

// ------------------------------------------------------------------------------------------------ alerts

type Json = Record<string, unknown>;

/** A Graph alerts_v2 record (it has createdDateTime and no alertCreationTime). */
export function isGraphAlert(alert: unknown): alert is Json {
	return !!alert && typeof alert === 'object' && 'createdDateTime' in alert && !('alertCreationTime' in alert);
}

/**
 * The id that names an alert across both APIs: for a Graph alert from Defender for Endpoint its `providerAlertId`
 * (the Defender alert id), otherwise its own id. dedupKey and portal links use it, so they survive the switch.
 */
export function stableAlertId(alert: { id: string } & Json): string {
	if (isGraphAlert(alert) && alert.serviceSource === MDE_SERVICE_SOURCE && typeof alert.providerAlertId === 'string' && alert.providerAlertId !== '') {
		return alert.providerAlertId;
	}
	return alert.id;
}

function evidenceOf(alert: Json, type: string): Json[] {
	const list = Array.isArray(alert.evidence) ? (alert.evidence as unknown[]) : [];
	const suffix = `.${type}`;
	return list.filter((e): e is Json => !!e && typeof e === 'object' && typeof (e as Json)['@odata.type'] === 'string' && ((e as Json)['@odata.type'] as string).endsWith(suffix));
}

function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null;
}

/** The user account of a userEvidence (or a process's user account). */
function accountOf(e: Json | undefined): Json | undefined {
	const account = e?.userAccount;
	return account && typeof account === 'object' ? (account as Json) : undefined;
}

/**
 * The Defender-named fields Simplify shows, read from a Graph alert: the enums in the package's spelling, times from
 * createdDateTime/lastUpdateDateTime, device and user from the typed evidence, incidentId as a number.
 */
export function defenderFieldsOfGraphAlert(alert: Json): Json {
	const device = evidenceOf(alert, 'deviceEvidence')[0];
	const user = accountOf(evidenceOf(alert, 'userEvidence')[0]);
	const userName = str(user?.accountName);
	const incident = alert.incidentId;
	const incidentNumber = typeof incident === 'string' && /^\d{1,15}$/.test(incident) ? Number(incident) : (incident ?? null);
	return {
		id: alert.id,
		title: alert.title ?? null,
		severity: fromGraphEnum('severity', alert.severity),
		status: fromGraphEnum('status', alert.status),
		category: alert.category ?? null,
		detectionSource: fromGraphEnum('detectionSource', alert.detectionSource),
		alertCreationTime: alert.createdDateTime ?? null,
		lastUpdateTime: alert.lastUpdateDateTime ?? null,
		computerDnsName: str(device?.deviceDnsName),
		machineId: str(device?.mdeDeviceId),
		relatedUser: userName ? { userName, domainName: str(user?.domainName) ?? '' } : null,
		assignedTo: alert.assignedTo ?? null,
		classification: fromGraphEnum('classification', alert.classification),
		determination: fromGraphEnum('determination', alert.determination),
		incidentId: incidentNumber,
		mitreTechniques: alert.mitreTechniques ?? null,
	};
}

export type RelatedKindName = 'domains' | 'files' | 'ips' | 'machine' | 'user';

function hostOf(url: string): string {
	try {
		return new URL(url).hostname;
	} catch {
		return url.replace(/^[a-z]+:\/\//i, '').split(/[/?#:]/)[0];
	}
}

/**
 * Related entities from a Graph alert's evidence, in the shapes Get Related gives on the Defender API where a field
 * maps (domains `{host}`, IPs `{id}`, machine and user with Defender field names), the evidence itself otherwise.
 */
export function relatedFromGraphEvidence(alert: Json, kind: RelatedKindName): unknown {
	switch (kind) {
		case 'domains': {
			const hosts = new Set<string>();
			for (const e of evidenceOf(alert, 'urlEvidence')) if (str(e.url)) hosts.add(hostOf(e.url as string));
			return [...hosts].map((host) => ({ host }));
		}
		case 'ips': {
			const ips = new Set<string>();
			for (const e of evidenceOf(alert, 'ipEvidence')) if (str(e.ipAddress)) ips.add(e.ipAddress as string);
			return [...ips].map((id) => ({ id }));
		}
		case 'files': {
			const seen = new Set<string>();
			const files: Json[] = [];
			const add = (details: unknown) => {
				if (!details || typeof details !== 'object') return;
				const d = details as Json;
				const key = str(d.sha1) ?? str(d.sha256) ?? `${String(d.filePath ?? '')}\\${String(d.fileName ?? '')}`;
				if (!key || key === '\\' || seen.has(key)) return;
				seen.add(key);
				files.push({ ...d });
			};
			for (const e of evidenceOf(alert, 'fileEvidence')) add(e.fileDetails);
			for (const e of evidenceOf(alert, 'processEvidence')) add(e.imageFile);
			return files;
		}
		case 'machine': {
			const d = evidenceOf(alert, 'deviceEvidence')[0];
			if (!d) return null;
			const ips = Array.isArray(d.ipInterfaces) ? (d.ipInterfaces as unknown[]).filter((x): x is string => typeof x === 'string') : [];
			return {
				id: d.mdeDeviceId ?? null,
				computerDnsName: d.deviceDnsName ?? null,
				aadDeviceId: d.azureAdDeviceId ?? null,
				osPlatform: d.osPlatform ?? null,
				osBuild: d.osBuild ?? null,
				version: d.version ?? null,
				healthStatus: d.healthStatus ?? null,
				riskScore: d.riskScore ?? null,
				rbacGroupId: d.rbacGroupId ?? null,
				rbacGroupName: d.rbacGroupName ?? null,
				onboardingStatus: d.onboardingStatus ?? null,
				defenderAvStatus: d.defenderAvStatus ?? null,
				machineTags: Array.isArray(d.tags) ? d.tags : [],
				firstSeen: d.firstSeenDateTime ?? null,
				lastIpAddress: ips[0] ?? null,
				ipAddresses: ips,
			};
		}
		case 'user': {
			const account = accountOf(evidenceOf(alert, 'userEvidence')[0]);
			if (!account || !str(account.accountName)) return null;
			const domain = str(account.domainName);
			return {
				id: domain ? `${domain.toLowerCase()}\\${String(account.accountName)}` : account.accountName,
				accountName: account.accountName,
				accountDomain: domain ? domain.toLowerCase() : null,
				accountSid: account.userSid ?? null,
				aadUserId: account.azureAdUserId ?? null,
				userPrincipalName: account.userPrincipalName ?? null,
				displayName: account.displayName ?? null,
			};
		}
	}
}

/** The Graph PATCH body for an alert patch (comment excluded: Graph adds comments with POST …/comments). */
export function graphPatchBody(patch: { status?: string; assignedTo?: string; classification?: string; determination?: string }): Json {
	const body: Json = {};
	if (patch.status !== undefined) body.status = toGraphEnum('status', patch.status);
	if (patch.assignedTo !== undefined) body.assignedTo = patch.assignedTo;
	if (patch.classification !== undefined) body.classification = toGraphEnum('classification', patch.classification);
	if (patch.determination !== undefined) body.determination = toGraphEnum('determination', patch.determination);
	return body;
}

/** Whether a Graph alert shows the patch's values (after the mapping), e.g. for a read-back. */
export function graphAlertShows(alert: Json, patch: { status?: string; assignedTo?: string; classification?: string; determination?: string }): boolean {
	const fields = defenderFieldsOfGraphAlert(alert);
	if (patch.status !== undefined && fields.status !== patch.status) return false;
	if (patch.assignedTo !== undefined && fields.assignedTo !== patch.assignedTo) return false;
	if (patch.classification !== undefined && fields.classification !== patch.classification) return false;
	if (patch.determination !== undefined) {
		const sent = toGraphEnum('determination', patch.determination);
		const got = alert.determination;
		if (got !== sent && got !== GRAPH_DETERMINATION_ALTERNATES[sent]) return false;
	}
	return true;
}

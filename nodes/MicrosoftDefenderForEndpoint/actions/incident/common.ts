/** What the incident operations share: reading and checking their parameters (before any request) and shaping output. */
import type { IDataObject, IExecuteFunctions, INode } from 'n8n-workflow';

import type { IncidentBackend, IncidentRecord } from '../../backend/incidents';
import {
	type CustomTagMode,
	INCIDENT_CLASSIFICATIONS,
	INCIDENT_DETERMINATIONS,
	INCIDENT_DETERMINATIONS_FOR,
	INCIDENT_SEVERITIES,
	INCIDENT_STATUSES,
	INCIDENT_WRITABLE_STATUSES,
	incidentDedupKey,
	type IncidentPatch,
	type IncidentWhere,
	simplifyIncidentRecord,
} from '../../core/graphIncidents';
import { INCIDENT_URL_EXTRACT } from '../../descriptions/incident';
import { outputTenantId } from '../../helpers/output';
import { type CommonParams, readLimit } from '../../helpers/params';
import { inputError, toCanonicalUtc, toStringList, validateEnum, validateEnumList } from '../../helpers/validation';

const INCIDENT_ID_RE = /^\d{1,20}$/;
/** Longest custom tag sent (not documented; the portal's tag box takes short labels): a safe cap, checked before any request. */
export const MAX_TAG_LENGTH = 100;
const MAX_TAGS = 50;

function shorten(value: string, max = 80): string {
	return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** The incident ID from the `incidentId` resource locator (ID or portal link), checked before any request. */
export function readIncidentId(ctx: IExecuteFunctions, i: number): string {
	const node = ctx.getNode();
	const raw = ctx.getNodeParameter('incidentId', i, '') as unknown;
	let value: unknown = raw;
	if (raw && typeof raw === 'object' && 'value' in (raw as object)) value = (raw as { value?: unknown }).value;
	let text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	if (!text) throw inputError(node, i, 'Incident ID is empty', 'Enter an incident ID such as 2972395, paste the incident\'s portal link, or map "id" from Incident → Get Many.');
	if (/^https:\/\//i.test(text)) {
		const match = new RegExp(`^${INCIDENT_URL_EXTRACT}(?:[/?#].*)?$`).exec(text);
		if (!match) {
			throw inputError(node, i, `"${shorten(text)}" is not a Defender portal incident link`, 'Paste a link such as https://security.microsoft.com/incidents/2972395?tid=…, or switch the Incident field to "By ID".');
		}
		text = match[1];
	}
	if (!INCIDENT_ID_RE.test(text)) {
		throw inputError(node, i, `Incident ID "${shorten(text)}" does not look like an incident ID`, 'Incident IDs are numbers such as 2972395 (the "id" of Incident → Get Many, or the number in the incident\'s portal link). An alert ID (da…) is not an incident ID.');
	}
	return text;
}

/** Validated filters, paging and output settings of Get Many (no request made). */
export function readIncidentListSettings(ctx: IExecuteFunctions, i: number) {
	const node = ctx.getNode();
	const limit = readLimit(ctx, i);
	const f = ctx.getNodeParameter('filters', i, {}) as IDataObject;
	const tz = ctx.getTimezone();
	const assignedTo = typeof f.assignedTo === 'string' && f.assignedTo.trim() ? f.assignedTo.trim() : undefined;
	const where: IncidentWhere = {
		status: validateEnumList(node, i, 'Status', f.status, INCIDENT_STATUSES),
		severity: validateEnumList(node, i, 'Severity', f.severity, INCIDENT_SEVERITIES),
		classification: validateEnumList(node, i, 'Classification', f.classification, INCIDENT_CLASSIFICATIONS),
		determination: validateEnumList(node, i, 'Determination', f.determination, INCIDENT_DETERMINATIONS),
		assignedTo,
		createdAfter: toCanonicalUtc(node, i, 'Created After', f.createdAfter, tz),
		createdBefore: toCanonicalUtc(node, i, 'Created Before', f.createdBefore, tz),
		updatedAfter: toCanonicalUtc(node, i, 'Last Updated After', f.updatedAfter, tz),
		updatedBefore: toCanonicalUtc(node, i, 'Last Updated Before', f.updatedBefore, tz),
	};
	const range = (label: string, after?: string, before?: string) => {
		if (after && before && after >= before) throw inputError(node, i, `${label}: the "after" time ${after} is not before the "before" time ${before}`, 'No incident can match: fix one of the two times.');
	};
	range('Created', where.createdAfter, where.createdBefore);
	range('Last Updated', where.updatedAfter, where.updatedBefore);
	return {
		limit,
		where,
		expandAlerts: ctx.getNodeParameter('expandAlerts', i, false) === true,
		simplify: ctx.getNodeParameter('simplify', i, true) === true,
	};
}

function text(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const s = typeof value === 'string' ? value : String(value);
	return s.trim() === '' ? undefined : s.trim();
}

/** The Update Fields collection as an incident patch, checked before any request. */
export function readIncidentPatch(node: INode, i: number, fields: IDataObject): IncidentPatch {
	const patch: IncidentPatch = {};
	const status = text(fields.status);
	if (status !== undefined) patch.status = validateEnum(node, i, 'Status', status, INCIDENT_WRITABLE_STATUSES);
	const classification = text(fields.classification);
	if (classification !== undefined) patch.classification = validateEnum(node, i, 'Classification', classification, INCIDENT_CLASSIFICATIONS);
	const determination = text(fields.determination);
	if (determination !== undefined) {
		patch.determination = validateEnum(node, i, 'Determination', determination, INCIDENT_DETERMINATIONS);
		const fits = patch.classification ? INCIDENT_DETERMINATIONS_FOR[patch.classification] : undefined;
		if (fits && !fits.includes(patch.determination)) {
			throw inputError(node, i, `Determination "${patch.determination}" does not fit Classification "${patch.classification}"`, `For ${patch.classification} use one of: ${fits.join(', ')}.`);
		}
	}
	const assignedTo = text(fields.assignedTo);
	if (assignedTo !== undefined) patch.assignedTo = assignedTo;
	if ('customTags' in fields || 'customTagsMode' in fields) {
		const modeRaw = fields.customTagsMode === undefined || fields.customTagsMode === '' ? 'add' : fields.customTagsMode;
		const mode = validateEnum(node, i, 'Custom Tags Mode', modeRaw, ['add', 'remove', 'replace']) as CustomTagMode;
		const tags = toStringList(fields.customTags);
		for (const tag of tags) {
			if (tag.length > MAX_TAG_LENGTH) throw inputError(node, i, `Custom tag "${shorten(tag)}" is ${tag.length} characters long; at most ${MAX_TAG_LENGTH} are sent`, 'Use short labels; put details in a comment.');
		}
		if (tags.length > MAX_TAGS) throw inputError(node, i, `Custom Tags lists ${tags.length} tags; at most ${MAX_TAGS} per update`, 'Send fewer tags.');
		if (tags.length === 0 && mode !== 'replace') {
			throw inputError(node, i, 'Custom Tags is empty', `Enter the tags to ${mode}, comma separated. To remove every tag, use Custom Tags Mode "Replace" with an empty Custom Tags.`);
		}
		patch.customTags = { mode, tags };
	}
	if (Object.keys(patch).length === 0) {
		throw inputError(node, i, 'Update Fields is empty', 'Add at least one field to change: Status, Classification, Determination, Assigned To or Custom Tags.');
	}
	return patch;
}

/** Adds portalUrl, tenantId, dedupKey and customerLabel to the incident object itself (no copy of large pages). */
export function decorateIncident(incident: IncidentRecord, backend: Pick<IncidentBackend, 'tenantId' | 'portalUrl'>, common: Pick<CommonParams, 'customerLabel'>): IDataObject {
	const out = incident as unknown as IDataObject;
	const tenantId = outputTenantId(backend, incident);
	out.portalUrl = backend.portalUrl(incident.id);
	out.tenantId = tenantId;
	out.dedupKey = incidentDedupKey(tenantId, incident.id);
	if (common.customerLabel !== undefined) out.customerLabel = common.customerLabel;
	return out;
}

export function shapeIncident(incident: IncidentRecord, backend: Pick<IncidentBackend, 'tenantId' | 'portalUrl'>, common: Pick<CommonParams, 'customerLabel'>, simplify: boolean): IDataObject {
	const decorated = decorateIncident(incident, backend, common);
	return simplify ? (simplifyIncidentRecord(decorated) as IDataObject) : decorated;
}

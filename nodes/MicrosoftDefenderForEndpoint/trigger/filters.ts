/** Server-side filters of the trigger: the same validation as Get Many; each backend renders them (trigger/settings.ts). */
import type { INode } from 'n8n-workflow';

import type { AlertWhere } from '../core/graphAlerts';
import { CATEGORY_OPTIONS } from '../descriptions/filters';
import { ALERT_STATUSES, DETECTION_SOURCES, SEVERITIES } from '../helpers/enums';
import { validateEnumList, validateWordList } from '../helpers/validation';

/** Multi-option values, or (from an expression) a comma/newline-separated string. */
export interface TriggerFilters {
	severity?: string[] | string;
	status?: string[] | string;
	detectionSource?: string[] | string;
	category?: string[] | string;
}

/**
 * The Filters parameter as a structured query (each API renders it: trigger/graphStream.ts for Microsoft Graph).
 * Throws NodeOperationError (before any request) for a value Defender does not have. Polls have no item: index 0.
 */
export function readTriggerWhere(node: INode, filters: TriggerFilters): AlertWhere {
	const where: AlertWhere = {};
	const severity = validateEnumList(node, 0, 'Severity', filters.severity, SEVERITIES);
	const status = validateEnumList(node, 0, 'Status', filters.status, ALERT_STATUSES);
	const detectionSource = validateWordList(node, 0, 'Detection Source', filters.detectionSource, DETECTION_SOURCES);
	const category = validateWordList(node, 0, 'Category', filters.category, CATEGORY_OPTIONS);
	if (severity?.length) where.severity = severity;
	if (status?.length) where.status = status;
	if (detectionSource?.length) where.detectionSource = detectionSource;
	if (category?.length) where.category = category;
	return where;
}

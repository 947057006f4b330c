/** Server-side filters of the trigger: the same validation and OData building as Get Many. */
import type { INode } from 'n8n-workflow';

import { CATEGORY_OPTIONS } from '../descriptions/filters';
import { ALERT_STATUSES, DETECTION_SOURCES, SEVERITIES } from '../helpers/enums';
import { buildAlertFilter } from '../helpers/odata';
import { validateEnumList, validateWordList } from '../helpers/validation';

/** Multi-option values, or (from an expression) a comma/newline-separated string. */
export interface TriggerFilters {
	severity?: string[] | string;
	status?: string[] | string;
	detectionSource?: string[] | string;
	category?: string[] | string;
}

/** Throws NodeOperationError (before any request) for a value Defender does not have. Polls have no item: index 0. */
export function buildTriggerFilter(node: INode, filters: TriggerFilters): string | undefined {
	return buildAlertFilter({
		severity: validateEnumList(node, 0, 'Severity', filters.severity, SEVERITIES),
		status: validateEnumList(node, 0, 'Status', filters.status, ALERT_STATUSES),
		detectionSource: validateWordList(node, 0, 'Detection Source', filters.detectionSource, DETECTION_SOURCES),
		category: validateWordList(node, 0, 'Category', filters.category, CATEGORY_OPTIONS),
	});
}

/** Alert filters shared by Get Many and the trigger (values are checked again before any request). */
import type { INodeProperties } from 'n8n-workflow';

import { ALERT_STATUSES, CREATE_CATEGORIES, DETECTION_SOURCES, OBSERVED_CATEGORIES, SEVERITIES, humanize } from '../helpers/enums';

export const CATEGORY_OPTIONS = [...new Set([...CREATE_CATEGORIES, ...OBSERVED_CATEGORIES])].sort();

export const categoryFilter: INodeProperties = {
	displayName: 'Category',
	name: 'category',
	type: 'multiOptions',
	options: CATEGORY_OPTIONS.map((c) => ({ name: humanize(c), value: c })),
	default: [],
	description: 'Only alerts in any of these categories. An expression may return other category names.',
};

export const detectionSourceFilter: INodeProperties = {
	displayName: 'Detection Source',
	name: 'detectionSource',
	type: 'multiOptions',
	options: DETECTION_SOURCES.map((d) => ({ name: d, value: d })),
	default: [],
	description: 'Only alerts from any of these detection sources. An expression may return other source names, e.g. {{ ["CustomDetection", "MyOtherSource"] }}.',
};

export const severityFilter: INodeProperties = {
	displayName: 'Severity',
	name: 'severity',
	type: 'multiOptions',
	options: SEVERITIES.map((s) => ({ name: s === 'UnSpecified' ? 'Unspecified' : s, value: s })),
	default: [],
	description: 'Only alerts with any of these severities',
};

export const statusFilter: INodeProperties = {
	displayName: 'Status',
	name: 'status',
	type: 'multiOptions',
	options: ALERT_STATUSES.map((s) => ({ name: humanize(s), value: s })),
	default: [],
	description: 'Only alerts with any of these statuses',
};

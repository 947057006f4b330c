import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { CreateByReferenceInput } from '../../backend/types';
import { optionsCollection, simplifySingleAlert } from '../../descriptions/common';
import { CREATE_CATEGORIES, CREATE_SEVERITIES, humanize } from '../../helpers/enums';
import { decorateAlert, simplifyAlert } from '../../helpers/output';
import { backendFor } from '../../backend';
import { readCommon } from '../../helpers/params';
import { inputError, toCanonicalUtc, validateEnum } from '../../helpers/validation';

const MACHINE_ID_RE = /^[0-9a-f]{40}$/i;

const properties: INodeProperties[] = [
	{
		displayName: 'Event Time',
		name: 'eventTime',
		type: 'dateTime',
		default: '',
		required: true,
		description:
			'Exact time of the event, as advanced hunting returned it (Timestamp), e.g. 2025-03-04T09:15:22.4817263Z. Keep all fraction digits: Defender matches the event by it.',
	},
	{
		displayName: 'Report ID',
		name: 'reportId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 12345',
		description: 'The event\'s ReportId from advanced hunting',
	},
	{
		displayName: 'Machine ID',
		name: 'machineId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 3f2a6b1c9d8e7f60514a2b3c4d5e6f708192a3b4',
		description: 'The 40-character device ID (DeviceId in advanced hunting)',
	},
	{
		displayName: 'Severity',
		name: 'severity',
		type: 'options',
		options: CREATE_SEVERITIES.map((s) => ({ name: s, value: s })),
		default: 'Medium',
		required: true,
	},
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: '',
		required: true,
		description: 'Alert title; an open alert with the same title on the same device is merged with the new one',
	},
	{
		displayName: 'Description',
		name: 'description',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		required: true,
	},
	{
		displayName: 'Recommended Action',
		name: 'recommendedAction',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		required: true,
		description: 'What the analyst should do',
	},
	{
		displayName: 'Category',
		name: 'category',
		type: 'options',
		options: [...CREATE_CATEGORIES].sort().map((c) => ({ name: humanize(c), value: c })),
		default: 'SuspiciousActivity',
		required: true,
	},
	...simplifySingleAlert,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['createByReference'] } }, properties);

function requiredText(ctx: IExecuteFunctions, i: number, name: string, label: string): string {
	const raw = ctx.getNodeParameter(name, i, '') as unknown;
	const value = raw === undefined || raw === null ? '' : String(raw).trim();
	if (!value) throw inputError(ctx.getNode(), i, `${label} is empty`, `All eight fields are required to create an alert by reference; enter the ${label}.`);
	return value;
}

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const eventTime = toCanonicalUtc(node, i, 'Event Time', this.getNodeParameter('eventTime', i, ''), this.getTimezone());
	if (!eventTime) throw inputError(node, i, 'Event Time is empty', 'Copy the event\'s Timestamp from advanced hunting, with all its fraction digits.');
	const machineId = requiredText(this, i, 'machineId', 'Machine ID');
	if (!MACHINE_ID_RE.test(machineId)) {
		throw inputError(node, i, `Machine ID "${machineId.slice(0, 60)}" is not a Defender device ID`, 'Device IDs are 40 hexadecimal characters (DeviceId in advanced hunting, id of a machine).');
	}
	const input: CreateByReferenceInput = {
		eventTime,
		reportId: requiredText(this, i, 'reportId', 'Report ID'),
		machineId: machineId.toLowerCase(),
		severity: validateEnum(node, i, 'Severity', this.getNodeParameter('severity', i, ''), CREATE_SEVERITIES),
		title: requiredText(this, i, 'title', 'Title'),
		description: requiredText(this, i, 'description', 'Description'),
		recommendedAction: requiredText(this, i, 'recommendedAction', 'Recommended Action'),
		category: validateEnum(node, i, 'Category', this.getNodeParameter('category', i, ''), CREATE_CATEGORIES),
	};
	const simplify = this.getNodeParameter('simplify', i, false) as boolean;
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const alert = decorateAlert(await backend.createAlertByReference(input), backend, common);
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(simplify ? simplifyAlert(alert) : alert), { itemData: { item: i } });
}

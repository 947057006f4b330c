import type { INodeProperties } from 'n8n-workflow';

import { CLASSIFICATION_LABELS, CLASSIFICATIONS, WRITABLE_STATUSES, humanize } from '../helpers/enums';
import { MAX_COMMENT_LENGTH } from '../helpers/validation';

export const updateFieldsCollection: INodeProperties = {
	displayName: 'Update Fields',
	name: 'updateFields',
	type: 'collection',
	placeholder: 'Add Field',
	default: {},
	description: 'At least one field is required. Fields not added keep their current value.',
	options: [
		{
			displayName: 'Assigned To',
			name: 'assignedTo',
			type: 'string',
			default: '',
			placeholder: 'e.g. analyst@contoso.com',
			description: 'Owner of the alert, usually a user principal name',
		},
		{
			displayName: 'Classification',
			name: 'classification',
			type: 'options',
			options: CLASSIFICATIONS.map((c) => ({ name: CLASSIFICATION_LABELS[c], value: c })),
			default: 'TruePositive',
			description: 'Whether the alert is a real threat, expected activity or a false alarm. Determination options depend on it.',
		},
		{
			displayName: 'Comment',
			name: 'comment',
			type: 'string',
			typeOptions: { rows: 3 },
			default: '',
			description: `Adds a comment to the alert (comments are appended, never replaced); at most ${MAX_COMMENT_LENGTH} characters`,
		},
		{
			displayName: 'Determination Name or ID',
			name: 'determination',
			type: 'options',
			typeOptions: { loadOptionsMethod: 'getDeterminations', loadOptionsDependsOn: ['updateFields.classification'] },
			default: '',
			description:
				'What the alert turned out to be; the choices depend on the Classification. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		},
		{
			displayName: 'Status',
			name: 'status',
			type: 'options',
			options: WRITABLE_STATUSES.map((s) => ({ name: humanize(s), value: s })),
			default: 'Resolved',
		},
	],
};

import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as addComment from './addComment.operation';
import * as createByReference from './createByReference.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as getRelated from './getRelated.operation';
import * as update from './update.operation';
import * as updateMany from './updateMany.operation';

export const operations: Record<string, OperationModule> = { addComment, createByReference, get, getAll, getRelated, update, updateMany };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['alert'] } },
		options: [
			{
				name: 'Add Comment',
				value: 'addComment',
				action: 'Add a comment to an alert',
				description: 'Append a comment to one alert (needs its ID) and return the updated alert',
			},
			{
				name: 'Create by Reference',
				value: 'createByReference',
				action: 'Create an alert from an event',
				description:
					'Create an alert on top of an advanced-hunting event (needs its exact event time, report ID and 40-character machine ID, plus title, description, recommended action, severity and category); returns the new alert',
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get an alert',
				description: 'Retrieve one alert with its evidence by alert ID or portal link',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many alerts',
				description:
					'List alerts, newest first by default, filtered by status, severity, category, detection source, assignee, incident, investigation or time range; returns one item per alert',
			},
			{
				name: 'Get Related',
				value: 'getRelated',
				action: 'Get entities related to an alert',
				description: 'Return one item with the domains, files, IPs, machine and user of an alert (needs its ID)',
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update an alert',
				description: 'Change the status, assignee, classification or determination of one alert, or add a comment; returns the updated alert',
			},
			{
				name: 'Update Many',
				value: 'updateMany',
				action: 'Update many alerts',
				description:
					'Apply the same change to a list of alert IDs with batch calls (items asking for the same change are combined); returns one confirmation item per input item',
			},
		],
		default: 'getAll',
	},
	...getAll.description,
	...get.description,
	...update.description,
	...updateMany.description,
	...addComment.description,
	...createByReference.description,
	...getRelated.description,
];

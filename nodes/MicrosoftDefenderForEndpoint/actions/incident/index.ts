/**
 * Incident resource: Microsoft Graph security incidents (`/v1.0/security/incidents`), always through Microsoft Graph
 * with the credential's app, whatever its Alerts API (backend/incidents.ts). Needs SecurityIncident.Read.All (reads)
 * or SecurityIncident.ReadWrite.All (Update, Add Comment). Like the alert write operations, Update and Add Comment
 * are available to AI agents without an opt-in: they change triage fields and comments, not devices.
 */
import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as addComment from './addComment.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as update from './update.operation';

export const operations: Record<string, OperationModule> = { addComment, get, getAll, update };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['incident'] } },
		options: [
			{
				name: 'Add Comment',
				value: 'addComment',
				action: 'Add a comment to an incident',
				description: 'Append a comment to one incident (needs its ID) and return the incident with its comments',
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get an incident',
				description: 'Retrieve one incident by ID or portal link, optionally with its alerts',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many incidents',
				description: 'List incidents filtered by status, severity, classification, determination, owner or time range; returns one item per incident',
			},
			{
				name: 'Update',
				value: 'update',
				action: 'Update an incident',
				description: 'Change the status, classification, determination, owner or custom tags (add, remove or replace) of one incident; returns the updated incident',
			},
		],
		default: 'getAll',
	},
	...getAll.description,
	...get.description,
	...update.description,
	...addComment.description,
];

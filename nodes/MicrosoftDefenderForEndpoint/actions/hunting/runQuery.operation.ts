import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { huntingBackendFor } from '../../backend/hunting';
import { decorateRow, HuntingInputError, parseTimespan, validateHuntingQuery } from '../../core/hunting';
import { optionsCollection } from '../../descriptions/common';
import { readCommon } from '../../helpers/params';
import { inputError } from '../../helpers/validation';

const properties: INodeProperties[] = [
	{
		displayName: 'Query',
		name: 'query',
		type: 'string',
		typeOptions: { rows: 8 },
		default: '',
		required: true,
		placeholder: 'e.g. DeviceProcessEvents | where FileName == "powershell.exe" | project Timestamp, DeviceName, ProcessCommandLine | take 100',
		description:
			'The KQL query (advanced hunting tables such as AlertInfo, AlertEvidence, DeviceInfo, DeviceProcessEvents; names are case-sensitive). At most 100,000 rows and about 3 minutes per query.',
	},
	{
		displayName: 'Timespan',
		name: 'timespan',
		type: 'string',
		default: '',
		placeholder: 'e.g. P7D',
		description:
			'How far back to look, as an ISO 8601 duration (P7D = 7 days, PT12H = 12 hours) or interval (start/end). Empty: the last 30 days (the service\'s default). If the query filters on Timestamp too, the shorter span applies.',
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{ name: 'One Item per Row', value: 'rows', description: 'Each result row becomes an item, with tenantId (and customerLabel) added' },
			{ name: 'One Item with All Rows', value: 'all', description: 'One item per input item: tenantId, rowCount, schema (column names and types) and results (the rows)' },
		],
		default: 'rows',
	},
	{
		displayName: 'Include Schema',
		name: 'includeSchema',
		type: 'boolean',
		default: false,
		description: 'Whether to add the result\'s columns (name and type) to every row item as "_schema"',
		displayOptions: { show: { output: ['rows'] } },
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['hunting'], operation: ['runQuery'] } }, properties);

/**
 * One advanced hunting query per input item, in that item's tenant (Customer Tenant, per item): an MSSP runs one hunt
 * over every customer by feeding one item per tenant. Rows carry tenantId and customerLabel. Read-only: usable by an
 * AI agent without an opt-in.
 */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	let query: string;
	let timespan: string | undefined;
	try {
		query = validateHuntingQuery(this.getNodeParameter('query', i, ''));
		timespan = parseTimespan(this.getNodeParameter('timespan', i, ''))?.text;
	} catch (error) {
		if (error instanceof HuntingInputError) throw inputError(node, i, error.message, error.hint);
		throw new NodeOperationError(node, error as Error, { itemIndex: i });
	}
	const output = this.getNodeParameter('output', i, 'rows') as string;
	if (output !== 'rows' && output !== 'all') throw inputError(node, i, `Output "${String(output)}" is not One Item per Row or One Item with All Rows`);
	const includeSchema = output === 'rows' && this.getNodeParameter('includeSchema', i, false) === true;

	const backend = await huntingBackendFor(this, { itemIndex: i, customerTenant: common.customerTenant, maxThrottleWaitMs: common.maxThrottleWaitMs });
	const result = await backend.runQuery(query, timespan);
	const tenantId = await backend.outputTenantId();
	const decoration = { tenantId, customerLabel: common.customerLabel };
	const rows = result.results.map((row) => decorateRow(row, decoration));

	if (output === 'all') {
		const json: IDataObject = {
			tenantId,
			...(common.customerLabel !== undefined ? { customerLabel: common.customerLabel } : {}),
			rowCount: rows.length,
			rowLimitReached: result.rowLimitReached,
			schema: result.schema as unknown as IDataObject[],
			results: rows as IDataObject[],
		};
		return [{ json, pairedItem: { item: i } }];
	}
	return rows.map((row) => ({
		json: (includeSchema ? { ...row, _schema: result.schema } : row) as IDataObject,
		pairedItem: { item: i },
	}));
}


import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

export type ResourceName = 'alert' | 'hunting' | 'incident' | 'indicator' | 'machine' | 'machineAction' | 'tenant';

export interface OperationModule {
	description: INodeProperties[];
	/** one input item → its output items (the router adds continueOnFail handling) */
	execute?: (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;
	/** operations that combine items (Update Many) handle every item, and continueOnFail, themselves */
	executeAll?: (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[]>;
}

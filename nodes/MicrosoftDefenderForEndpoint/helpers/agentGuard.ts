/**
 * Guard-rail for destructive operations when the node runs as an AI agent's tool (the node is `usableAsTool`:
 * n8n generates the variant `<package>.microsoftDefenderForEndpointTool`, see
 * https://docs.n8n.io/integrations/creating-nodes/build/reference/node-base-files/standard-parameters/#usableastool).
 * An agent decides by itself how often and with which values it calls a tool, so operations that block, isolate or
 * otherwise act on many devices refuse to run as a tool unless the workflow's author turned on
 * "Allow When Used by an AI Agent" on that node. The opt-in must be the author's decision: a value the agent fills
 * in itself (`$fromAI(…)`) does not count.
 *
 * Shared by every resource with such operations (Indicator → Submit/Submit Many with a blocking action; machine
 * response actions). The first two functions are pure.
 */
import { type IExecuteFunctions, type INode, type INodeProperties, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

/** The parameter name of the opt-in (one name for every operation that has it). */
export const AGENT_OPT_IN = 'allowAgentUse';

/**
 * Whether this node runs as an agent's tool. n8n says so in three ways, depending on how the agent calls it:
 * `isToolExecution()` (tools run as sub-nodes), the tool variant's type name (`…Tool`), and n8n 2.x's engine
 * requests, which run the tool node with its output rewired to `ai_tool`.
 */
export function isAgentToolRun(node: Pick<INode, 'type' | 'rewireOutputLogTo'>, toolExecution: boolean): boolean {
	return toolExecution || /Tool$/.test(node.type) || node.rewireOutputLogTo === NodeConnectionTypes.AiTool;
}

/** A raw parameter value the agent fills in (an expression with `$fromAI`), i.e. not the author's decision. */
export function isAgentFilled(raw: unknown): boolean {
	return typeof raw === 'string' && raw.startsWith('=') && /\$?fromAI\s*\(/i.test(raw);
}

/**
 * The opt-in parameter, with a description naming what it allows. Shown only on the tool variant by default
 * (`@tool`: n8n evaluates it to whether the node type's name ends in "Tool").
 */
export function agentOptInProperty(what: string, displayOptions: INodeProperties['displayOptions'] = { show: { '@tool': [true] } }): INodeProperties {
	return {
		displayName: 'Allow When Used by an AI Agent',
		name: AGENT_OPT_IN,
		type: 'boolean',
		default: false,
		description: `Whether an AI agent that uses this node as a tool may ${what}. Off: the node refuses such calls when an agent makes them (workflows and manual runs are not affected). The agent cannot turn this on itself.`,
		displayOptions,
	};
}

export function runsAsAgentTool(ctx: IExecuteFunctions): boolean {
	const toolExecution = typeof ctx.isToolExecution === 'function' ? ctx.isToolExecution() : false;
	return isAgentToolRun(ctx.getNode(), toolExecution);
}

/** Whether the author opted in for item i (false when the value comes from `$fromAI`). */
export function agentOptedIn(ctx: IExecuteFunctions, i: number): boolean {
	if (isAgentFilled(ctx.getNode().parameters?.[AGENT_OPT_IN])) return false;
	return ctx.getNodeParameter(AGENT_OPT_IN, i, false) === true;
}

/**
 * Throws, before any request, when the node runs as an agent tool and the author has not opted in.
 * `what` completes "… is not allowed when …", e.g. "Submitting a blocking indicator (Block)".
 */
export function assertAgentAllowed(ctx: IExecuteFunctions, i: number, what: string): void {
	if (!runsAsAgentTool(ctx) || agentOptedIn(ctx, i)) return;
	throw new NodeOperationError(ctx.getNode(), `${what} is not allowed when an AI agent calls this node`, {
		itemIndex: i,
		description:
			'Blocking and response actions affect many devices and are off for AI-agent use by default. To let the agent do this, turn on "Allow When Used by an AI Agent" on this node (a fixed value, not $fromAI). Or use Dry Run to have the agent propose the change without sending it.',
	});
}

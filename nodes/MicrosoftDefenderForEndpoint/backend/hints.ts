/**
 * Backend notices (e.g. "Region is ignored with Microsoft Graph") shown as n8n execution hints in the output pane,
 * once per text and node run however many items meet them. Contexts without hints (polls, list searches) skip them.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

import type { DefenderContext } from '../transport/request';

const hinted = new WeakMap<object, Set<string>>();

export function addHints(ctx: DefenderContext, messages: readonly string[]): void {
	const add = (ctx as Partial<IExecuteFunctions>).addExecutionHints;
	if (!messages.length || typeof add !== 'function') return;
	const seen = hinted.get(ctx) ?? new Set<string>();
	hinted.set(ctx, seen);
	for (const message of messages) {
		if (seen.has(message)) continue;
		seen.add(message);
		add.call(ctx, { message, type: 'info', location: 'outputPane' });
	}
}

/**
 * The process-wide state of the transport, in one place. n8n runs every node, credential test, execution and
 * workflow of a process in one Node.js process, and these singletons are shared across all of them:
 *
 * - `tokenBroker` (tokens.ts): msal apps and their token caches, one per (authority, tenant, app, secret or certificate key);
 * - `pacer` (pacer.ts): the request times per (app, tenant, endpoint class) that keep us under Microsoft's budgets;
 * - `serverClock` (serverClock.ts): the API's clock per origin, from its Date headers;
 * - `processSettings`: the retry backoff base (production: 0.5 s, 1 s, 2 s);
 * - the known-secret set of core/redact.ts (kept on reset: redaction must never weaken).
 *
 * Tests and the benchmark call `resetProcessState` between cases instead of resetting each singleton themselves.
 * Node-level process memory has its own reset beside it (layers above the transport): the trigger's
 * (`resetTriggerProcessMemory` in trigger/processMemory.ts: poll locks, primed start boundaries) and the machine
 * actions' per-execution ledger (`machineLedger.reset()` in helpers/machines.ts).
 */
import { pacer } from './pacer';
import { serverClock } from './serverClock';
import { tokenBroker } from './tokens';

const DEFAULT_RETRY_BACKOFF_BASE_MS = 500;

export const processSettings: { retryBackoffBaseMs: number } = { retryBackoffBaseMs: DEFAULT_RETRY_BACKOFF_BASE_MS };

export interface ProcessStateOptions {
	/** 5xx/reset retry backoff base; tests shorten it (default 500 ms) */
	retryBackoffBaseMs?: number;
	/** shrink the documented rate-limit windows (the benchmark runs them ×0.01 against a scaled emulator) */
	pacerTimeScale?: number;
}

/** Forget every token, app and pacing record, and set the process settings (defaults unless given). */
export function resetProcessState(options: ProcessStateOptions = {}): void {
	tokenBroker.reset();
	pacer.reset();
	serverClock.clear();
	pacer.setTimeScale(options.pacerTimeScale ?? 1);
	processSettings.retryBackoffBaseMs = options.retryBackoffBaseMs ?? DEFAULT_RETRY_BACKOFF_BASE_MS;
}

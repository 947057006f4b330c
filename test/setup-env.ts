import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// n8n-core's InstanceSettings writes ~/.n8n/config on first use; keep tests out of the user's home.
if (!process.env.N8N_USER_FOLDER) {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'mde-n8n-'));
}
process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
// n8n's engine logs every node error it handles (an expected failure in a test is still logged by winston): keep the
// test output readable. N8N_LOG_LEVEL=info (or debug) in the environment brings the engine's log back.
process.env.N8N_LOG_LEVEL ??= 'silent';

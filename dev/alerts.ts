/**
 * `npm run dev:alerts -- [count] [--tenant contoso|fabrikam|<id>] [--severity High] [--title text]`: adds alerts,
 * created now, to the emulator of the running `npm run dev`; its trigger workflow delivers them at the next poll.
 */
import { readState } from './config';
import { addDevAlerts, parseAlertArgs } from './control';

async function main(): Promise<void> {
	const state = readState();
	const { tenant, alerts } = await addDevAlerts(state, parseAlertArgs(process.argv.slice(2)));
	process.stdout.write(`Added ${alerts.length} alert(s) to ${tenant.name} (${tenant.domain}) in the emulator:\n`);
	for (const a of alerts) process.stdout.write(`  ${a.id}  ${a.severity.padEnd(13)} ${a.status.padEnd(10)} ${a.title}\n`);
	const trigger = state.workflows.find((w) => w.active);
	process.stdout.write(
		trigger
			? `"${trigger.name}" delivers them at its next poll (within a minute): ${state.editorUrl}/workflow/${trigger.id}/executions\n`
			: 'No published trigger workflow is running in the dev n8n.\n',
	);
}

main().catch((error: unknown) => {
	process.stderr.write(`dev:alerts: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});

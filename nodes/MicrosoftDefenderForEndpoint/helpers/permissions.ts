/** Which WindowsDefenderATP application permissions each operation of this package needs (the Permissions section of each API page, e.g. https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts). */

export interface OperationNeed {
	/** resource.operation (or the trigger) */
	operation: string;
	label: string;
	/** any one of these roles is enough */
	anyOf: string[];
	optional?: boolean;
}

export const READ_ROLES = ['Alert.Read.All', 'Alert.ReadWrite.All'];
export const WRITE_ROLES = ['Alert.ReadWrite.All'];
const READ = READ_ROLES;
const WRITE = WRITE_ROLES;

export const OPERATION_NEEDS: OperationNeed[] = [
	{ operation: 'alert.getAll', label: 'Alert: Get Many', anyOf: READ },
	{ operation: 'alert.get', label: 'Alert: Get', anyOf: READ },
	{ operation: 'trigger', label: 'Trigger: new and updated alerts', anyOf: READ },
	{ operation: 'alert.update', label: 'Alert: Update', anyOf: WRITE },
	{ operation: 'alert.updateMany', label: 'Alert: Update Many', anyOf: WRITE },
	{ operation: 'alert.addComment', label: 'Alert: Add Comment', anyOf: WRITE },
	{ operation: 'alert.createByReference', label: 'Alert: Create by Reference', anyOf: WRITE },
	{ operation: 'alert.getRelated.domains', label: 'Alert: Get Related (domains)', anyOf: ['URL.Read.All'], optional: true },
	{ operation: 'alert.getRelated.files', label: 'Alert: Get Related (files)', anyOf: ['File.Read.All'], optional: true },
	{ operation: 'alert.getRelated.ips', label: 'Alert: Get Related (IPs)', anyOf: ['Ip.Read.All'], optional: true },
	{ operation: 'alert.getRelated.machine', label: 'Alert: Get Related (machine)', anyOf: ['Machine.Read.All', 'Machine.ReadWrite.All'], optional: true },
	{ operation: 'alert.getRelated.user', label: 'Alert: Get Related (user)', anyOf: ['User.Read.All'], optional: true },
];

/** Every permission the package can use, for the consent instructions. */
export const PACKAGE_PERMISSIONS: Array<{ permission: string; requiredFor: string; required: boolean }> = [
	{ permission: 'Alert.ReadWrite.All', requiredFor: 'Reading and changing alerts: all Alert operations and the trigger (Alert.Read.All is enough for read-only use)', required: true },
	{ permission: 'Alert.Read.All', requiredFor: 'Read-only alternative: Get, Get Many and the trigger', required: false },
	{ permission: 'URL.Read.All', requiredFor: 'Get Related: domains', required: false },
	{ permission: 'File.Read.All', requiredFor: 'Get Related: files', required: false },
	{ permission: 'Ip.Read.All', requiredFor: 'Get Related: IPs', required: false },
	{ permission: 'Machine.Read.All', requiredFor: 'Get Related: machine', required: false },
	{ permission: 'User.Read.All', requiredFor: 'Get Related: user', required: false },
];

function has(roles: string[], role: string): boolean {
	return roles.some((r) => r.toLowerCase() === role.toLowerCase());
}

export function allowedBy(roles: string[]): { allowed: OperationNeed[]; blocked: OperationNeed[] } {
	const allowed: OperationNeed[] = [];
	const blocked: OperationNeed[] = [];
	for (const need of OPERATION_NEEDS) (need.anyOf.some((r) => has(roles, r)) ? allowed : blocked).push(need);
	return { allowed, blocked };
}

/** The roles (any one of them) an operation needs, e.g. `rolesFor('alert.getRelated.files')`. */
export function rolesFor(operation: string): string[] {
	return OPERATION_NEEDS.find((n) => n.operation === operation)?.anyOf ?? [];
}

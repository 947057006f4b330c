/** Roles of the machine engine tests: every machine permission the package uses, plus alerts and users. */
export const MACHINE_TEST_ROLES = [
	'Alert.ReadWrite.All',
	'Machine.ReadWrite.All',
	'Machine.Isolate',
	'Machine.Scan',
	'Machine.RestrictExecution',
	'Machine.CollectForensics',
	'Machine.StopAndQuarantine',
	'Machine.Offboard',
	'User.Read.All',
];

/**
 * Value sets of the Defender for Endpoint alert API (Update alert, Create alert by reference and the Alert resource type: https://learn.microsoft.com/en-us/defender-endpoint/api/update-alert, https://learn.microsoft.com/en-us/defender-endpoint/api/create-alert-by-reference, https://learn.microsoft.com/en-us/defender-endpoint/api/alerts). Every enum value a user
 * can send is checked against these lists before any request is made.
 */

export const ALERT_STATUSES = ['Unknown', 'New', 'InProgress', 'Resolved'] as const;
/** Statuses an update may set (§3.3). */
export const WRITABLE_STATUSES = ['New', 'InProgress', 'Resolved'] as const;

export const SEVERITIES = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'] as const;
export const CREATE_SEVERITIES = ['Low', 'Medium', 'High'] as const;

export const CLASSIFICATIONS = ['TruePositive', 'InformationalExpectedActivity', 'FalsePositive'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/**
 * Determinations per classification. Microsoft's pages disagree on two spellings (the Alert resource type and Batch update alerts pages use
 * ConfirmedUserActivity / Clean, the Update alert page uses ConfirmedActivity / NotMalicious): both are accepted and
 * the one the user chose is sent unchanged.
 */
export const DETERMINATIONS: Record<Classification, readonly string[]> = {
	TruePositive: ['MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'Malware', 'Phishing', 'UnwantedSoftware', 'Other'],
	InformationalExpectedActivity: ['SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'ConfirmedActivity', 'Other'],
	FalsePositive: ['Clean', 'NotMalicious', 'InsufficientData', 'Other'],
};

export const ALL_DETERMINATIONS: readonly string[] = [...new Set(Object.values(DETERMINATIONS).flat())];

export const DETERMINATION_LABELS: Record<string, string> = {
	MultiStagedAttack: 'Multi-Staged Attack',
	MaliciousUserActivity: 'Malicious User Activity',
	CompromisedUser: 'Compromised User',
	Malware: 'Malware',
	Phishing: 'Phishing',
	UnwantedSoftware: 'Unwanted Software',
	Other: 'Other',
	SecurityTesting: 'Security Testing',
	LineOfBusinessApplication: 'Line-of-Business Application',
	ConfirmedUserActivity: 'Confirmed User Activity',
	ConfirmedActivity: 'Confirmed Activity (Alternative Spelling)',
	Clean: 'Clean',
	NotMalicious: 'Not Malicious (Alternative Spelling)',
	InsufficientData: 'Insufficient Data',
};

export const CLASSIFICATION_LABELS: Record<Classification, string> = {
	TruePositive: 'True Positive',
	InformationalExpectedActivity: 'Informational, Expected Activity',
	FalsePositive: 'False Positive',
};

/** The 16 categories CreateAlertByReference accepts (§3.5). */
export const CREATE_CATEGORIES = [
	'General',
	'CommandAndControl',
	'Collection',
	'CredentialAccess',
	'DefenseEvasion',
	'Discovery',
	'Exfiltration',
	'Exploit',
	'Execution',
	'InitialAccess',
	'LateralMovement',
	'Malware',
	'Persistence',
	'PrivilegeEscalation',
	'Ransomware',
	'SuspiciousActivity',
] as const;

/** Categories seen on real alerts besides the 16 above (the property is a free string, §3.8). */
export const OBSERVED_CATEGORIES = ['Backdoor', 'MalwareDownload', 'UnwantedSoftware', 'Weaponization', 'Installation', 'SuspiciousNetworkTraffic'] as const;

/** Detection sources seen in real data (§3.8); the property is a free string, so others are accepted too. */
export const DETECTION_SOURCES = [
	'AutomatedInvestigation',
	'CustomDetection',
	'CustomerTI',
	'Manual',
	'MTP',
	'OfficeATP',
	'ThirdPartySensors',
	'ThreatExperts',
	'WindowsDefenderAtp',
	'WindowsDefenderAv',
	'WindowsDefenderSmartScreen',
] as const;

export const RELATED_KINDS = ['domains', 'files', 'ips', 'machine', 'user'] as const;

/** Split "InProgress" → "In Progress" for option names. */
export function humanize(value: string): string {
	return value
		.replace(/([a-z])([A-Z])/g, '$1 $2')
		.replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
		.replace(/\bTI\b/, 'TI');
}

/**
 * Deterministic, realistic Defender data: devices, users, files, alerts (shapes of https://learn.microsoft.com/en-us/defender-endpoint/api/alerts) and
 * advanced-hunting events. Everything derives from a small PRNG, so the same seed and tenant give the same data.
 */
import { createHash } from 'node:crypto';
import { fromTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { trimFraction } from './clock';
import type { Alert, AlertEvidence, FileEntity, HuntingEvent, Machine, RelatedUser, UserEntity } from './types';

export const TICKS_PER_MS = 10_000n;
export const TICKS_PER_SECOND = 10_000_000n;
/** .NET ticks between 0001-01-01 and 1970-01-01: alert ids start with the creation time in .NET ticks. */
const DOTNET_EPOCH_OFFSET = 621_355_968_000_000_000n;

// ------------------------------------------------------------------------------------------------ PRNG

function hashSeed(seed: number | string): number {
	const text = String(seed);
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** mulberry32: small, fast, deterministic. */
export class Rng {
	private state: number;
	constructor(seed: number | string) {
		this.state = hashSeed(seed) || 0x9e3779b9;
	}
	next(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}
	chance(p: number): boolean {
		return this.next() < p;
	}
	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)];
	}
	weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
		const total = items.reduce((s, [, w]) => s + w, 0);
		let r = this.next() * total;
		for (const [item, w] of items) {
			r -= w;
			if (r < 0) return item;
		}
		return items[items.length - 1][0];
	}
	hex(length: number): string {
		let out = '';
		while (out.length < length) out += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
		return out.slice(0, length);
	}
	guid(): string {
		const h = this.hex(32);
		const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
		return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
	}
	/** Uniform tick in [min, max]. */
	ticks(min: bigint, max: bigint): bigint {
		if (max <= min) return min;
		const span = max - min;
		const r = (BigInt(Math.floor(this.next() * 2 ** 26)) << 26n) | BigInt(Math.floor(this.next() * 2 ** 26));
		return min + (r % (span + 1n));
	}
	int32(): number {
		return (Math.floor(this.next() * 0x100000000) | 0) as number;
	}
}

const digest = (algo: string, text: string): string => createHash(algo).update(text).digest('hex');

// ------------------------------------------------------------------------------------------------ catalogs

const FIRST_NAMES = ['james', 'maria', 'robert', 'linda', 'michael', 'sofia', 'david', 'emma', 'daniel', 'olivia', 'thomas', 'ana', 'kenji', 'priya', 'lukas', 'fatima', 'noah', 'chloe', 'omar', 'ingrid'];
const LAST_NAMES = ['smith', 'garcia', 'johnson', 'brown', 'muller', 'rossi', 'tanaka', 'patel', 'nguyen', 'kowalski', 'dubois', 'hansen', 'silva', 'cohen', 'okafor', 'larsen', 'novak', 'moreau', 'kim', 'schmidt'];

const RBAC_GROUPS: ReadonlyArray<readonly [string, number]> = [
	['Workstations', 61],
	['Servers', 62],
	['Executives', 63],
	['Finance', 64],
	['Developers', 65],
];

interface OsProfile {
	prefix: string;
	osPlatform: string;
	osVersion: string | null;
	version: string;
	osBuild: number;
	rbac: string;
}

const OS_PROFILES: ReadonlyArray<readonly [OsProfile, number]> = [
	[{ prefix: 'ws', osPlatform: 'Windows11', osVersion: null, version: '23H2', osBuild: 22631, rbac: 'Workstations' }, 40],
	[{ prefix: 'lt', osPlatform: 'Windows10', osVersion: null, version: '22H2', osBuild: 19045, rbac: 'Workstations' }, 25],
	[{ prefix: 'srv', osPlatform: 'WindowsServer2022', osVersion: null, version: '21H2', osBuild: 20348, rbac: 'Servers' }, 15],
	[{ prefix: 'srv', osPlatform: 'WindowsServer2019', osVersion: null, version: '1809', osBuild: 17763, rbac: 'Servers' }, 8],
	[{ prefix: 'exec', osPlatform: 'Windows11', osVersion: null, version: '23H2', osBuild: 22631, rbac: 'Executives' }, 5],
	[{ prefix: 'dev', osPlatform: 'Linux', osVersion: 'Ubuntu 22.04', version: '22.04', osBuild: 0, rbac: 'Developers' }, 4],
	[{ prefix: 'mac', osPlatform: 'macOS', osVersion: '14.4', version: '14.4', osBuild: 0, rbac: 'Finance' }, 3],
];

const SERVER_ROLES = ['dc01', 'dc02', 'sql01', 'file01', 'web01', 'app02', 'exch01', 'print01'];

interface FileSpec {
	name: string;
	path: string;
	publisher: string | null;
	product: string | null;
	signer: string | null;
	issuer: string | null;
	determination: 'Clean' | 'Malware' | 'Pua' | 'Unknown' | 'Suspicious';
	threat?: string;
	size: number;
	prevalence: number;
}

const MS_SIGNER = { publisher: 'Microsoft Corporation', signer: 'Microsoft Windows', issuer: 'Microsoft Windows Production PCA 2011' };

const FILES: Record<string, FileSpec> = {
	powershell: { name: 'powershell.exe', path: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 450560, prevalence: 1_000_000 },
	cmd: { name: 'cmd.exe', path: 'C:\\Windows\\System32', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 289792, prevalence: 1_000_000 },
	winword: { name: 'WINWORD.EXE', path: 'C:\\Program Files\\Microsoft Office\\root\\Office16', publisher: 'Microsoft Corporation', product: 'Microsoft Office', signer: 'Microsoft Corporation', issuer: 'Microsoft Code Signing PCA 2011', determination: 'Clean', size: 1_622_384, prevalence: 1_000_000 },
	outlook: { name: 'OUTLOOK.EXE', path: 'C:\\Program Files\\Microsoft Office\\root\\Office16', publisher: 'Microsoft Corporation', product: 'Microsoft Office', signer: 'Microsoft Corporation', issuer: 'Microsoft Code Signing PCA 2011', determination: 'Clean', size: 41_234_872, prevalence: 1_000_000 },
	explorer: { name: 'explorer.exe', path: 'C:\\Windows', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 5_436_928, prevalence: 1_000_000 },
	rundll32: { name: 'rundll32.exe', path: 'C:\\Windows\\System32', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 71_680, prevalence: 1_000_000 },
	schtasks: { name: 'schtasks.exe', path: 'C:\\Windows\\System32', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 235_520, prevalence: 1_000_000 },
	psexesvc: { name: 'PSEXESVC.exe', path: 'C:\\Windows', publisher: 'Sysinternals - www.sysinternals.com', product: 'Sysinternals PsExec', signer: 'Microsoft Corporation', issuer: 'Microsoft Code Signing PCA 2011', determination: 'Unknown', size: 196_472, prevalence: 48_211 },
	mimikatz: { name: 'mimikatz.exe', path: 'C:\\Users\\Public\\Downloads', publisher: 'gentilkiwi (Benjamin DELPY)', product: 'mimikatz', signer: null, issuer: null, determination: 'Malware', threat: 'HackTool:Win32/Mimikatz.D', size: 1_250_056, prevalence: 3_204 },
	emotet: { name: 'invoice_0424.doc.exe', path: 'C:\\Users\\{user}\\AppData\\Local\\Temp', publisher: null, product: null, signer: null, issuer: null, determination: 'Malware', threat: 'Trojan:Win32/Emotet.RPV!MTB', size: 389_120, prevalence: 41 },
	ransom: { name: 'svch0st.exe', path: 'C:\\ProgramData\\Microsoft\\Crypto', publisher: null, product: null, signer: null, issuer: null, determination: 'Malware', threat: 'Ransom:Win32/LockBit.AA!MTB', size: 157_696, prevalence: 7 },
	pua: { name: 'FreeConverterSetup.exe', path: 'C:\\Users\\{user}\\Downloads', publisher: 'Presenoker Ltd', product: 'Free Converter', signer: 'Presenoker Ltd', issuer: 'Sectigo Public Code Signing CA R36', determination: 'Pua', threat: 'PUA:Win32/Presenoker', size: 2_914_304, prevalence: 9_822 },
	eicar: { name: 'eicar.com.txt', path: 'C:\\Users\\{user}\\Downloads', publisher: null, product: null, signer: null, issuer: null, determination: 'Malware', threat: 'Virus:DOS/EICAR_Test_File', size: 68, prevalence: 250_000 },
	rclone: { name: 'rclone.exe', path: 'C:\\Users\\{user}\\AppData\\Roaming', publisher: null, product: 'Rclone', signer: null, issuer: null, determination: 'Suspicious', size: 53_117_440, prevalence: 12_004 },
	ntdsutil: { name: 'ntdsutil.exe', path: 'C:\\Windows\\System32', product: 'Microsoft® Windows® Operating System', ...MS_SIGNER, determination: 'Clean', size: 389_120, prevalence: 500_000 },
	beacon: { name: 'update_helper.dll', path: 'C:\\Users\\{user}\\AppData\\Local\\Microsoft', publisher: null, product: null, signer: null, issuer: null, determination: 'Malware', threat: 'Backdoor:Win64/CobaltStrike.NP!dha', size: 287_744, prevalence: 3 },
};

type EvidenceKind = 'process' | 'parentFile' | 'file' | 'user' | 'ip' | 'url' | 'registry';

interface AlertTemplate {
	title: string;
	description: string;
	category: string;
	detectionSource: string;
	severities: ReadonlyArray<readonly [string, number]>;
	mitre: string[];
	threatFamilyName?: string;
	file?: keyof typeof FILES;
	parent?: keyof typeof FILES;
	commandLine?: string;
	evidence: EvidenceKind[];
	url?: string;
	ip?: string;
	registry?: { key: string; hive: string; valueType: string; value: string };
	needsUser: boolean;
}

const TEMPLATES: AlertTemplate[] = [
	{
		title: 'Suspicious PowerShell command line',
		description: 'A suspicious PowerShell activity was observed on the device. This activity is commonly used by attackers to download and run malicious payloads.',
		category: 'Execution',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Medium', 6], ['High', 3], ['Low', 1]],
		mitre: ['T1059.001'],
		file: 'powershell',
		parent: 'winword',
		commandLine: 'powershell.exe -NoP -NonI -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA',
		evidence: ['process', 'user', 'url'],
		url: 'http://cdn-updates.contoso-cdn.net/a/payload.ps1',
		needsUser: true,
	},
	{
		title: "'Mimikatz' credential theft tool",
		description: 'The credential theft tool Mimikatz was detected on the device. Mimikatz extracts plaintext passwords, hashes and Kerberos tickets from memory.',
		category: 'CredentialAccess',
		detectionSource: 'WindowsDefenderAv',
		severities: [['High', 1]],
		mitre: ['T1003.001', 'T1558.003'],
		threatFamilyName: 'Mimikatz',
		file: 'mimikatz',
		parent: 'cmd',
		commandLine: 'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit',
		evidence: ['file', 'process', 'user'],
		needsUser: true,
	},
	{
		title: 'Connection to a custom network indicator',
		description: 'A connection was made to an IP address that matches a custom indicator defined by your organization.',
		category: 'CommandAndControl',
		detectionSource: 'CustomerTI',
		severities: [['Medium', 3], ['High', 1]],
		mitre: ['T1071.001'],
		file: 'rundll32',
		parent: 'explorer',
		commandLine: 'rundll32.exe C:\\Users\\{user}\\AppData\\Local\\Microsoft\\update_helper.dll,DllRegisterServer',
		evidence: ['process', 'ip', 'url'],
		ip: '185.220.101.{n}',
		url: 'https://login-microsoftonline.support-desk.{tld}/owa/',
		needsUser: true,
	},
	{
		title: "'CobaltStrike' backdoor was prevented",
		description: 'A Cobalt Strike beacon was detected and blocked. Cobalt Strike is used by attackers for command and control and lateral movement.',
		category: 'Malware',
		detectionSource: 'WindowsDefenderAv',
		severities: [['High', 1]],
		mitre: ['T1055', 'T1071.001'],
		threatFamilyName: 'CobaltStrike',
		file: 'beacon',
		parent: 'rundll32',
		evidence: ['file', 'ip'],
		ip: '45.137.21.{n}',
		needsUser: false,
	},
	{
		title: 'Ransomware behavior detected in the file system',
		description: 'A process modified and renamed a large number of files with a new extension and dropped ransom notes. This is typical ransomware behavior.',
		category: 'Ransomware',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['High', 1]],
		mitre: ['T1486', 'T1490'],
		threatFamilyName: 'LockBit',
		file: 'ransom',
		parent: 'cmd',
		commandLine: 'svch0st.exe -pass 8f1c2a -path C:\\Shares',
		evidence: ['process', 'file', 'user'],
		needsUser: true,
	},
	{
		title: "'Emotet' malware was detected",
		description: "Emotet malware was detected in an email attachment opened on the device. Emotet downloads additional payloads and steals credentials.",
		category: 'Malware',
		detectionSource: 'WindowsDefenderAv',
		severities: [['Medium', 2], ['High', 1]],
		mitre: ['T1566.001', 'T1204.002'],
		threatFamilyName: 'Emotet',
		file: 'emotet',
		parent: 'outlook',
		evidence: ['file', 'user'],
		needsUser: true,
	},
	{
		title: 'Suspicious process injection observed',
		description: 'A process injected code into another process. Attackers inject code to hide malicious activity in trusted processes.',
		category: 'DefenseEvasion',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Medium', 3], ['High', 1]],
		mitre: ['T1055.002', 'T1055.012'],
		file: 'rundll32',
		parent: 'explorer',
		commandLine: 'rundll32.exe shell32.dll,Control_RunDLL',
		evidence: ['process', 'user'],
		needsUser: true,
	},
	{
		title: 'Anomalous scheduled task created',
		description: 'A scheduled task that runs a script from a user-writable location was created. Attackers use scheduled tasks for persistence.',
		category: 'Persistence',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Low', 2], ['Medium', 2]],
		mitre: ['T1053.005'],
		file: 'schtasks',
		parent: 'cmd',
		commandLine: 'schtasks.exe /Create /SC ONLOGON /TN "OneDrive Standalone Update" /TR "powershell -w hidden -f C:\\Users\\Public\\upd.ps1"',
		evidence: ['process', 'registry', 'user'],
		registry: { key: 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\OneDrive Standalone Update', hive: 'HKEY_LOCAL_MACHINE', valueType: 'String', value: '{6B2E4C1A-0D3F-4B7E-9A11-2C5D8E7F9012}' },
		needsUser: true,
	},
	{
		title: 'Suspicious sequence of exploration activities',
		description: 'A process ran a sequence of reconnaissance commands (whoami, net group, nltest). Attackers run such commands to map the environment.',
		category: 'Discovery',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Low', 3], ['Medium', 2]],
		mitre: ['T1087.002', 'T1069.002', 'T1016', 'T1482'],
		file: 'cmd',
		parent: 'powershell',
		commandLine: 'cmd.exe /c "whoami /all & net group \\"Domain Admins\\" /domain & nltest /domain_trusts"',
		evidence: ['process', 'user'],
		needsUser: true,
	},
	{
		title: 'Possible lateral movement using PsExec',
		description: 'PsExec was used to run a command on a remote device. Attackers use remote service creation to move laterally.',
		category: 'LateralMovement',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Medium', 2], ['High', 1]],
		mitre: ['T1021.002', 'T1569.002'],
		file: 'psexesvc',
		parent: 'cmd',
		commandLine: 'PSEXESVC.exe',
		evidence: ['process', 'ip', 'user'],
		ip: '10.20.{n}.15',
		needsUser: true,
	},
	{
		title: 'A potentially malicious URL click was detected',
		description: 'A user clicked a link in an email that was later identified as malicious. The user may have entered credentials on a phishing page.',
		category: 'InitialAccess',
		detectionSource: 'MTP',
		severities: [['Medium', 2], ['High', 1]],
		mitre: ['T1566.002'],
		evidence: ['url', 'user'],
		url: 'https://sharepoint-docs.secure-{tld}.com/shared/invoice',
		needsUser: true,
	},
	{
		title: "'Presenoker' unwanted software was detected",
		description: 'Potentially unwanted software was detected on the device. It may show ads or change browser settings.',
		category: 'UnwantedSoftware',
		detectionSource: 'WindowsDefenderAv',
		severities: [['Low', 3], ['Informational', 2]],
		mitre: [],
		threatFamilyName: 'Presenoker',
		file: 'pua',
		parent: 'explorer',
		evidence: ['file'],
		needsUser: false,
	},
	{
		title: 'Rare RDP connection from an internal device',
		description: 'Custom detection rule "Rare RDP source" matched: a device that rarely uses RDP connected to a server.',
		category: 'LateralMovement',
		detectionSource: 'CustomDetection',
		severities: [['Low', 2], ['Medium', 1]],
		mitre: ['T1021.001'],
		evidence: ['ip', 'user'],
		ip: '10.10.{n}.31',
		needsUser: true,
	},
	{
		title: 'Possible exfiltration of archived data',
		description: 'A cloud-sync tool uploaded a large amount of archived data to an external storage service.',
		category: 'Exfiltration',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['Medium', 2], ['High', 1]],
		mitre: ['T1567.002', 'T1560.001'],
		file: 'rclone',
		parent: 'powershell',
		commandLine: 'rclone.exe copy C:\\Shares\\Finance remote:backup --transfers 16 -q',
		evidence: ['process', 'url', 'user'],
		url: 'https://mega.nz/folder/{n}',
		needsUser: true,
	},
	{
		title: "'EICAR_Test_File' malware was prevented",
		description: 'The EICAR antivirus test file was detected and quarantined.',
		category: 'Malware',
		detectionSource: 'WindowsDefenderAv',
		severities: [['Informational', 1]],
		mitre: [],
		threatFamilyName: 'EICAR_Test_File',
		file: 'eicar',
		evidence: ['file'],
		needsUser: false,
	},
	{
		title: 'Suspicious access to the NTDS.dit file',
		description: 'ntdsutil was used to create a copy of the Active Directory database, which contains password hashes of all domain accounts.',
		category: 'CredentialAccess',
		detectionSource: 'WindowsDefenderAtp',
		severities: [['High', 1]],
		mitre: ['T1003.003'],
		file: 'ntdsutil',
		parent: 'cmd',
		commandLine: 'ntdsutil.exe "ac i ntds" "ifm" "create full C:\\Windows\\Temp\\x" q q',
		evidence: ['process', 'user'],
		needsUser: true,
	},
	{
		title: 'Automated investigation started manually',
		description: 'An automated investigation was started by a security operator on the device.',
		category: 'SuspiciousActivity',
		detectionSource: 'AutomatedInvestigation',
		severities: [['Informational', 1]],
		mitre: [],
		evidence: [],
		needsUser: false,
	},
];

const INVESTIGATION_STATES: ReadonlyArray<readonly [string, number]> = [
	['SuccessfullyRemediated', 4],
	['Benign', 3],
	['Running', 3],
	['PendingApproval', 2],
	['PartiallyRemediated', 1],
	['TerminatedBySystem', 1],
	['UnsupportedAlertType', 2],
	['Queued', 1],
	['Failed', 1],
];

const CLASSIFICATIONS: ReadonlyArray<readonly [string, string[]]> = [
	['TruePositive', ['Malware', 'MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'Phishing', 'UnwantedSoftware', 'Other']],
	['InformationalExpectedActivity', ['SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'Other']],
	['FalsePositive', ['Clean', 'InsufficientData', 'Other']],
];

const COMMENTS = [
	'Triage started',
	'Reviewed process tree; escalating to tier 2',
	'Device isolated pending investigation',
	'Confirmed with the user, expected activity',
	'Hash blocked via custom indicator',
	'Closing: remediated by automated investigation',
];

// ------------------------------------------------------------------------------------------------ tenant profile

export interface TenantProfile {
	tenantId: string;
	/** NetBIOS-style domain, e.g. CONTOSO. */
	netbios: string;
	/** Device DNS suffix, e.g. contoso.local. */
	dnsSuffix: string;
	/** UPN suffix, e.g. contoso.onmicrosoft.com. */
	upnDomain: string;
	analysts: string[];
}

export function tenantProfile(tenantId: string, primaryDomain: string): TenantProfile {
	const label = primaryDomain.split('.')[0].replace(/[^a-z0-9]/gi, '') || 'tenant';
	return {
		tenantId,
		netbios: label.toUpperCase().slice(0, 15),
		dnsSuffix: `${label.toLowerCase()}.local`,
		upnDomain: primaryDomain.toLowerCase(),
		analysts: [`secops1@${primaryDomain.toLowerCase()}`, `analyst@${primaryDomain.toLowerCase()}`, `soc.tier2@${primaryDomain.toLowerCase()}`],
	};
}

/** Per-tenant entity registry the generator draws from and the related-entity endpoints read. */
export interface TenantEntities {
	profile: TenantProfile;
	machines: Map<string, Machine>;
	/** key: `domain\\user` lowercase */
	users: Map<string, UserEntity>;
	files: Map<string, FileEntity>;
	events: HuntingEvent[];
	nextIncidentId: number;
	nextInvestigationId: number;
	usedIds: Set<string>;
}

export function userKey(user: RelatedUser): string {
	return `${user.domainName}\\${user.userName}`.toLowerCase();
}

// ------------------------------------------------------------------------------------------------ generators

export function makeMachine(rng: Rng, profile: TenantProfile, index: number, firstSeenTicks: bigint, lastSeenTicks: bigint, id?: string, dnsName?: string): Machine {
	const os = rng.weighted(OS_PROFILES);
	const host =
		os.prefix === 'srv' ? `srv-${SERVER_ROLES[index % SERVER_ROLES.length]}${index >= SERVER_ROLES.length ? index : ''}` : `${os.prefix}-${String(rng.int(1, 999)).padStart(3, '0')}`;
	const rbacId = RBAC_GROUPS.find(([name]) => name === os.rbac)?.[1] ?? 61;
	const lastIp = `10.${rng.int(10, 40)}.${rng.int(0, 254)}.${rng.int(2, 254)}`;
	const mac = Array.from({ length: 6 }, () => rng.hex(2).toUpperCase()).join('');
	return {
		id: id ?? rng.hex(40),
		computerDnsName: dnsName ?? `${host}.${profile.dnsSuffix}`,
		firstSeen: fromTicks(firstSeenTicks),
		lastSeen: fromTicks(lastSeenTicks),
		osPlatform: os.osPlatform,
		osVersion: os.osVersion,
		osProcessor: 'x64',
		version: os.version,
		lastIpAddress: lastIp,
		lastExternalIpAddress: `${rng.pick([20, 40, 52, 104, 131])}.${rng.int(1, 254)}.${rng.int(1, 254)}.${rng.int(1, 254)}`,
		agentVersion: os.osPlatform.startsWith('Windows') ? `10.8${rng.int(700, 799)}.${os.osBuild || 22631}.${rng.int(1000, 4000)}` : `101.24${rng.int(10, 99)}.000${rng.int(1, 9)}`,
		osBuild: os.osBuild,
		healthStatus: rng.weighted([['Active', 90], ['Inactive', 6], ['ImpairedCommunication', 4]] as const),
		deviceValue: os.rbac === 'Executives' || os.prefix === 'srv' ? 'High' : 'Normal',
		rbacGroupId: rbacId,
		rbacGroupName: os.rbac,
		riskScore: rng.weighted([['None', 3], ['Low', 3], ['Medium', 3], ['High', 2]] as const),
		exposureLevel: rng.weighted([['Low', 3], ['Medium', 5], ['High', 2]] as const),
		isAadJoined: os.osPlatform.startsWith('Windows1'),
		aadDeviceId: os.osPlatform.startsWith('Windows1') ? rng.guid() : null,
		machineTags: rng.chance(0.3) ? [rng.pick(['VIP', 'PCI', 'Pilot', 'Kiosk'])] : [],
		defenderAvStatus: 'Updated',
		onboardingStatus: 'Onboarded',
		osArchitecture: '64-bit',
		managedBy: rng.pick(['Intune', 'MicrosoftDefenderForEndpoint', 'ConfigMgr']),
		managedByStatus: 'Success',
		ipAddresses: [{ ipAddress: lastIp, macAddress: mac, type: 'Ethernet', operationalStatus: 'Up' }],
		vmMetadata: null,
	};
}

export function makeUser(rng: Rng, profile: TenantProfile, machineIds: string[], nowTicks: bigint, userName?: string, domainName?: string): UserEntity {
	const name = userName ?? `${rng.pick(FIRST_NAMES)[0]}${rng.pick(LAST_NAMES)}`;
	const domain = domainName ?? profile.netbios;
	const first = nowTicks - BigInt(rng.int(30, 700)) * 86_400n * TICKS_PER_SECOND;
	return {
		id: `${domain.toLowerCase()}\\${name}`,
		accountName: name,
		accountDomain: domain.toLowerCase(),
		accountSid: `S-1-5-21-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(100_000_000, 999_999_999)}-${rng.int(1100, 9999)}`,
		firstSeen: fromTicks(first),
		lastSeen: fromTicks(nowTicks - BigInt(rng.int(0, 72)) * 3600n * TICKS_PER_SECOND),
		mostPrevalentMachineId: machineIds.length > 0 ? rng.pick(machineIds) : null,
		leastPrevalentMachineId: machineIds.length > 0 ? rng.pick(machineIds) : null,
		logonTypes: rng.pick(['Interactive', 'Interactive,Network', 'RemoteInteractive,Network', 'Network']),
		logOnMachinesCount: rng.int(1, 6),
		isDomainAdmin: rng.chance(0.08),
		isOnlyNetworkUser: false,
	};
}

const fileKey = (spec: FileSpec, tenantId: string): string => `${spec.name}|${spec.threat ?? ''}|${spec.determination === 'Malware' ? tenantId : 'global'}`;

function fileEntity(spec: FileSpec, tenantId: string, nowTicks: bigint, rng: Rng): FileEntity {
	const key = fileKey(spec, tenantId);
	const first = nowTicks - BigInt(rng.int(2, 900)) * 86_400n * TICKS_PER_SECOND;
	return {
		sha1: digest('sha1', key),
		sha256: digest('sha256', key),
		md5: digest('md5', key),
		globalPrevalence: spec.prevalence,
		globalFirstObserved: fromTicks(first),
		globalLastObserved: fromTicks(nowTicks - BigInt(rng.int(0, 48)) * 3600n * TICKS_PER_SECOND),
		size: spec.size,
		fileType: spec.name.toLowerCase().endsWith('.txt') ? null : 'PortableExecutable',
		isPeFile: !spec.name.toLowerCase().endsWith('.txt'),
		filePublisher: spec.publisher,
		fileProductName: spec.product,
		signer: spec.signer,
		issuer: spec.issuer,
		signerHash: spec.signer ? digest('sha1', `signer|${spec.signer}`) : null,
		isValidCertificate: spec.signer ? true : null,
		determinationType: spec.determination,
		determinationValue: spec.threat ?? '',
	};
}

/** Register (or fetch) the File entity of a catalog file in the tenant. */
function catalogFile(entities: TenantEntities, name: keyof typeof FILES, nowTicks: bigint, rng: Rng): FileEntity {
	const spec = FILES[name];
	const existing = entities.files.get(digest('sha1', fileKey(spec, entities.profile.tenantId)));
	if (existing) return existing;
	const created = fileEntity(spec, entities.profile.tenantId, nowTicks, rng);
	entities.files.set(created.sha1, created);
	return created;
}

/** A File entity for an arbitrary sha1 seen in evidence (tests may add alerts with their own evidence). */
export function syntheticFile(sha1: string, sha256: string | null, fileName: string | null, nowTicks: bigint): FileEntity {
	const rng = new Rng(sha1);
	return {
		sha1,
		sha256: sha256 ?? digest('sha256', sha1),
		md5: digest('md5', sha1),
		globalPrevalence: rng.int(1, 5000),
		globalFirstObserved: fromTicks(nowTicks - BigInt(rng.int(2, 400)) * 86_400n * TICKS_PER_SECOND),
		globalLastObserved: fromTicks(nowTicks - BigInt(rng.int(0, 48)) * 3600n * TICKS_PER_SECOND),
		size: rng.int(10_000, 5_000_000),
		fileType: fileName && /\.(exe|dll|sys)$/i.test(fileName) ? 'PortableExecutable' : null,
		isPeFile: fileName ? /\.(exe|dll|sys)$/i.test(fileName) : false,
		filePublisher: null,
		fileProductName: null,
		signer: null,
		issuer: null,
		signerHash: null,
		isValidCertificate: null,
		determinationType: 'Unknown',
		determinationValue: '',
	};
}

/** An evidence entry with every field present and null, as the API serves it; callers fill in what applies. */
export const emptyEvidence = (entityType: string, created: string | null): AlertEvidence => ({
	entityType,
	evidenceCreationTime: created,
	sha1: null,
	sha256: null,
	fileName: null,
	filePath: null,
	processId: null,
	processCommandLine: null,
	processCreationTime: null,
	parentProcessId: null,
	parentProcessCreationTime: null,
	parentProcessFileName: null,
	parentProcessFilePath: null,
	ipAddress: null,
	url: null,
	registryKey: null,
	registryHive: null,
	registryValueType: null,
	registryValue: null,
	accountName: null,
	domainName: null,
	userSid: null,
	aadUserId: null,
	userPrincipalName: null,
	detectionStatus: null,
});

/** .NET-ticks-based alert id: `da<18 digits>_<signed int32>`. */
export function makeAlertId(rng: Rng, createdTicks: bigint, used: Set<string>): string {
	const prefix = `da${(createdTicks + DOTNET_EPOCH_OFFSET).toString().padStart(18, '0')}`;
	for (;;) {
		const id = `${prefix}_${rng.int32()}`;
		if (!used.has(id)) {
			used.add(id);
			return id;
		}
	}
}

export interface GenerateAlertInput {
	createdTicks: bigint;
	/** lastUpdateTime ticks; default: created + up to a few hours, capped at maxUpdateTicks. */
	updatedTicks?: bigint;
	maxUpdateTicks?: bigint;
	/** Alert lifecycle (default random: ~50% New). */
	status?: string;
	machine?: Machine;
	/** Force an evidence-rich template (used for High/New scenario alerts). */
	template?: AlertTemplate;
	/** Render lastUpdateTime with fewer digits (rounded to 10 ms or 100 ms), as the API sometimes does. */
	shortUpdateTime?: boolean;
}

export function pickTemplate(rng: Rng, predicate?: (t: AlertTemplate) => boolean): AlertTemplate {
	const candidates = predicate ? TEMPLATES.filter(predicate) : TEMPLATES;
	return rng.pick(candidates);
}

/** Templates that carry a user, a device and High severity (for "High/New with machine and user" scenarios). */
export const isHighWithUser = (t: AlertTemplate): boolean => t.needsUser && t.severities.some(([s]) => s === 'High') && t.file !== undefined;

export function generateAlert(rng: Rng, entities: TenantEntities, input: GenerateAlertInput): Alert {
	const { profile } = entities;
	const template = input.template ?? pickTemplate(rng);
	const machines = [...entities.machines.values()];
	const machine = input.machine ?? (machines.length > 0 ? rng.pick(machines) : undefined);
	const created = input.createdTicks;
	const firstEvent = created - BigInt(rng.int(20, 1800)) * TICKS_PER_SECOND - BigInt(rng.int(0, 9_999_999));
	const lastEvent = firstEvent + BigInt(rng.int(0, Number((created - firstEvent) / TICKS_PER_MS))) * TICKS_PER_MS + BigInt(rng.int(0, 9999));
	const lastEventClamped = lastEvent > created ? created : lastEvent;
	const status = input.status ?? rng.weighted([['New', 50], ['InProgress', 25], ['Resolved', 25]] as const);
	let updated = input.updatedTicks ?? created + BigInt(rng.int(0, status === 'New' ? 120 : 6 * 3600)) * TICKS_PER_SECOND + BigInt(rng.int(0, 9_999_999));
	if (input.updatedTicks === undefined && input.maxUpdateTicks !== undefined && updated > input.maxUpdateTicks) {
		updated = input.maxUpdateTicks > created ? input.maxUpdateTicks : created;
	}
	if (input.shortUpdateTime) updated -= updated % (rng.chance(0.5) ? 100_000n : 1_000_000n);
	if (updated < created) updated = created;
	const severity = rng.weighted(template.severities);

	// user
	let relatedUser: RelatedUser | null = null;
	if (template.needsUser && machine && !machine.osPlatform.startsWith('Linux')) {
		const users = [...entities.users.values()];
		const user = users.length > 0 ? rng.pick(users) : undefined;
		if (user) relatedUser = { userName: user.accountName, domainName: user.accountDomain.toUpperCase() };
	}
	const evidenceTime = fromTicks(created + BigInt(rng.int(1, 900)) * 1_000_000n);
	const evidenceTimeShort = trimFraction(fromTicks(created + BigInt(rng.int(1, 900)) * 100_000n));
	const userName = relatedUser?.userName ?? 'system';
	const fill = (text: string): string =>
		text
			.replace(/\{user\}/g, userName)
			.replace(/\{n\}/g, String(rng.int(2, 250)))
			.replace(/\{tld\}/g, rng.pick(['com', 'net', 'info', 'top']));

	const evidence: AlertEvidence[] = [];
	const file = template.file ? catalogFile(entities, template.file, created, rng) : undefined;
	const fileSpec = template.file ? FILES[template.file] : undefined;
	const parentSpec = template.parent ? FILES[template.parent] : undefined;
	const userSid = relatedUser ? entities.users.get(userKey(relatedUser))?.accountSid ?? null : null;
	for (const kind of template.evidence) {
		if (kind === 'process' && file && fileSpec) {
			const e = emptyEvidence('Process', evidenceTimeShort);
			const processCreated = firstEvent - BigInt(rng.int(0, 50_000_000));
			Object.assign(e, {
				sha1: file.sha1,
				sha256: file.sha256,
				fileName: fileSpec.name,
				filePath: fill(fileSpec.path),
				processId: rng.int(1000, 16000),
				processCommandLine: fill(template.commandLine ?? fileSpec.name),
				processCreationTime: fromTicks(processCreated),
				parentProcessId: parentSpec ? rng.int(400, 12000) : null,
				parentProcessCreationTime: parentSpec ? fromTicks(processCreated - BigInt(rng.int(10, 3600)) * TICKS_PER_SECOND - BigInt(rng.int(0, 9_999_999))) : null,
				parentProcessFileName: parentSpec?.name ?? null,
				parentProcessFilePath: parentSpec ? fill(parentSpec.path) : null,
				accountName: relatedUser?.userName ?? null,
				domainName: relatedUser?.domainName ?? null,
				userSid,
				detectionStatus: template.detectionSource === 'WindowsDefenderAv' ? 'Prevented' : 'Detected',
			});
			evidence.push(e);
		} else if (kind === 'file' && file && fileSpec) {
			const e = emptyEvidence('File', evidenceTime);
			Object.assign(e, {
				sha1: file.sha1,
				sha256: file.sha256,
				fileName: fileSpec.name,
				filePath: fill(fileSpec.path),
				detectionStatus: template.detectionSource === 'WindowsDefenderAv' ? 'Prevented' : 'Detected',
			});
			evidence.push(e);
		} else if (kind === 'user' && relatedUser) {
			const e = emptyEvidence('User', evidenceTimeShort);
			Object.assign(e, {
				accountName: relatedUser.userName,
				domainName: relatedUser.domainName,
				userSid,
				aadUserId: new Rng(`${profile.tenantId}|${relatedUser.userName}`).guid(),
				userPrincipalName: `${relatedUser.userName}@${profile.upnDomain}`,
			});
			evidence.push(e);
		} else if (kind === 'ip' && template.ip) {
			const e = emptyEvidence('Ip', evidenceTime);
			e.ipAddress = fill(template.ip);
			evidence.push(e);
		} else if (kind === 'url' && template.url) {
			const e = emptyEvidence('Url', evidenceTime);
			e.url = fill(template.url);
			evidence.push(e);
		} else if (kind === 'registry' && template.registry) {
			const e = emptyEvidence('Registry', evidenceTime);
			Object.assign(e, {
				registryKey: template.registry.key,
				registryHive: template.registry.hive,
				registryValueType: template.registry.valueType,
				registryValue: template.registry.value,
			});
			evidence.push(e);
		}
	}

	let classification: string | null = null;
	let determination: string | null = null;
	let resolvedTime: string | null = null;
	let assignedTo: string | null = null;
	const comments: Alert['comments'] = [];
	if (status !== 'New') {
		assignedTo = rng.chance(0.2) ? 'Automation' : rng.pick(profile.analysts);
		const commentTicks = created + (updated - created) / 2n;
		comments.push({ comment: rng.pick(COMMENTS), createdBy: assignedTo, createdTime: fromTicks(commentTicks) });
	} else if (rng.chance(0.15)) {
		assignedTo = rng.pick(profile.analysts);
	}
	if (status === 'Resolved') {
		const [cls, dets] = rng.pick(CLASSIFICATIONS);
		classification = cls;
		determination = rng.pick(dets);
		resolvedTime = fromTicks(updated);
	} else if (status === 'InProgress' && rng.chance(0.3)) {
		classification = 'TruePositive';
		determination = rng.pick(CLASSIFICATIONS[0][1]);
	}

	const investigation = template.detectionSource !== 'MTP' && template.detectionSource !== 'CustomDetection' && rng.chance(0.7);
	const alert: Alert = {
		id: makeAlertId(rng, created, entities.usedIds),
		incidentId: entities.nextIncidentId++,
		investigationId: investigation ? entities.nextInvestigationId++ : null,
		assignedTo,
		severity,
		status,
		classification,
		determination,
		investigationState: investigation ? rng.weighted(INVESTIGATION_STATES) : 'UnsupportedAlertType',
		detectionSource: template.detectionSource,
		detectorId: new Rng(`detector|${template.title}`).guid(),
		category: template.category,
		threatFamilyName: template.threatFamilyName ?? null,
		title: template.title,
		description: template.description,
		alertCreationTime: fromTicks(created),
		firstEventTime: fromTicks(firstEvent),
		lastEventTime: fromTicks(lastEventClamped),
		lastUpdateTime: trimFraction(fromTicks(updated)),
		resolvedTime,
		machineId: machine?.id ?? null,
		computerDnsName: machine?.computerDnsName ?? null,
		rbacGroupName: machine?.rbacGroupName ?? null,
		aadTenantId: profile.tenantId,
		threatName: fileSpec?.threat ?? null,
		mitreTechniques: [...template.mitre],
		relatedUser,
		comments,
		evidence,
	};
	// Some alerts join the previous incident, as related alerts do.
	if (alert.incidentId !== null && rng.chance(0.2) && entities.nextIncidentId > 2) {
		entities.nextIncidentId--;
		alert.incidentId = entities.nextIncidentId - 1;
	}
	return alert;
}

export function makeHuntingEvent(rng: Rng, entities: TenantEntities, eventTicks: bigint): HuntingEvent {
	const machines = [...entities.machines.values()].filter((m) => m.osPlatform.startsWith('Windows'));
	const machine = machines.length > 0 ? rng.pick(machines) : rng.pick([...entities.machines.values()]);
	const users = [...entities.users.values()];
	const user = users.length > 0 ? rng.pick(users) : undefined;
	const kind = rng.pick(['powershell', 'rundll32', 'schtasks', 'cmd'] as const);
	const spec = FILES[kind];
	const file = catalogFile(entities, kind, eventTicks, rng);
	return {
		reportId: String(rng.int(1000, 999_999)),
		eventTime: fromTicks(eventTicks),
		machineId: machine.id,
		actionType: 'ProcessCreated',
		fileName: spec.name,
		folderPath: `${spec.path}\\${spec.name}`,
		sha1: file.sha1,
		processCommandLine: kind === 'powershell' ? 'powershell.exe -ExecutionPolicy Bypass -File C:\\Users\\Public\\inv.ps1' : `${spec.name} /c whoami`,
		accountName: user?.accountName ?? null,
		accountDomain: user?.accountDomain ?? null,
	};
}

export const ALERT_TEMPLATES: readonly AlertTemplate[] = TEMPLATES;

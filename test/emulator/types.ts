/**
 * Public types of the Entra ID + Defender for Endpoint emulator. Shapes follow
 * Microsoft's pages: https://learn.microsoft.com/en-us/defender-endpoint/api/alerts (alert entity), the alert-related entity pages, https://learn.microsoft.com/en-us/defender-endpoint/api/machine (machine).
 */

export type RequestKind = 'token' | 'discovery' | 'api' | 'control' | 'other';
export type EndpointClass = 'alerts' | 'batchUpdate' | 'createByReference' | 'indicators' | 'indicatorImport' | 'machines' | 'machineActions' | 'packageUri' | 'graphAlerts';

export interface RateLimitRule {
	limit: number;
	windowMs: number;
}
export type RateLimitConfig = Record<EndpointClass, RateLimitRule[]>;

export interface EmulatorOptions {
	/** HTTPS port on 127.0.0.1; 0 (default) picks a free port. */
	port?: number;
	/** CONNECT proxy port on 127.0.0.1; 0 (default) picks a free port. */
	proxyPort?: number;
	/** Directory holding server.pem, server-key.pem and ca.pem. Default: test/.certs of this repository. */
	certDir?: string;
	/** `expires_in` of issued tokens (default 3599). */
	tokenLifetimeSeconds?: number;
	/** Rate limits per endpoint class; `false` disables them. Missing classes keep the documented defaults. */
	rateLimits?: Partial<RateLimitConfig> | false;
	/** Maximum alertIds per batchUpdate (default 500). */
	maxBatchSize?: number;
	/** Largest `$top` and the implicit page size of `GET /api/alerts` (default 10000, as documented). */
	maxPageSize?: number;
	/** Delay added to every token/discovery/API response (default 0). */
	latencyMs?: number;
	/** Replaces the real-time source of the emulator clock. */
	clock?: ClockSource;
	/** Most recent request-log entries kept (default 200000). */
	logLimit?: number;
	/** Build a directory and seed alerts at start (see createScenario). */
	scenario?: ScenarioOptions;
	/**
	 * HTTP status for a valid token whose `aud` is another API: 403 (default; what community integrations observe,
	 * https://github.com/MicrosoftDocs/microsoft-365-docs/issues/9246) or 401 (what many Entra-protected APIs answer).
	 */
	wrongAudienceStatus?: 401 | 403;
	/** Resources besides Defender's that the token endpoint issues tokens for (default: Azure Resource Manager, Key Vault). */
	otherResources?: string[];
	/**
	 * Microsoft Graph security alerts_v2 (graph.ts): `true` or settings enable Graph tokens; the routes under `/v1.0`
	 * always exist. Default off (a Graph scope then answers AADSTS500011, as before).
	 */
	graph?: boolean | Partial<import('./graph').GraphSettings>;
}

/** What a clock function may return: a Date, epoch milliseconds or an ISO timestamp (7 digits kept). */
export type ClockSource = () => Date | number | string;

// ---------------------------------------------------------------------------------------------------------------
// Directory (Entra)

export interface TenantInput {
	/** GUID; generated when absent. */
	id?: string;
	name: string;
	/** Verified domains, e.g. `contoso.onmicrosoft.com`. Default: `<name-lowercase>.onmicrosoft.com`. */
	domains?: string[];
}

export interface Tenant {
	id: string;
	name: string;
	domains: string[];
}

export interface SecretInput {
	value?: string;
	expired?: boolean;
}

export interface AppInput {
	/** GUID; generated when absent. */
	clientId?: string;
	name: string;
	/** Tenant that owns the registration. Must exist. */
	homeTenantId: string;
	/** Default true (MSSP apps are multi-tenant). */
	multiTenant?: boolean;
	/** Secrets; default: one random secret. */
	secrets?: Array<string | SecretInput>;
	/** Roles granted in the home tenant (a service principal always exists there). */
	homeRoles?: string[];
	/** PEM certificates registered under Certificates & secrets (client assertions signed by their keys are accepted). */
	certificates?: string[];
	/**
	 * Subject names trusted for subject-name/issuer authentication (the manifest's trustedCertificateSubjects): an
	 * assertion whose `x5c` leaf has this subject (CN or full subject) is accepted with that certificate's key.
	 */
	trustedCertificateSubjects?: string[];
}

export interface AppCertificateInfo {
	/** hex, upper case, of the DER (the assertion's `x5t#S256`, base64url-decoded) */
	thumbprintSha256: string;
	/** hex, upper case (what the Entra portal lists as "Thumbprint") */
	thumbprintSha1: string;
	subject: string;
	notBefore: string;
	notAfter: string;
	expired: boolean;
}

export interface AppSecretInfo {
	/** Secret ID (GUID), as shown in the Entra portal. Never the value. */
	id: string;
	/** First three characters, as the Entra portal shows them. */
	hint: string;
	expired: boolean;
}

export interface App {
	clientId: string;
	name: string;
	homeTenantId: string;
	multiTenant: boolean;
	/** Secret values, returned only by addApp/addSecret and the scenario helpers. */
	secrets: string[];
}

export interface Consent {
	tenantId: string;
	clientId: string;
	/** Object id of the service principal in that tenant (the token's `oid`). */
	servicePrincipalId: string;
	roles: string[];
}

export interface TokenTarget {
	/** GUID or verified domain. Omit to address every tenant. */
	tenantId?: string;
	/** Omit to address every app. */
	clientId?: string;
}

export interface IssueTokenOptions {
	tenantId: string;
	clientId: string;
	/** Resource (aud) without `/.default`; default `https://api.securitycenter.microsoft.com`. */
	resource?: string;
	/** Default: the roles granted in that tenant. */
	roles?: string[];
	lifetimeSeconds?: number;
	/** Shift iat/nbf/exp, e.g. -7200 for an already expired token. */
	issuedAtOffsetSeconds?: number;
	/** Extra or overriding claims (for negative tests, e.g. a foreign `aud`). */
	claims?: Record<string, unknown>;
}

export interface TokenCount {
	tenantId: string;
	clientId: string;
	scope: string;
	count: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Defender entities

export interface AlertComment {
	comment: string;
	createdBy: string;
	createdTime: string;
}

export interface AlertEvidence {
	entityType: string;
	evidenceCreationTime: string | null;
	sha1: string | null;
	sha256: string | null;
	fileName: string | null;
	filePath: string | null;
	processId: number | null;
	processCommandLine: string | null;
	processCreationTime: string | null;
	parentProcessId: number | null;
	parentProcessCreationTime: string | null;
	parentProcessFileName: string | null;
	parentProcessFilePath: string | null;
	ipAddress: string | null;
	url: string | null;
	registryKey: string | null;
	registryHive: string | null;
	registryValueType: string | null;
	registryValue: string | null;
	accountName: string | null;
	domainName: string | null;
	userSid: string | null;
	aadUserId: string | null;
	userPrincipalName: string | null;
	detectionStatus: string | null;
}

export interface RelatedUser {
	userName: string;
	domainName: string;
}

export interface Alert {
	id: string;
	incidentId: number | null;
	investigationId: number | null;
	assignedTo: string | null;
	severity: string;
	status: string;
	classification: string | null;
	determination: string | null;
	investigationState: string | null;
	detectionSource: string;
	detectorId: string;
	category: string;
	threatFamilyName: string | null;
	title: string;
	description: string;
	alertCreationTime: string;
	firstEventTime: string | null;
	lastEventTime: string | null;
	lastUpdateTime: string;
	resolvedTime: string | null;
	machineId: string | null;
	computerDnsName: string | null;
	rbacGroupName: string | null;
	aadTenantId: string;
	threatName: string | null;
	mitreTechniques: string[];
	relatedUser: RelatedUser | null;
	comments: AlertComment[];
	evidence: AlertEvidence[];
}

/**
 * Input of addAlerts: any alert field (missing ones are generated realistically) plus emulator-only controls.
 * `alertCreationTime`/`lastUpdateTime` may be given with any number of fraction digits; lastUpdateTime is
 * served exactly as given (the real API also shortens it, e.g. `…59.2Z`).
 */
export type AlertInput = Partial<Alert> & {
	/** Alert exists but the API does not return it until revealAlert(). */
	hidden?: boolean;
	/** Ingestion latency: invisible until the emulator clock reaches this timestamp, or this many ms from now. */
	visibleAfter?: string | number;
	/** Register the alert's machine so that /machine answers (default true). */
	machineKnown?: boolean;
};

export interface Machine {
	id: string;
	computerDnsName: string;
	firstSeen: string;
	lastSeen: string;
	osPlatform: string;
	osVersion: string | null;
	osProcessor: string;
	version: string;
	lastIpAddress: string;
	lastExternalIpAddress: string;
	agentVersion: string;
	osBuild: number;
	healthStatus: string;
	deviceValue: string;
	rbacGroupId: number;
	rbacGroupName: string;
	riskScore: string;
	exposureLevel: string;
	isAadJoined: boolean;
	aadDeviceId: string | null;
	machineTags: string[];
	defenderAvStatus: string;
	onboardingStatus: string;
	osArchitecture: string;
	managedBy: string;
	managedByStatus: string;
	ipAddresses: Array<{ ipAddress: string; macAddress: string; type: string; operationalStatus: string }>;
	vmMetadata: null;
}

export interface UserEntity {
	id: string;
	accountName: string;
	accountDomain: string;
	accountSid: string;
	firstSeen: string;
	lastSeen: string;
	mostPrevalentMachineId: string | null;
	leastPrevalentMachineId: string | null;
	logonTypes: string;
	logOnMachinesCount: number;
	isDomainAdmin: boolean;
	isOnlyNetworkUser: boolean;
}

export interface FileEntity {
	sha1: string;
	sha256: string;
	md5: string;
	globalPrevalence: number;
	globalFirstObserved: string;
	globalLastObserved: string;
	size: number;
	fileType: string | null;
	isPeFile: boolean;
	filePublisher: string | null;
	fileProductName: string | null;
	signer: string | null;
	issuer: string | null;
	signerHash: string | null;
	isValidCertificate: boolean | null;
	determinationType: string;
	determinationValue: string;
}

/** An advanced-hunting event that CreateAlertByReference can reference. */
export interface HuntingEvent {
	reportId: string;
	eventTime: string;
	machineId: string;
	actionType: string;
	fileName: string | null;
	folderPath: string | null;
	sha1: string | null;
	processCommandLine: string | null;
	accountName: string | null;
	accountDomain: string | null;
}

export interface SeedOptions {
	/** Number of alerts (default 40). */
	alerts?: number;
	/** PRNG seed (default: the tenant id). Same seed and tenant → same data. */
	seed?: number | string;
	/** Earliest alertCreationTime (default: end − 7 days). */
	start?: string | Date;
	/** Latest alertCreationTime (default: emulator now). */
	end?: string | Date;
	/** Devices to create (default ≈ alerts/4, 3..25). */
	machines?: number;
	/** Hunting events for CreateAlertByReference (default 12). */
	events?: number;
}

export interface SeedResult {
	tenantId: string;
	alertIds: string[];
	machineIds: string[];
	events: HuntingEvent[];
}

// ---------------------------------------------------------------------------------------------------------------
// Faults, log

export interface FaultMatch {
	method?: string;
	/** Substring of, or RegExp tested against, the request path including the query string. */
	path?: string | RegExp;
	/** Tenant GUID (token requests by domain match too). */
	tenantId?: string;
	kind?: 'token' | 'api' | 'discovery';
}

export interface FaultSpec {
	match?: FaultMatch;
	/** How many matching requests the fault applies to (default 1). */
	times?: number;
	/** Respond with this status (a realistic body for the request kind is generated unless `body` is given). */
	status?: number;
	body?: unknown;
	/** Response headers. If omitted for a 429, `Retry-After: 1` is added. */
	headers?: Record<string, string>;
	/** Destroy the socket without a response (after delayMs). */
	reset?: boolean;
	/** Wait this long first. Without status/reset the request is then handled normally. */
	delayMs?: number;
}

export interface FaultInfo {
	id: number;
	remaining: number;
	spec: FaultSpec;
}

export interface RequestLogEntry {
	seq: number;
	/** Wall-clock receive time (ISO, ms). */
	at: string;
	method: string;
	host: string;
	path: string;
	query: Record<string, string | string[]>;
	kind: RequestKind;
	tenantId?: string;
	clientId?: string;
	endpointClass?: EndpointClass;
	/** Token requests: the requested scope (v2) or resource (v1). */
	scope?: string;
	status: number;
	/** `error.code` of API errors, `error` of Entra errors. */
	errorCode?: string;
	/** AADSTS number of Entra errors. */
	aadsts?: number;
	viaProxy: boolean;
	userAgent?: string;
	faulted?: boolean;
	/** True when the socket was destroyed instead of answered (status 0). */
	reset?: boolean;
	durationMs: number;
}

export interface RequestFilter {
	kind?: RequestKind;
	method?: string;
	/** Substring of, or RegExp tested against, the path (without query). */
	path?: string | RegExp;
	host?: string;
	tenantId?: string;
	clientId?: string;
	endpointClass?: EndpointClass;
	status?: number;
	viaProxy?: boolean;
	sinceSeq?: number;
	where?: (entry: RequestLogEntry) => boolean;
}

export interface ThrottleCount {
	clientId: string;
	tenantId: string;
	endpointClass: EndpointClass;
	count: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

export interface ScenarioOptions {
	tenants: number;
	alertsPerTenant?: number;
	roles?: string[];
	/** Base PRNG seed (default 1). */
	seed?: number;
	appName?: string;
	clientId?: string;
	clientSecret?: string;
	/** Domain prefix: `customer001.onmicrosoft.com` … (default "customer"). */
	domainPrefix?: string;
	/** Window for seeded alerts (default: last 7 days). */
	start?: string | Date;
	end?: string | Date;
	/** Hunting events per tenant (default 6). */
	eventsPerTenant?: number;
	/** PEM certificates registered on the scenario's app (certificate sign-in). */
	certificates?: string[];
}

export interface ScenarioTenant {
	id: string;
	name: string;
	domain: string;
	alertIds: string[];
	machineIds: string[];
	events: HuntingEvent[];
}

export interface Scenario {
	clientId: string;
	clientSecret: string;
	appName: string;
	homeTenantId: string;
	tenants: ScenarioTenant[];
}

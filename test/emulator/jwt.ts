import { createHash, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export interface JwtHeader {
	typ?: string;
	alg?: string;
	kid?: string;
	x5t?: string;
	[key: string]: unknown;
}

export type JwtPayload = Record<string, unknown>;

export type VerifyResult =
	| { ok: true; header: JwtHeader; payload: JwtPayload }
	| { ok: false; reason: 'malformed' | 'algorithm' | 'signature'; message: string };

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Decode without verifying (for request attribution only). */
export function decodeJwt(token: string): { header: JwtHeader; payload: JwtPayload } | undefined {
	const parts = token.split('.');
	if (parts.length !== 3) return undefined;
	try {
		const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
		const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
		if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null) return undefined;
		return { header: header as JwtHeader, payload: payload as JwtPayload };
	} catch {
		return undefined;
	}
}

/** RS256 signer with a key pair generated at start; kid = x5t-style thumbprint of the public key. */
export class JwtSigner {
	readonly kid: string;
	private readonly privateKey: KeyObject;
	private readonly publicKey: KeyObject;

	constructor() {
		const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
		this.privateKey = privateKey;
		this.publicKey = publicKey;
		const der = publicKey.export({ format: 'der', type: 'spki' });
		this.kid = createHash('sha1').update(der).digest('base64url');
	}

	sign(payload: JwtPayload): string {
		const header: JwtHeader = { typ: 'JWT', alg: 'RS256', x5t: this.kid, kid: this.kid };
		const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
		const signature = cryptoSign('RSA-SHA256', Buffer.from(signingInput), this.privateKey);
		return `${signingInput}.${b64url(signature)}`;
	}

	verify(token: string): VerifyResult {
		const parts = token.split('.');
		if (parts.length !== 3 || parts.some((p) => p.length === 0 || !/^[A-Za-z0-9_-]+$/.test(p))) {
			return { ok: false, reason: 'malformed', message: 'The access token is malformed (expected a compact JWS).' };
		}
		const decoded = decodeJwt(token);
		if (!decoded) return { ok: false, reason: 'malformed', message: 'The access token could not be decoded.' };
		if (decoded.header.alg !== 'RS256') {
			return { ok: false, reason: 'algorithm', message: `The token signing algorithm '${String(decoded.header.alg)}' is not accepted.` };
		}
		if (decoded.header.kid !== this.kid) {
			return { ok: false, reason: 'signature', message: 'The token signing key identifier (kid) is unknown.' };
		}
		const valid = cryptoVerify(
			'RSA-SHA256',
			Buffer.from(`${parts[0]}.${parts[1]}`),
			this.publicKey,
			Buffer.from(parts[2], 'base64url'),
		);
		if (!valid) return { ok: false, reason: 'signature', message: 'The token signature is invalid.' };
		return { ok: true, header: decoded.header, payload: decoded.payload };
	}

	jwks(issuer?: string): { keys: Array<Record<string, unknown>> } {
		const jwk = this.publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
		const key: Record<string, unknown> = { kty: jwk.kty, use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e };
		if (issuer) key.issuer = issuer;
		return { keys: [key] };
	}
}

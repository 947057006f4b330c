/**
 * The client certificates scripts/make-certs.sh creates for certificate sign-in tests (test/.certs/client; the jest
 * and e2e scripts run it first): an app pair, a second pair that is not registered, an encrypted key, a PKCS#1 key,
 * an EC pair, and expired / not-yet-valid certificates.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const DIR = path.resolve(__dirname, '..', '.certs', 'client');

function ensure(): void {
	if (existsSync(path.join(DIR, '.complete'))) return;
	const made = spawnSync('bash', [path.resolve(__dirname, '..', '..', 'scripts', 'make-certs.sh')], { stdio: 'inherit' });
	if (made.status !== 0) throw new Error('scripts/make-certs.sh failed');
}

export function clientCert(name: string): string {
	ensure();
	return readFileSync(path.join(DIR, name), 'utf8');
}

export const certs = {
	get app() {
		return { certificate: clientCert('app.pem'), privateKey: clientCert('app-key.pem') };
	},
	get other() {
		return { certificate: clientCert('other.pem'), privateKey: clientCert('other-key.pem') };
	},
	get expired() {
		return { certificate: clientCert('expired.pem'), privateKey: clientCert('expired-key.pem') };
	},
	get future() {
		return { certificate: clientCert('future.pem'), privateKey: clientCert('future-key.pem') };
	},
	get ec() {
		return { certificate: clientCert('ec.pem'), privateKey: clientCert('ec-key.pem') };
	},
	get encryptedKey() {
		return clientCert('app-key-encrypted.pem');
	},
	get pkcs1Key() {
		return clientCert('app-key-pkcs1.pem');
	},
	get passphrase() {
		return clientCert('passphrase.txt').trim();
	},
};

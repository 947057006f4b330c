#!/usr/bin/env bash
# Creates a throw-away local CA and a server certificate for the Defender + Entra emulator (loopback only).
# Test processes trust the CA through NODE_EXTRA_CA_CERTS; TLS verification is never switched off.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CERT_DIR:-test/.certs}"
mkdir -p "$DIR"
if [ -s "$DIR/ca.pem" ] && [ -s "$DIR/server.pem" ] && [ -s "$DIR/server-key.pem" ]; then exit 0; fi
cat > "$DIR/server.ext" <<'EXT'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=@alt
[alt]
IP.1=127.0.0.1
IP.2=::1
DNS.1=localhost
DNS.2=login.microsoftonline.com
DNS.3=login.microsoftonline.us
DNS.4=api.security.microsoft.com
DNS.5=*.api.security.microsoft.com
DNS.6=api.securitycenter.microsoft.com
DNS.7=api.securitycenter.windows.com
DNS.8=api-gcc.securitycenter.microsoft.us
DNS.9=api-gov.securitycenter.microsoft.us
DNS.10=*.emulator.localhost
EXT
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=n8n-nodes-defender-endpoint test CA" \
  -keyout "$DIR/ca-key.pem" -out "$DIR/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=defender-emulator" -keyout "$DIR/server-key.pem" -out "$DIR/server.csr" 2>/dev/null
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial -days 825 \
  -extfile "$DIR/server.ext" -out "$DIR/server.pem" 2>/dev/null
rm -f "$DIR/server.csr" "$DIR/ca.srl"
echo "[certs] created $DIR (local CA + emulator certificate)"

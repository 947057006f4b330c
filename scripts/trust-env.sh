# shellcheck shell=bash
# Source this file: trusts the local test CA (the emulator's) IN ADDITION to the extra CAs this machine already
# trusts through NODE_EXTRA_CA_CERTS (on these machines the npm registry's TLS depends on them). TLS verification
# is never switched off.
_trust_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$_trust_root/scripts/make-certs.sh"
_trust_bundle="$_trust_root/test/.certs/trust-bundle.pem"
if [ "${NODE_EXTRA_CA_CERTS:-}" != "$_trust_bundle" ]; then
  {
    if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "${NODE_EXTRA_CA_CERTS}" ]; then cat "$NODE_EXTRA_CA_CERTS"; echo; fi
    cat "$_trust_root/test/.certs/ca.pem"
  } > "$_trust_bundle.tmp"
  mv "$_trust_bundle.tmp" "$_trust_bundle"
  export NODE_EXTRA_CA_CERTS="$_trust_bundle"
fi

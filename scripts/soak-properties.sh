#!/usr/bin/env bash
# Soak the poller property suites (test/unit/poller*.test.ts): every fast-check `numRuns` is multiplied by
# PROPERTY_RUNS_FACTOR (default here 50; the tests default to 1, the CI counts). The tests append one JSON line per
# property check to PROPERTY_RUNS_LOG with the runs fast-check actually executed; the summary sums those.
# Extra arguments go to jest (e.g. -t 'tiny seen caps'). Exit status: 0 only if every test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24-env.sh
source scripts/trust-env.sh

export PROPERTY_RUNS_FACTOR="${PROPERTY_RUNS_FACTOR:-50}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PROPERTY_RUNS_LOG="$work/runs.jsonl"
: >"$PROPERTY_RUNS_LOG"

echo "soak: PROPERTY_RUNS_FACTOR=$PROPERTY_RUNS_FACTOR, suites: $(echo test/unit/poller*.test.ts)"
started=$(date +%s)
rc=0
npx jest --json --outputFile="$work/jest.json" "$@" test/unit/poller*.test.ts || rc=$?
elapsed=$(($(date +%s) - started))

node - "$PROPERTY_RUNS_LOG" "$work/jest.json" "$rc" "$elapsed" <<'JS'
const fs = require('node:fs');
const [logPath, jsonPath, rcText, elapsed] = process.argv.slice(2);
const checks = fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sum = (xs) => xs.reduce((n, c) => n + c.numRuns, 0);
const props = checks.filter((c) => !c.refutation);
const refutations = checks.filter((c) => c.refutation);
for (const c of checks) {
	const what = c.refutation ? (c.failed ? 'refuted after' : 'NOT refuted in') : c.failed ? 'FAILED after' : 'passed';
	console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${String(c.numRuns).padStart(7)} / ${String(c.requested).padStart(7)} runs  ${what}  ${c.test}`);
}
let failures = checks.filter((c) => !c.ok).length;
let jestLine = 'jest wrote no report';
if (fs.existsSync(jsonPath)) {
	const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
	const failedNames = j.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName));
	for (const name of failedNames) console.log(`  failed test: ${name}`);
	// A failed test without a failed check (e.g. the corner-case test) still counts; suites that did not run too.
	failures = Math.max(failures, j.numFailedTests) + j.numRuntimeErrorTestSuites;
	jestLine = `jest: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numRuntimeErrorTestSuites} suites did not run`;
} else {
	failures = Math.max(failures, 1);
}
if (Number(rcText) !== 0 && failures === 0) failures = 1; // jest failed for a reason not reported above
console.log(`${jestLine}; ${elapsed} s`);
console.log(`soak: ${props.length} property checks ran ${sum(props)} runs; ${refutations.length} refutation checks ran ${sum(refutations)} runs`);
console.log(`soak: ${sum(checks)} property runs, ${failures} failures`);
process.exitCode = failures === 0 ? 0 : 1;
JS

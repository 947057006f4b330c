// Prints one closing line for all jest runs: "tests: N passed, M failed" (what CI reads).
const fs = require('node:fs');
let passed = 0;
let failed = 0;
let suitesFailed = 0;
for (const file of process.argv.slice(2)) {
	if (!fs.existsSync(file)) continue;
	const r = JSON.parse(fs.readFileSync(file, 'utf8'));
	passed += r.numPassedTests;
	failed += r.numFailedTests;
	suitesFailed += r.numFailedTestSuites + (r.numRuntimeErrorTestSuites || 0);
}
if (suitesFailed > 0 && failed === 0) failed = suitesFailed; // a suite that crashed counts as a failure
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

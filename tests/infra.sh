#!/usr/bin/env bash
# Tests the CDK app in infra/: its jest tests (resources, least-privilege
# policies, the definition's substitutions, cdk-nag), then the synthesized
# template linted by cfn-lint and the deployed definition checked by
# asl-validator. Offline, no AWS credentials, no Lambda build (bundling is
# skipped). Run from anywhere; tests/run_all.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "infra: npm ci"
npm ci --prefix infra --no-audit --no-fund --loglevel=error

step "infra: type check and jest"
# `npm test` is `tsc --noEmit && jest`: either failing exits non-zero, and set -e stops here.
npm test --prefix infra --silent

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Two deployments between them create every resource the stack can have. cdk synth also runs
# the cdk-nag AwsSolutions checks (bin/s3la.ts): an unacknowledged finding fails it.
synth() {
  local name="$1"
  shift
  step "infra: cdk synth ($name)"
  (cd infra && npx --no-install cdk synth --quiet --no-notices --no-version-reporting \
    -o "$tmp/$name" -c skipBundling=true \
    -c logsBucket=acme-access-logs -c logsPrefix=logs/123456789012/eu-west-1/acme-data/ "$@")
}
synth defaults
# downloadLinks with a throwaway public key; the secret's ARN only needs the right shape.
links="$(node -e '
const { generateKeyPairSync } = require("crypto");
const publicKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" });
console.log(JSON.stringify({ publicKeyPem, privateKeySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3la-link-key-AbCdEf" }));
')"
synth everything -c "downloadLinks=$links" -c tracing=true -c logRemoval=true -c geoip=false \
  -c fromEmail=reports@acme.example -c targetEmailAddress=ops@acme.example \
  -c createEmailIdentity=true -c sesSandbox=true -c alarmEmail=oncall@acme.example \
  -c resultsTransitionDays=30 -c resultsExpirationDays=730 \
  -c 'schedules={"weekly":{"email":true},"monthly":{"removeMeta":true,"removeOriginalLogs":true},"quarterly":{"selectAll":true}}'
synth simple -c logsLayout=simple -c logsPrefix=access-logs/ -c resultsBucket=acme-reports \
  -c resultsPrefix=usage/ -c schedules=none

step "infra: cfn-lint"
if [ -n "${CFN_LINT:-}" ]; then
  cfn_lint=("$CFN_LINT")
elif [ -x .venv/bin/cfn-lint ]; then
  cfn_lint=(.venv/bin/cfn-lint)
elif command -v cfn-lint >/dev/null; then
  cfn_lint=(cfn-lint)
else
  echo "error: cfn-lint not found: it comes from tests/requirements.txt into .venv (or set CFN_LINT)" >&2
  exit 1
fi
"${cfn_lint[@]}" --version
# W3005 ("dependency already enforced by a GetAtt") is how CDK always writes a role's
# DependsOn on its default policy; every other warning fails, as does any error.
"${cfn_lint[@]}" --ignore-checks W3005 -- "$tmp"/*/*.template.json
echo "cfn-lint: no findings"

step "infra: asl-validator on the definition as deployed"
if [ ! -x tests/js/node_modules/.bin/asl-validator ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi
# The template's DefinitionString with its DefinitionSubstitutions applied, each function ARN
# given the shape of a real one.
node - "$tmp/defaults/S3LogsAnalyzer.template.json" "$tmp/deployed.asl.json" <<'EOF'
const fs = require('fs');
const [templateFile, out] = process.argv.slice(2);
const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
const { DefinitionString: definition, DefinitionSubstitutions: subs } = machines[0].Properties;
if (typeof definition !== 'string') throw new Error('DefinitionString is not a plain string');
const value = (v) =>
  typeof v === 'string' ? v
  : v['Fn::GetAtt'] ? `arn:aws:lambda:us-east-1:123456789012:function:${v['Fn::GetAtt'][0]}`
  : (() => { throw new Error(`unexpected substitution ${JSON.stringify(v)}`); })();
const deployed = definition.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name) => {
  if (!(name in subs)) throw new Error(`\${${name}} has no substitution`);
  return value(subs[name]);
});
fs.writeFileSync(out, deployed);
EOF
tests/js/node_modules/.bin/asl-validator --json-path "$tmp/deployed.asl.json"

echo
echo "infra: all checks passed"

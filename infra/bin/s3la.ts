#!/usr/bin/env node
import { App, Validations, cx_api as cxapi } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_KEYS, ConfigError, loadConfig } from '../lib/config';
import { S3laStack } from '../lib/s3la-stack';

const app = new App();

// `-c skipBundling=true`: synthesize without building the Lambdas (no cargo-lambda needed), for
// linting the template. The CLI refuses `aws:` context keys, so the app sets CDK's own switch.
if (String(app.node.tryGetContext('skipBundling')) === 'true') {
  app.node.setContext(cxapi.BUNDLING_STACKS, []);
}

// A mistyped key (`-c logBucket=...`) would silently leave its default in place: say so.
const appKeys = new Set<string>([...CONTEXT_KEYS, 'stackName', 'skipBundling']);
for (const key of Object.keys(app.node.getAllContext())) {
  if (!key.includes(':') && !appKeys.has(key)) {
    console.error(`warning: context ${key} is not a setting of this app (infra/README.md lists them)`);
  }
}

// A setting refused while reading the settings, or while building the stack (a check that needs
// the definition file), ends the synth with its message alone.
try {
  const config = loadConfig((key) => app.node.tryGetContext(key));
  new S3laStack(app, app.node.tryGetContext('stackName') ?? 'S3LogsAnalyzer', {
    description: 'S3 Logs Analyzer: scheduled usage reports from S3 server access logs',
    // Environment-agnostic unless the CLI knows the account and region: nothing in the stack
    // looks anything up, so `cdk synth` works offline and without credentials.
    env: {
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: process.env.CDK_DEFAULT_REGION,
    },
    config,
  });
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

// AWS Solutions checks on every synth: a finding without an acknowledgement fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

import * as fs from 'fs';
import * as path from 'path';
import { CONTEXT_KEYS, DEFAULTS, MAX_QUERY_POLLS } from '../lib/config';
import { stateMachineLogGroupName } from '../lib/report-state-machine';
import { synth } from './helpers';

/** infra/README.md says what the code does: checked where a sentence states a fact of the code. */
describe('infra/README.md', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const row = (key: string) => readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));

  test('the settings table has a row for every setting, with the defaults and limits config.ts applies', () => {
    for (const key of CONTEXT_KEYS) {
      expect([key, readme.includes(`\`${key}\``)]).toEqual([key, true]);
    }
    expect(row('athenaDatabase')).toContain(`| \`${DEFAULTS.athenaDatabase}\` |`);
    expect(row('queryMaxPolls')).toContain(`| \`${DEFAULTS.queryMaxPolls}\` |`);
    expect(row('queryMaxPolls')).toContain(`At most ${MAX_QUERY_POLLS}`);
  });

  test("what cdk destroy keeps is what the template retains: the created results bucket alone", () => {
    const { template } = synth();
    const retained = Object.values(template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>)
      .filter((r) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'Snapshot')
      .map((r) => r.Type);
    expect(retained).toEqual(['AWS::S3::Bucket']);
    const section = readme.slice(readme.indexOf('### 8. Removing the stack'), readme.indexOf('## Permissions'));
    expect(section).toContain('the **results bucket** the stack created (`RETAIN`');
    expect(section).toContain('every log group');
  });

  test("names the state machine's log group, the region to deploy in, and how to read the private outputs", () => {
    expect(readme).toContain(`\`${stateMachineLogGroupName('<stack name>')}\``);
    expect(readme).toContain("Deploy in **the log bucket's region**");
    expect(readme).toMatch(/aws s3 presign "\$\{RESULTS\}2026-10\/report\.html" --expires-in 3600/);
    expect(readme).toContain('aws s3 cp "${RESULTS}2026-10/" ./2026-10/ --recursive');
    expect(readme).toContain("**A period's outputs are complete only when `<label>/_SUCCESS.json` exists**");
  });
});

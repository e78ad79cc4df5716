import executionInput from '../lib/execution-input.json';
import { FREQUENCIES, SCHEDULE_FLAGS } from '../lib/config';

/** infra/lib/execution-input.json is generated from shared/src/request/fields.rs (checked there). */
describe('the execution input infra reads', () => {
  test('the schedules take the flags the Rust description marks as schedule settings', () => {
    expect(SCHEDULE_FLAGS).toEqual(executionInput.scheduleFlags);
    expect(SCHEDULE_FLAGS).toContain('removeMeta');
  });

  test('each frequency the execution input takes has a schedule (report-schedules.ts cronFor)', () => {
    expect([...FREQUENCIES]).toEqual(executionInput.frequencies);
  });
});
